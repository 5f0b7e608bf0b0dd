"""Simulated fire-safety devices in an urban village, for ``urbanbrain simulate devices`` and the demo.

Three steps, each usable alone:

* :func:`village_fleet`: the devices of a village's coded buildings (one electrical-fire monitor, two smoke
  detectors and one temperature sensor per building by default), the same for the same seed;
* :func:`provision`: the IoT fire rules (when missing) and the fleet's devices (those not yet there), through
  the sensing domain's CSV import, so they are audited like any other provisioning;
* :func:`replay`: a stretch of past time fed straight into an ingestion pipeline of its own, the platform's
  clock following the readings, so alarms are raised, cases opened and owners notified at the simulated
  times. The server must not be running on the same data directory meanwhile (the journal is its own):
  the demo replays before it serves. For a running server, publish over HTTP or MQTT with
  :func:`urbanbrain.simulate.publish.run` instead.

:func:`fire_timeline` tells when a fire's alarms will be raised (the readings are a pure function of the
seed and the clock, so the database's rules judge them ahead of time), and :func:`staged_fire` picks the
live demo's fire so that a smoke warning comes before the confirmed fire.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from urbanbrain.apps.fire_safety import fire_map  # noqa: F401  (registers fire_safety.village_not_found)
from urbanbrain.apps.fire_safety.devices import RULES, do_install_fire_monitoring
from urbanbrain.core import plugins
from urbanbrain.core.auth.principal import SYSTEM
from urbanbrain.core.clock import SimulatedClock
from urbanbrain.core.context import Platform
from urbanbrain.core.errors import UrbanBrainError
from urbanbrain.domains.registry.queries import buildings_in_village
from urbanbrain.domains.sensing import queries as sensing
from urbanbrain.domains.sensing.actions import do_import_devices, rule_spec
from urbanbrain.domains.sensing.engine import RuleEngine, RuleSpec
from urbanbrain.domains.sensing.ingest.pipeline import Pipeline
from urbanbrain.simulate.devices import (
    BuildingRef,
    Fire,
    Fleet,
    Scenario,
    Simulator,
    encode_batch,
)

SHUIWEI = "440304004028-V01"  # 水围村, the seed's urban village (registry demo seed)
IMPORT_CHUNK = 500  # devices per transaction: a short write lock on SQLite


def village_fleet(
    platform: Platform, village_code: str = SHUIWEI, *, limit: int | None = None, seed: int = 0
) -> Fleet:
    """The devices of the village's buildings (the first ``limit`` buildings by code, when given)."""
    with platform.db.session() as session:
        buildings = buildings_in_village(session, village_code)
    if not buildings:
        raise UrbanBrainError("fire_safety.village_not_found", code=village_code)
    refs = [BuildingRef(b["code"], b["lon"], b["lat"], b["community_code"]) for b in buildings[:limit]]
    return Fleet.generate(refs, seed=seed)


def provision(platform: Platform, fleet: Fleet, work_dir: Path) -> dict[str, int]:
    """Install the fire rules when they are missing, then import the devices not yet provisioned."""
    installed = 0
    with platform.db.session() as session:
        if not {r["code"] for r in RULES} <= sensing.rule_codes(session):
            do_install_fire_monitoring(session, platform, SYSTEM)
            installed = 1
        known = sensing.device_ids(session)
    new = Fleet([d for d in fleet.devices if d.device_id not in known])
    work_dir.mkdir(parents=True, exist_ok=True)
    for i in range(0, len(new), IMPORT_CHUNK):
        chunk = work_dir / "fleet-chunk.csv"
        Fleet(new.devices[i : i + IMPORT_CHUNK]).to_csv(chunk)
        with platform.db.session() as session:
            do_import_devices(session, platform, SYSTEM, chunk.read_text(encoding="utf-8"))
        chunk.unlink()
    return {"rules_installed": installed, "devices_added": len(new), "devices": len(fleet)}


def provisioned(platform: Platform) -> int:
    with platform.db.session() as session:
        return sensing.device_count(session)


@dataclass
class ReplayStats:
    ticks: int = 0
    messages: int = 0
    readings: int = 0
    alarms: int = 0
    wall_seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {"ticks": self.ticks, "messages": self.messages, "readings": self.readings,
                "alarms": self.alarms}  # fmt: skip


def replay(
    platform: Platform,
    fleet: Fleet,
    scenarios: list[Scenario],
    *,
    start_ts: float,
    end_ts: float,
    interval_s: float = 60.0,
    seed: int = 0,
) -> ReplayStats:
    """Feed ``start_ts``..``end_ts`` of the fleet's readings through a pipeline of this process.

    ``platform`` must run on a :class:`SimulatedClock` stopped at or before ``start_ts`` (speed 0): before
    each interval's readings go in, the clock moves to the end of the interval, as if they had just
    arrived, and the pipeline is drained, so rules see event time and alarms are raised when they would be.
    """
    clock = platform.clock
    if not isinstance(clock, SimulatedClock):
        raise TypeError("replay needs a platform on a SimulatedClock (speed 0)")
    simulator = Simulator(fleet, scenarios, start_ts=start_ts, interval_s=interval_s, seed=seed)
    plugins.subscribe_consumers(platform)  # what the alarms set off (cases, inboxes) happens as it would live
    pipeline = Pipeline(platform)
    pipeline.start()
    stats = ReplayStats()
    began = time.perf_counter()
    try:
        for tick in simulator.ticks(end_ts):
            due = tick.ts + interval_s - clock.now().timestamp()
            if due > 0:
                clock.advance(due)
            stats.ticks += 1
            stats.messages += len(tick.messages)
            if tick.messages:
                stats.readings += _submit(pipeline, encode_batch(tick.messages))
            pipeline.drain(timeout=300)
            platform.relay.flush()
        stats.alarms = int(pipeline.stats["alarms"])
    finally:
        pipeline.stop()
    stats.wall_seconds = time.perf_counter() - began
    return stats


def _submit(pipeline: Pipeline, body: bytes) -> int:
    while True:
        try:
            return pipeline.submit(body, source="simulator").result(timeout=120).readings
        except UrbanBrainError as exc:
            if exc.code != "sensing.busy":
                raise
            time.sleep(0.01)


def replay_clock(start_ts: float) -> SimulatedClock:
    return SimulatedClock(datetime.fromtimestamp(start_ts, UTC), speed=0)


def active_rules(platform: Platform) -> list[RuleSpec]:
    """The alarm rules the platform runs now, as the engine reads them."""
    with platform.db.session() as session:
        return [rule_spec(r["code"], r["spec"]) for r in sensing.list_rules(session) if r["active"]]


def fire_timeline(
    fleet: Fleet,
    fire: Fire,
    rules: list[RuleSpec],
    *,
    start_ts: float,
    interval_s: float = 60.0,
    seed: int = 0,
) -> dict[str, float]:
    """When each kind of alarm is first raised in the burning building (event time, epoch seconds), for the
    readings a :class:`Simulator` of the same fleet, seed, start and interval sends: the building's readings
    from ``start_ts`` until the fire is out, through a rules engine of its own. A reading is judged at its
    own time, so a live server raises the same alarms at these times, plus its processing delay."""
    members = fleet.by_building[fire.building_code]
    devices = [fleet.devices[i] for i in members]
    engine = RuleEngine(rules)
    engine.set_devices([d.device_id for d in devices], [d.device_type for d in devices],
                       [d.building_code for d in devices])  # fmt: skip
    row = {d.device_id: i for i, d in enumerate(devices)}
    simulator = Simulator(fleet, [fire], start_ts=start_ts, interval_s=interval_s, seed=seed)
    first: dict[str, float] = {}
    for tick in simulator.ticks(fire.start_ts + fire.duration_s):
        idx, names, values, ts = [], [], [], []
        for m in tick.messages:
            if m["device"] in row:
                for name, value in m["values"].items():
                    idx.append(row[m["device"]])
                    names.append(name)
                    values.append(value)
                    ts.append(m["ts"])
        if idx:
            for t in engine.evaluate(idx, names, values, ts).transitions:
                if t.kind == "raise":
                    first.setdefault(t.alarm_type, t.event_ts)
    return first


def staged_fire(
    fleet: Fleet,
    building_code: str,
    rules: list[RuleSpec],
    *,
    start_ts: float,
    not_before: float,
    interval_s: float = 60.0,
    seed: int = 0,
    smoke_lead_s: float = 15.0,
) -> tuple[Fire, dict[str, float]]:
    """A fire in ``building_code`` starting at ``not_before`` or within the minute after, at the first
    second (in steps of 5) whose smoke warning comes at least ``smoke_lead_s`` before the confirmed fire, as
    a fire seen by the first smoke detector does; with its :func:`fire_timeline`. In about one start of
    three the temperature rise comes with the smoke, and the stream would show nothing before the fire."""
    best: tuple[Fire, dict[str, float]] | None = None
    for step in range(0, 60, 5):
        fire = Fire(building_code, float(not_before + step))
        timeline = fire_timeline(fleet, fire, rules, start_ts=start_ts, interval_s=interval_s, seed=seed)
        if best is None:
            best = (fire, timeline)
        if "fire" in timeline and timeline["fire"] - timeline.get("smoke", math.inf) >= smoke_lead_s:
            return fire, timeline
    assert best is not None
    return best
