"""The crowd zones at work: readings of their inputs come from the sensing platform's writer thread (a
readings tap); each zone's estimator applies them in event time, and at each tick the zone's state is
written and its warnings raised or cleared as sensing alarms, in one transaction.

One engine per process (``platform.caches``). It loads the zones at start and again when a zone is saved
(the ``crowd.zone.saved`` event, heard on the bus in every process). A zone's estimator lives in memory and
its state is written at every tick: after a restart it takes up the kept state (occupancy, uncertainty, each
counter's rates) and the zone's open warnings, if the zone's next message comes within a quarter of an hour
of it."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from urbanbrain.core.context import Platform
from urbanbrain.domains.crowd.devices import ROLE_TYPES
from urbanbrain.domains.crowd.estimate import Resume, Snapshot, ZoneEstimator
from urbanbrain.domains.crowd.models import Zone, ZoneInput, ZoneState
from urbanbrain.domains.crowd.queries import thresholds
from urbanbrain.domains.crowd.warnings import FORECAST, Change, ZoneWarnings
from urbanbrain.domains.sensing import actions as sensing
from urbanbrain.domains.sensing import queries as sensing_queries
from urbanbrain.domains.sensing.schemas import AlarmChange

CACHE_KEY = "crowd.engine"
CRUSH_CASE = "E0401"  # 人员密集踩踏风险 (police): the class of the case an orange or red warning opens
TITLES = {
    "crowd.density": ("人群密度{level}预警：{zone}", "Crowd density {level} warning: {zone}"),
    "crowd.forecast": ("人群密度预测预警：{zone} 约 {minutes} 分钟后达到 {danger} 人/㎡",
                       "Crowd forecast: {zone} reaches {danger} persons/m² in about {minutes} min"),
}  # fmt: skip


@dataclass
class _Zone:
    id: int
    code: str
    name: str
    lon: float
    lat: float
    community_code: str | None
    signature: tuple[Any, ...]  # what the estimator was built from: a change rebuilds it
    estimator: ZoneEstimator
    warnings: ZoneWarnings


class CrowdEngine:
    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self._lock = threading.Lock()
        self.zones: dict[int, _Zone] = {}
        self.by_device: dict[str, list[int]] = {}

    # ---- zones -------------------------------------------------------------------------------------------
    def load(self, forget: str | None = None) -> None:
        """(Re)read the zones; a zone whose outline, area, thresholds and inputs are unchanged keeps its
        estimate, unless it is ``forget`` (its kept estimate was dropped: it starts afresh)."""
        with self.platform.db.sessionmaker() as session:
            zones = list(session.scalars(select(Zone)))
            inputs: dict[int, dict[str, str]] = {}
            for i in session.scalars(select(ZoneInput)):
                inputs.setdefault(i.zone_id, {})[i.device_id] = i.role
            states = {s.zone_id: s for s in session.scalars(select(ZoneState))}
            raised: dict[str, dict[str, str]] = {}  # zone code -> its open warnings, type -> level
            for a in session.scalars(sensing_queries.alarms_stmt(open_only=True, origin_prefix="crowd:")):
                raised.setdefault(a.origin.removeprefix("crowd:"), {})[a.alarm_type] = a.level
        with self._lock:
            kept: dict[int, _Zone] = {}
            for z in zones:
                t = thresholds(z)
                feeds = inputs.get(z.id, {})
                signature = (z.area_m2, t.density, tuple(sorted(feeds.items())))
                old = self.zones.get(z.id)
                if old is not None and old.signature == signature and z.code != forget:
                    kept[z.id] = old
                    continue
                estimator = ZoneEstimator(z.area_m2, feeds, danger=t.danger)
                state = states.get(z.id)
                if state is not None:  # a restart, or a zone changed: take up where it was
                    gates = {d: (r[0], r[1]) for d, r in (state.gates or {}).items()}
                    estimator.resume(Resume(state.as_of.timestamp(), state.occupancy, state.sd, gates))
                warnings = ZoneWarnings(t, open=dict(raised.get(z.code, {})))
                kept[z.id] = _Zone(
                    z.id, z.code, z.name, z.lon, z.lat, z.community_code, signature, estimator, warnings
                )
            self.zones = kept
            self.by_device = {}
            for zone in kept.values():
                for device in zone.estimator.inputs:
                    self.by_device.setdefault(device, []).append(zone.id)

    # ---- readings ----------------------------------------------------------------------------------------
    def on_messages(self, messages: list[tuple[str, float, dict[str, float]]]) -> None:
        """Readings of the zones' inputs (from the sensing tap): apply, judge each tick, write."""
        touched: set[int] = set()
        with self._lock:
            for device, ts, values in messages:
                for zone_id in self.by_device.get(device, ()):
                    self.zones[zone_id].estimator.add(device, ts, values)
                    touched.add(zone_id)
            self._judge(touched, until=None)

    def advance(self, until: float) -> None:
        """Judge every zone up to event time ``until`` (the end of a replay; tests)."""
        with self._lock:
            self._judge(set(self.zones), until=until)

    def _judge(self, zone_ids: set[int], until: float | None) -> None:
        work: list[tuple[_Zone, Snapshot, list[Change]]] = []
        for zone_id in sorted(zone_ids):
            zone = self.zones[zone_id]
            snaps = zone.estimator.advance(until)
            if not snaps:
                continue
            changes = [c for snap in snaps for c in zone.warnings.judge(snap)]
            work.append((zone, snaps[-1], changes))
        if work:
            self._write(work)

    def _write(self, work: list[tuple[_Zone, Snapshot, list[Change]]]) -> None:
        now = self.platform.clock.now()
        with self.platform.db.session() as session:
            for zone, snap, _ in work:
                state = session.get(ZoneState, zone.id) or ZoneState(zone_id=zone.id)
                state.as_of = datetime.fromtimestamp(snap.at, UTC)
                state.occupancy, state.density, state.sd = snap.occupancy, snap.density, snap.sd
                state.flow_per_min, state.minutes_to_danger = snap.flow_per_min, snap.minutes_to_danger
                state.level = zone.warnings.thresholds.level(snap.density)
                state.forecast = [
                    {"minutes_ahead": f.minutes_ahead, "density": f.density, "low": f.low, "high": f.high}
                    for f in snap.forecast
                ]
                state.gates = {device: [i, o] for device, (i, o) in snap.gates.items()}
                state.updated_at = now
                session.add(state)
            changes = [_alarm(zone, c) for zone, _, cs in work for c in cs]
            raised = sensing.do_record_alarm_changes(session, self.platform, changes) if changes else None
        if raised:
            sensing.count_raised_alarms(self.platform, raised)


def _alarm(zone: _Zone, c: Change) -> AlarmChange:
    snap = c.snapshot
    minutes = c.detail.get("minutes_to_danger")
    zh, en = TITLES[c.alarm_type]
    fields = {
        "level": c.level,
        "zone": zone.name,
        "minutes": minutes,
        "danger": c.detail.get("danger_density"),
    }
    return AlarmChange(
        kind=c.kind,  # type: ignore[arg-type]
        origin=f"crowd:{zone.code}"[:64],
        scope="zone",
        alarm_type=c.alarm_type,
        rule_code=c.alarm_type,
        level=c.level,
        severity="critical" if c.level in ("orange", "red") else "major",
        event_ts=snap.at,
        measurement="density",
        value=round(snap.density, 3),
        detail={
            **c.detail,
            "zone_code": zone.code,
            "zone_name": zone.name,
            "forecast": [[f.minutes_ahead, round(f.density, 3)] for f in snap.forecast],
        },  # fmt: skip
        case_category=CRUSH_CASE if c.kind == "raise" and c.level in ("orange", "red") else None,
        description=f"{zh.format(**fields)} / {en.format(**fields)}",
        lon=zone.lon,
        lat=zone.lat,
        community_code=zone.community_code,
        address=zone.name,
    )


def engine(platform: Platform) -> CrowdEngine:
    """The process's crowd engine (made and loaded on first use)."""
    found: CrowdEngine | None = platform.caches.get(CACHE_KEY)
    if found is None:
        found = platform.caches[CACHE_KEY] = CrowdEngine(platform)
        found.load()
    return found


def start(platform: Platform) -> None:
    """Watch the zones' inputs and their changes (called when the API starts)."""
    e = engine(platform)
    sensing.watch_readings(platform, set(ROLE_TYPES.values()), e.on_messages)
    platform.bus.listen(
        "crowd.zone.saved",
        lambda event: e.load(forget=event.payload.get("code") if event.payload.get("forgotten") else None),
    )


__all__ = ["FORECAST", "CrowdEngine", "engine", "start"]
