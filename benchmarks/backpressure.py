"""Backpressure by default (issue 14): the server's memory over bursts of large bodies, at the default pending
limit (sized to the machine's memory) beside the old default (a million readings) in the same run.

The outside test sent 200 concurrent bodies of 15,000 readings: all were taken into memory, the server's RSS
went from 843 to 1,220 MiB and did not come back between bursts. Here, for each setting in turn, a fresh
``urbanbrain serve`` on one SQLite platform (the district at scale 0.05, the fire rules, ``--devices``
electrical-fire monitors) gets ``--bursts`` bursts; a burst is ``--conns`` connections each posting one body
of ``--readings`` readings at once (new message ids, stamped now), resending after ``Retry-After`` when
answered 429, as a well-behaved sender does. The server's resident memory (``/proc/<pid>/status``) is
sampled every 20 ms. Per burst: the peak, and the memory once all was processed and checkpointed; the 429s.

Three settings: the default on this machine, the default a 2 GiB server would get (set explicitly), and the
old default pending limit. The door's budget of body bytes (a quarter of the pending limit's memory) follows
each setting. Target: RSS bounded over the bursts at the default (the peak of the last burst no higher than
the first's, plus noise, and the settled memory not growing burst on burst), at a lower peak than the old
default's.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import tempfile
import threading
import time
from pathlib import Path

import msgspec
import numpy as np
from _server import bearer, post, processed, start_server, wait_processed
from ingest import MEASURES, prepare

from urbanbrain.core.config import pending_readings_for_memory

MIB = 1 << 20
Row = tuple[int, int, int, float]  # peak RSS, settled RSS, 429 answers, seconds


def calm_bodies(ids: list[str], phase: str, conns: int, per_body: int) -> list[bytes]:
    """``conns`` JSON-array bodies of ``per_body`` messages of two calm readings each (new ids, stamped now).
    Calm: a device's messages in a burst are a millisecond apart, so any noise in its cable temperature would
    be a steep trend to the forecast rule and each burst an alarm storm (measured: 40,000 alarms in three
    minutes, the pipeline then bound by their transactions); this measures the pipeline's memory, not that."""
    rng = np.random.default_rng(len(phase))
    enc, n, t0 = msgspec.json.Encoder(), len(ids), time.time() - 30
    out = []
    for b in range(conns):
        first = b * per_body
        rc = np.round(rng.uniform(10, 120, per_body), 1).tolist()
        msgs = [{"id": f"{phase}{k}", "device": ids[k % n], "ts": t0 + (k // n) * 0.001,
                 "values": {MEASURES[0]: rc[k - first], MEASURES[1]: 30.0}} for k in range(first, first + per_body)]  # fmt: skip
        out.append(enc.encode(msgs))
    return out


def rss(pid: int) -> int:
    """The process's resident memory in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


class Sampler:
    """The peak RSS of a process since the last :meth:`reset`, sampled on a thread of its own."""

    def __init__(self, pid: int, period: float = 0.02) -> None:
        self.pid, self.period, self.peak = pid, period, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            with contextlib.suppress(OSError):
                self.peak = max(self.peak, rss(self.pid))
            time.sleep(self.period)

    def reset(self) -> None:
        self.peak = rss(self.pid)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


async def burst(port: int, headers: bytes, payloads: list[bytes]) -> tuple[int, int]:
    """Every body at once, one connection each; a 429 is resent after its Retry-After. Returns (readings
    accepted, 429 answers)."""
    accepted = refused = 0

    async def one(body: bytes) -> None:
        nonlocal accepted, refused
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while True:
                status, data = await post(reader, writer, port, headers, body)
                if status == 202:
                    accepted += msgspec.json.decode(data)["readings"]
                    return
                if status != 429:
                    raise RuntimeError(f"HTTP {status}: {data[:300]!r}")
                refused += 1
                await asyncio.sleep(1.0)  # the door's Retry-After
        finally:
            writer.close()

    await asyncio.gather(*(one(b) for b in payloads))
    return accepted, refused


def run_setting(label: str, pending: str | None, url: str, data_dir: Path, key: str, ids: list[str],
                per_body: int, conns: int, bursts: int) -> list[Row]:  # fmt: skip
    """The bursts against a fresh server."""
    if pending is None:
        os.environ.pop("URBANBRAIN_SENSING_MAX_PENDING", None)
    else:
        os.environ["URBANBRAIN_SENSING_MAX_PENDING"] = pending
    server, base = start_server(url, data_dir)
    out: list[Row] = []
    try:
        auth, port = bearer(base), int(base.rsplit(":", 1)[1])
        headers = f"X-API-Key: {key}\r\n".encode()
        sampler = Sampler(server.pid)
        print(f"{label}: server RSS at start {rss(server.pid) / MIB:,.0f} MiB", flush=True)
        try:
            for n in range(bursts):
                # Fresh ids, stamped now: each burst is new traffic, as a district's would be.
                payloads = calm_bodies(ids, f"{data_dir.name}{n}-", conns, per_body)
                before = processed(base, auth)
                sampler.reset()
                t0 = time.perf_counter()
                accepted, refused = asyncio.run(burst(port, headers, payloads))
                wait_processed(base, auth, before + accepted, timeout=600)
                seconds = time.perf_counter() - t0
                time.sleep(
                    3.0
                )  # a checkpoint (2 s) after the last reading: the idle server gives memory back
                settled = rss(server.pid)
                out.append((sampler.peak, settled, refused, seconds))
                print(f"  burst {n + 1:>2}: peak {sampler.peak / MIB:>7,.0f} MiB, settled {settled / MIB:>7,.0f} "
                      f"MiB, {refused:>5} answered 429, {accepted:,} readings in {seconds:.1f} s", flush=True)  # fmt: skip
        finally:
            sampler.stop()
    finally:
        server.terminate()
        server.wait(timeout=120)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--bursts", type=int, default=10)
    ap.add_argument("--conns", type=int, default=200, help="bodies posted at once in a burst")
    ap.add_argument("--readings", type=int, default=15_000, help="readings per body (two per message)")
    ap.add_argument("--devices", type=int, default=2000)
    ap.add_argument("--old", default="1000000", help="the old default pending limit, run beside")
    a = ap.parse_args(argv)
    small = str(pending_readings_for_memory(2 << 30))
    settings = [
        (f"default here ({pending_readings_for_memory():,})", None, "here"),
        (f"default of a 2 GiB server ({int(small):,})", small, "small"),
        (f"old default ({int(a.old):,})", a.old, "old"),
    ]
    results: dict[str, list[Row]] = {}
    with tempfile.TemporaryDirectory(prefix="ub-backpressure-") as tmp:
        root = Path(tmp)
        url = f"sqlite:///{root / 'bench.sqlite3'}"
        key, ids = prepare(url, root, a.devices)
        per_body = a.readings // 2
        size = len(calm_bodies(ids, "size", 1, per_body)[0])
        print(f"{a.bursts} bursts of {a.conns} bodies × {per_body * 2:,} readings "
              f"({size * a.conns / MIB:,.0f} MiB of JSON per burst)", flush=True)  # fmt: skip
        for label, pending, sub in settings:
            results[label] = run_setting(
                label, pending, url, root / sub, key, ids, per_body, a.conns, a.bursts
            )
    print(f"\n{'setting':<38}{'peak max':>10}{'peak 1st':>10}{'peak last':>10}{'settled 1st':>13}"
          f"{'settled last':>14}{'429s':>7}")  # fmt: skip
    for label, rows in results.items():
        peaks, settled = [r[0] / MIB for r in rows], [r[1] / MIB for r in rows]
        print(f"{label:<38}{max(peaks):>10,.0f}{peaks[0]:>10,.0f}{peaks[-1]:>10,.0f}{settled[0]:>13,.0f}"
              f"{settled[-1]:>14,.0f}{sum(r[2] for r in rows):>7,}")  # fmt: skip
    here, small_rows, old = results.values()
    old_growth = (old[-1][1] - old[0][1]) / MIB
    for label, rows in (("default here", here), ("default of a 2 GiB server", small_rows)):
        ratio = max(r[0] for r in rows) / max(r[0] for r in old)
        growth = (rows[-1][1] - rows[0][1]) / MIB
        print(f"{label}: peak RSS / old default's {ratio:.2f}; settled RSS first to last burst {growth:+,.0f} MiB "
              f"(old default {old_growth:+,.0f} MiB)")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
