"""Randomised crowd scenario sets for the warning benchmark: ``tune`` (for whoever tunes the warning rules),
``report`` (for the table) and ``holdout`` (drawn once the report set had been looked at while tuning: run
once, never tuned on). All are drawn from the same recipe with different generators, and their runs' seeds
are apart (tune even, report odd, holdout odd past 100,000), so no scenario is in two.

Each set mixes the three venues, exit widths and closed exits, inflow ramps, plateaus and surges, counter
noise and drop-outs of several minutes. About half are meant to become dangerous (the people who arrive and
stay outgrow the zone: 5 p/m² or more) and half to stay safe (under 4); the truth is the run's record:
``Result.danger_at_s`` is when the true density first reached 5 p/m² (None for a safe run).

Runs are cached as JSON under a folder the caller gives, keyed by the scenario's hash (and the measures).
"""

from __future__ import annotations

import hashlib
import json
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import jupedsim
import numpy as np

from urbanbrain.domains.crowd.physics import Crowd, Inflow, Measure, Record, run
from urbanbrain.simulate.crowd import devices
from urbanbrain.simulate.crowd.devices import Message, Noise
from urbanbrain.simulate.crowd.venues import Venue, venue

SetName = Literal["tune", "report", "holdout"]
# the runs' seeds: tune even, report odd, holdout (drawn after the report set had been looked at, never
# tuned on or looked at before its one run) odd and offset past the others
SETS: dict[str, int] = {"tune": 0, "report": 1, "holdout": 2}
SEED_OFFSET = {"tune": 0, "report": 1, "holdout": 100_001}
DANGER = 5.0
CACHE_VERSION = 1  # bump when a change to the simulation changes its records
STOP_AFTER_DANGER_S = 300.0
DWELL_S = {"civic_plaza": (900.0, 1500.0), "metro_exit": (240.0, 480.0), "pedestrian_street": (480.0, 900.0)}


@dataclass(frozen=True)
class Scenario:
    key: str  # tune-07
    venue: str
    intent: Literal["safe", "dangerous"]  # what the recipe aimed at; the record says what happened
    seed: int
    duration_s: float
    inflow: Inflow
    crowd: Crowd
    noise: Noise
    exit_width_factor: float = 1.0
    closed_exits: tuple[str, ...] = ()
    notes: str = ""
    measures: tuple[Measure, ...] = field(default=())

    def site(self) -> Venue:
        return venue(self.venue).with_exit_widths(self.exit_width_factor).with_closed(self.closed_exits)

    def hash(self, measures: tuple[Measure, ...] = ()) -> str:
        data = {
            "v": CACHE_VERSION,
            "jupedsim": jupedsim.__version__,
            **asdict(self),
            "extra": [asdict(m) for m in measures],
        }
        data.pop("key")
        return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()[:16]

    def run(self, measures: tuple[Measure, ...] = ()) -> Record:
        return run(
            self.site(),
            self.inflow,
            duration_s=self.duration_s,
            measures=(*self.measures, *measures),
            crowd=self.crowd,
            seed=self.seed,
            stop_after_danger_s=STOP_AFTER_DANGER_S,
            danger_density=DANGER,
        )

    def cache_path(self, cache_dir: Path, measures: tuple[Measure, ...] = ()) -> Path:
        """Where :meth:`record` keeps the run (with these measures) under ``cache_dir``."""
        return Path(cache_dir) / f"{self.venue}-{self.hash(measures)}.json"

    def record(self, cache_dir: Path | None, measures: tuple[Measure, ...] = ()) -> Record:
        """The run's record, from ``cache_dir`` when it was run before (with the same measures)."""
        if cache_dir is None:
            return self.run(measures)
        path = self.cache_path(cache_dir, measures)
        if path.exists():
            return Record.from_json(json.loads(path.read_text()))
        rec = self.run(measures)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(rec.to_json()))
        tmp.replace(path)
        return rec


@dataclass
class Result:
    scenario: Scenario
    record: Record

    @property
    def danger_at_s(self) -> float | None:
        """When the true density first reached 5 p/m² (None: never)."""
        return self.record.first_reaching(DANGER)

    @property
    def dangerous(self) -> bool:
        return self.danger_at_s is not None

    def messages(self, start_ts: float) -> list[Message]:
        return devices.messages(
            self.scenario.site(),
            self.record,
            start_ts=start_ts,
            seed=self.scenario.seed,
            noise=self.scenario.noise,
        )


def _scenario(which: SetName, i: int) -> Scenario:
    rng = np.random.default_rng([SETS[which], 17, i])
    code = ("civic_plaza", "metro_exit", "pedestrian_street")[i % 3]
    dangerous = (i // 3) % 2 == 0
    area = venue(code).zone_area_m2
    lo, hi = DWELL_S[code]
    dwell = float(rng.uniform(lo, hi))
    # the metro exit fills within a stay of 4-8 minutes: a longer build-up keeps its danger 14+ minutes in
    rise = float(rng.uniform(20, 28) if code == "metro_exit" else rng.uniform(12, 20)) * 60
    # Little's law: arrivals x stay = persons present once the plateau has lasted a stay
    # (a crowd also slows those leaving, so the present outgrow this: a safe metro evening planned at 2.6
    # p/m² peaked at 4.5)
    ratio = float(rng.uniform(7.0, 10.0) if dangerous else rng.uniform(1.2, 2.4))
    peak = ratio * area / (dwell / 60.0)
    inflow = Inflow.evening(peak, rise, base_per_min=peak * 0.05)
    notes = [f"peak {peak:.0f}/min after {rise / 60:.0f} min, stay {dwell / 60:.0f} min"]
    if code == "metro_exit" or rng.random() < 0.3:  # trains emptying, or a show ending nearby
        for k in range(int(rng.integers(1, 4))):
            at = float(rng.uniform(0.3, 0.9)) * rise + k * 240
            extra = peak * float(rng.uniform(0.5, 1.5)) * (1.0 if dangerous else 0.25)
            inflow = inflow.with_surge(at, extra, float(rng.uniform(40, 90)))
        notes.append("surges")
    crowd = Crowd(dwell_mean_s=dwell, dwell_min_s=min(60.0, dwell / 3))
    if not dangerous and code == "civic_plaza" and rng.random() < 0.5:
        crowd = replace(crowd, leave_all_at_s=float(rng.uniform(0.7, 0.9)) * 2400)
        notes.append("the show ends")
    duration = (dwell + 5.0 * rise / ratio + 900.0) if dangerous else float(rng.uniform(30, 40)) * 60
    hand: list[tuple[str, float, float]] = []
    if rng.random() < 0.5:  # an entrance counter out for several minutes while the crowd builds
        start = float(rng.uniform(0.3, 0.7)) * duration
        hand.append(("E1", start, start + float(rng.uniform(180, 600))))
        notes.append("E1 counter out")
    noise = Noise(
        counter_miss_high_flow=float(rng.uniform(0.03, 0.12)),
        camera_miss_at_5=float(rng.uniform(0.2, 0.35)),
        dropouts_per_hour=float(rng.uniform(0.0, 1.2)),
        dropouts=tuple(hand),
    )
    closed = ("X2",) if rng.random() < 0.25 else ()
    return Scenario(
        key=f"{which}-{i:02d}",
        venue=code,
        intent="dangerous" if dangerous else "safe",
        seed=2 * (1000 * (i + 1) + int(rng.integers(0, 1000))) + SEED_OFFSET[which],
        duration_s=round(min(duration, 3000.0)),
        inflow=inflow,
        crowd=crowd,
        noise=noise,
        exit_width_factor=round(float(rng.uniform(0.7, 1.3)), 2),
        closed_exits=closed,
        notes="; ".join(notes),
    )


def scenarios(which: SetName, n: int = 30) -> list[Scenario]:
    """The ``which`` set's first ``n`` scenarios (the same every time)."""
    if which not in SETS:
        raise ValueError(f"no scenario set {which!r}: tune, report or holdout")
    return [_scenario(which, i) for i in range(n)]


def _record(args: tuple[Scenario, str | None, tuple[Measure, ...]]) -> dict[str, Any]:
    s, cache, measures = args
    return s.record(Path(cache) if cache else None, measures).to_json()


def run_set(
    which: SetName,
    cache_dir: Path | None,
    *,
    n: int = 30,
    workers: int = 1,
    measures: tuple[Measure, ...] = (),
) -> list[Result]:
    """Run (or read from the cache) the set's scenarios, ``workers`` processes at a time."""
    chosen = scenarios(which, n)
    jobs = [(s, str(cache_dir) if cache_dir else None, measures) for s in chosen]
    if workers > 1:
        with ProcessPoolExecutor(workers) as pool:
            records = list(pool.map(_record, jobs))
    else:
        records = [_record(j) for j in jobs]
    return [Result(s, Record.from_json(r)) for s, r in zip(chosen, records, strict=True)]


def evening(
    code: str = "civic_plaza", minutes: float = 60.0, *, dangerous: bool = True, seed: int = 1
) -> Scenario:
    """The demo's evening at a venue: arrivals build up over two thirds of it; ``dangerous``, the people who
    stay outgrow the zone (true density reaches 5 p/m² some 20-30 minutes in, as the suite's dangerous
    scenarios do); otherwise they peak near 2.5 p/m²."""
    area = venue(code).zone_area_m2
    dwell = sum(DWELL_S[code]) / 2
    ratio = 8.0 if dangerous else 2.5
    peak = ratio * area / (dwell / 60.0)
    rise = min(20 * 60.0, minutes * 40.0)
    return Scenario(
        key=f"evening-{code}",
        venue=code,
        intent="dangerous" if dangerous else "safe",
        seed=seed,
        duration_s=minutes * 60.0,
        inflow=Inflow.evening(peak, rise, base_per_min=peak * 0.05),
        crowd=Crowd(dwell_mean_s=dwell, dwell_min_s=60.0),
        noise=Noise(dropouts=(("E1", rise * 0.8, rise * 0.8 + 300),)),
        notes=f"peak {peak:.0f}/min after {rise / 60:.0f} min, stay {dwell / 60:.0f} min",
    )
