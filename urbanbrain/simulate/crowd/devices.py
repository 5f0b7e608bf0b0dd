"""Virtual crowd devices: what real counters, cameras and phone-signal estimates would send, made from a run's
true record with their usual faults. Every draw comes from a generator seeded by (seed, device id), so a
device's messages do not depend on which other devices exist.

- ``line_counter`` (``<prefix>-E1``, ``-X1``): every interval, ``in`` and ``out``, the persons who crossed its
  line since its previous message; a few % noise, misses rising with the flow. During a drop-out it sends
  nothing, and what crossed meanwhile is lost: its first message after coming back counts only the interval
  since it came back (a counter that rebooted; one that buffers would send the total instead).
- ``crowd_camera`` (``-CAM1``): every interval, ``head_count``, the persons in view now; misses people
  hidden by others (none at 1 p/m², about 28% at 5), counts a few twice at the edges, gaussian noise.
- ``cell_signal`` (``-CELL1``): every ``cell_interval_s``, ``persons`` in the coarse cell around the venue
  (corridors, streets and the queue outside included), scaled (market share), late by ``cell_lag_s``, noisy.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import Any

import numpy as np

from urbanbrain.domains.crowd.physics import Record
from urbanbrain.simulate.crowd.venues import Venue

Message = dict[str, Any]


@dataclass(frozen=True)
class Noise:
    """How the virtual devices err. ``dropouts`` adds drop-outs by hand: (device id suffix such as ``E1``,
    from s, to s of simulated time)."""

    counter_double: float = 0.015  # a person counted twice
    counter_miss: float = 0.01  # missed at any flow
    counter_miss_high_flow: float = 0.08  # missed at >= 60 persons/min per metre of line
    camera_miss_at_5: float = 0.28  # at 5 p/m²; none at 1, linear between, capped at 6 p/m²
    camera_edge_extra: float = 2.0  # mean heads counted twice where views overlap or at the frame's edge
    camera_sd: float = 0.04  # relative
    cell_interval_s: float = 60.0
    cell_lag_s: float = 180.0
    cell_scale: float = 0.85
    cell_sd: float = 0.08
    dropouts_per_hour: float = 0.4  # per device
    dropout_min_s: float = 180.0
    dropout_max_s: float = 480.0
    dropouts: tuple[tuple[str, float, float], ...] = ()


QUIET = Noise(
    counter_double=0,
    counter_miss=0,
    counter_miss_high_flow=0,
    camera_miss_at_5=0,
    camera_edge_extra=0,
    camera_sd=0,
    cell_lag_s=0,
    cell_scale=1,
    cell_sd=0,
    dropouts_per_hour=0,
)


@dataclass(frozen=True)
class VirtualDevice:
    device_id: str
    type_code: str
    role: str  # entrance, exit, camera, cell: the zone input's role
    source: str  # the gate or camera code, or "cell"
    lon: float
    lat: float


def virtual_devices(venue: Venue) -> list[VirtualDevice]:
    """The venue's devices: a counter on each entrance and exit (closed exits too), each camera, one cell."""
    out = []
    for role, gates in (("entrance", venue.entrances), ("exit", venue.exits)):
        for g in gates:
            c = g.corridor.centroid
            mid = ((g.line[0][0] + g.line[1][0]) / 2 + c.x) / 2, ((g.line[0][1] + g.line[1][1]) / 2 + c.y) / 2
            out.append(
                VirtualDevice(
                    f"{venue.prefix}-{g.code}", "line_counter", role, g.code, *venue.to_lonlat(*mid)
                )
            )
    for cam in venue.cameras:
        c = cam.coverage.centroid
        out.append(
            VirtualDevice(
                f"{venue.prefix}-{cam.code}", "crowd_camera", "camera", cam.code, *venue.to_lonlat(c.x, c.y)
            )
        )
    out.append(
        VirtualDevice(f"{venue.prefix}-CELL1", "cell_signal", "cell", "cell", *venue.to_lonlat(0.0, 0.0))
    )
    return out


def _rng(seed: int, device_id: str) -> np.random.Generator:
    return np.random.default_rng([seed, zlib.crc32(device_id.encode())])


def outages(device: VirtualDevice, duration_s: float, seed: int, noise: Noise) -> list[tuple[float, float]]:
    """The device's drop-outs, (from s, to s): random ones and those ``noise.dropouts`` names."""
    rng = _rng(seed, device.device_id + "/dropouts")
    n = int(rng.poisson(noise.dropouts_per_hour * duration_s / 3600.0))
    spans = []
    for _ in range(n):
        start = float(rng.uniform(0, duration_s))
        spans.append((start, start + float(rng.uniform(noise.dropout_min_s, noise.dropout_max_s))))
    suffix = device.device_id.rsplit("-", 1)[-1]
    spans += [(a, b) for who, a, b in noise.dropouts if who in (suffix, device.device_id)]
    return sorted(spans)


def _down(t: float, spans: list[tuple[float, float]]) -> bool:
    return any(a <= t < b for a, b in spans)


def _counted(rng: np.random.Generator, n: int, per_min_per_m: float, noise: Noise) -> int:
    miss = noise.counter_miss + noise.counter_miss_high_flow * min(
        1.0, max(0.0, (per_min_per_m - 20.0) / 40.0)
    )
    return int(rng.binomial(n, 1.0 - miss) + rng.binomial(n, noise.counter_double)) if n else 0


def camera_miss_rate(density: float, noise: Noise) -> float:
    """The share of people a camera misses at ``density`` p/m² in its view (occlusion)."""
    return noise.camera_miss_at_5 * min(1.25, max(0.0, (density - 1.0) / 4.0))


def messages(
    venue: Venue, record: Record, *, start_ts: float, seed: int = 0, noise: Noise | None = None
) -> list[Message]:
    """Every virtual device's messages for the run, ``ts`` = ``start_ts`` + simulated time, in time order.
    A message's id is ``<device>-<ts>``: the same run resent is recognised as a repeat."""
    noise = noise or Noise()
    duration = record.t_s[-1] if record.t_s else 0.0
    step = record.interval_s
    out: list[Message] = []

    def emit(device: VirtualDevice, t: float, values: dict[str, int]) -> None:
        ts = start_ts + t
        out.append(
            {"id": f"{device.device_id}-{int(ts)}", "device": device.device_id, "ts": ts, "values": values}
        )

    for d in virtual_devices(venue):
        rng = _rng(seed, d.device_id)
        down = outages(d, duration, seed, noise)
        if d.type_code == "line_counter":
            width = venue.gate(d.source).width_m
            for t, n_in, n_out in zip(
                record.t_s, record.gate_in[d.source], record.gate_out[d.source], strict=True
            ):
                flow = (n_in + n_out) * 60.0 / step / width
                counted = {"in": _counted(rng, n_in, flow, noise), "out": _counted(rng, n_out, flow, noise)}
                # drawn whether or not it is sent, so a drop-out does not shift the other messages' noise
                if not _down(t, down) and not _down(t - step, down):
                    emit(d, t, counted)
        elif d.type_code == "crowd_camera":
            area = record.camera_area_m2[d.source]
            for t, n in zip(record.t_s, record.camera[d.source], strict=True):
                seen = rng.binomial(n, 1.0 - camera_miss_rate(n / area, noise)) if n else 0
                seen += rng.poisson(noise.camera_edge_extra) if n else 0
                seen += round(rng.normal(0.0, noise.camera_sd * n)) if noise.camera_sd and n else 0
                if not _down(t, down):
                    emit(d, t, {"head_count": max(0, int(seen))})
        else:
            lag = round(noise.cell_lag_s / step)
            every = max(1, round(noise.cell_interval_s / step))
            for i in range(every - 1, len(record.t_s), every):
                true = record.cell[max(0, i - lag)]
                value = max(0, round(noise.cell_scale * true * (1.0 + rng.normal(0.0, noise.cell_sd))))
                if not _down(record.t_s[i], down):
                    emit(d, record.t_s[i], {"persons": int(value)})
    out.sort(key=lambda m: (m["ts"], m["device"]))
    return out
