"""The pipeline's view of the database: the devices and rules it works from, re-read when they change."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from urbanbrain.core.context import Platform
from urbanbrain.domains.registry import queries as registry
from urbanbrain.domains.sensing.actions import key_hash, rule_spec
from urbanbrain.domains.sensing.alarms import Place
from urbanbrain.domains.sensing.engine import RuleEngine, RuleSpec
from urbanbrain.domains.sensing.ingest.partition import partition_key
from urbanbrain.domains.sensing.ingest.wire import DeviceInfo
from urbanbrain.domains.sensing.models import Device, DeviceType, Rule

RELOAD_SECONDS = 2.0  # how often other processes' device and rule changes are looked for
MISS_SECONDS = 2.0  # an unknown device id is looked up in the database at most this often


def read_only(session: Session) -> None:
    """A read that must not wait for SQLite's write lock (the request asking may hold it itself)."""
    if session.get_bind().dialect.name == "sqlite":
        session.connection(execution_options={"sqlite_begin": "DEFERRED"})


class Catalog:
    """Devices by id (with their engine index, which never changes), keys, places and rules."""

    def __init__(self, owns: Callable[[str], bool] | None = None) -> None:
        self.owns = owns  # a worker of some partitions: only the devices of its partition keys (partition.py)
        self.ids: list[str] = []
        self.index: dict[str, int] = {}
        self.types: list[str | None] = []
        self.groups: list[str | None] = []  # each device's building, for the engine's composite rules
        self.partition_groups: dict[str, str] = {}  # device id -> its partition group, for those with one
        self.active: dict[str, DeviceInfo] = {}
        self.keys: dict[str, str] = {}
        self.places: dict[str, Place] = {}
        self.categories: dict[str, str | None] = {}
        self.descriptions: dict[str, str] = {}  # rule code -> its description, "中文 / English"
        self.measurements: dict[str, frozenset[str]] = {}
        self.ranges: dict[str, dict[str, tuple[float, float]]] = {}  # type → measurement → measuring range
        self._range_table: tuple[Any, ...] | None = None
        self.changed_since_sync = False
        self._marks: dict[str, Any] = {}
        self._misses: dict[str, float] = {}
        self._codes: dict[str, int] = {}
        self._codes_of: int = 0
        self._id_array: pa.Array | None = None
        self._lock = threading.Lock()

    # -- lookups from the doors (any thread) -----------------------------------------------------------

    def device(self, device_id: str, platform: Platform) -> DeviceInfo | None:
        info = self.active.get(device_id)
        if info is not None:
            return info
        now = time.monotonic()
        if now - self._misses.get(device_id, -1e9) < MISS_SECONDS:
            return None
        self._misses[device_id] = now
        with platform.db.sessionmaker() as session:  # provisioned a moment ago, maybe by another process
            read_only(session)
            row = session.scalar(select(Device).where(Device.device_id == device_id))
            if row is None or row.status != "active":
                return None
            kind = session.get(DeviceType, row.type_code)
            if kind is not None:
                self.measurements[kind.code] = frozenset(m["name"] for m in kind.measurements)
                self.ranges[kind.code] = _ranges(kind)
            self._add(row)
        return self.active.get(device_id)

    def device_for_key(self, key: str, platform: Platform) -> str | None:
        digest = key_hash(key)
        found = self.keys.get(digest)
        if found is not None:
            return found
        with platform.db.sessionmaker() as session:
            read_only(session)
            row = session.scalar(select(Device).where(Device.key_hash == digest, Device.status == "active"))
            if row is None:
                return None
            self.device(row.device_id, platform)
            return row.device_id

    def partition_key(self, device_id: str) -> str:
        """What the device's readings are partitioned by (partition.py), as last read."""
        place = self.places.get(device_id)
        building = place.building_code if place is not None else None
        return partition_key(device_id, building, self.partition_groups.get(device_id))

    def _add(self, row: Device) -> None:
        if (
            self.owns is not None
            and row.device_id not in self.index
            and not self.owns(partition_key(row.device_id, row.building_code, row.partition_group))
        ):
            return  # another worker's: this one's rules never see it (no absence alarm for it here)
        if row.partition_group:
            self.partition_groups[row.device_id] = row.partition_group
        else:
            self.partition_groups.pop(row.device_id, None)
        with self._lock:
            i = self.index.get(row.device_id)
            if i is None:
                i = self.index[row.device_id] = len(self.ids)
                self.ids.append(row.device_id)
                self.types.append(row.type_code)
                self.groups.append(row.building_code)
            elif self.types[i] != row.type_code or self.groups[i] != row.building_code:
                self.types[i], self.groups[i] = row.type_code, row.building_code
                self.changed_since_sync = True
                self._range_table = None
        self.places[row.device_id] = Place(
            row.building_code, row.community_code, row.lon, row.lat, row.owner_name, row.owner_phone
        )
        if row.status == "active":
            self.keys[row.key_hash] = row.device_id
            self.active[row.device_id] = DeviceInfo(i, self.measurements.get(row.type_code, frozenset()))
        else:
            self.active.pop(row.device_id, None)
            self.keys = {k: d for k, d in self.keys.items() if d != row.device_id}
        self._misses.pop(row.device_id, None)

    # -- the writer thread -------------------------------------------------------------------------------

    def adopt(self, engine_ids: list[str]) -> None:
        """After a restore, the engine's device order comes first."""
        with self._lock:
            self.ids = list(engine_ids)
            self._id_array = None
            self.index = {d: i for i, d in enumerate(self.ids)}
            self.types = [None] * len(self.ids)
            self.groups = [None] * len(self.ids)
            self.changed_since_sync = True
            self._range_table = None

    def engine_devices(self) -> tuple[list[str], list[str | None], list[str | None]]:
        with self._lock:
            return list(self.ids), list(self.types), list(self.groups)

    def codes(self, names: list[str], engine: RuleEngine) -> npt.NDArray[np.int64]:
        if self._codes_of != id(engine):
            self._codes, self._codes_of = {}, id(engine)
        codes = self._codes
        try:  # every name known: one pass in C
            return np.fromiter(map(codes.__getitem__, names), dtype=np.int64, count=len(names))
        except KeyError:
            pass
        for name in set(names) - codes.keys():
            codes[name] = engine.measurement_code(name)
        return np.fromiter(map(codes.__getitem__, names), dtype=np.int64, count=len(names))

    def names_by_code(self) -> list[str]:
        """Measurement names indexed by the codes :meth:`codes` gave."""
        out = [""] * (max(self._codes.values(), default=-1) + 1)
        for name, code in self._codes.items():
            out[code] = name
        return out

    def id_column(self, dev: npt.NDArray[np.int64]) -> pa.Array:
        """The device ids of engine indexes as an Arrow column, built in C from a cached array of all ids
        (a list of a group's ids converted string by string cost the writer a third of its time)."""
        with self._lock:
            if self._id_array is None or len(self._id_array) != len(self.ids):
                self._id_array = pa.array(self.ids, type=pa.string())
            ids = self._id_array
        return ids.take(pa.array(dev))

    def out_of_range(
        self,
        dev: npt.NDArray[np.int64],
        codes: npt.NDArray[np.int64],
        values: npt.NDArray[np.float64],
        engine: RuleEngine,
    ) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_]] | None:
        """Per reading: outside its sensor's measuring range; per reading: its device's type declares a
        range at all. None when no type declares one. Vectorised over lookup tables (type × measurement)."""
        if not any(self.ranges.values()) or not len(dev):
            return None
        width = int(codes.max()) + 1
        table = self._range_table
        if table is None or table[0] != (id(engine), len(self.ids)) or table[1].shape[1] < width:
            table = self._range_table = self._build_range_table(engine, width)
        _, lo, hi, dev_type = table
        t = dev_type[dev]
        return (values < lo[t, codes]) | (values > hi[t, codes]), t < len(lo) - 1

    def _build_range_table(self, engine: RuleEngine, width: int) -> tuple[Any, ...]:
        names = sorted(t for t, r in self.ranges.items() if r)
        row = {t: i for i, t in enumerate(names)}
        pairs = [
            (row[t], engine.measurement_code(m), lo_hi) for t in names for m, lo_hi in self.ranges[t].items()
        ]
        width = max([width, *(c + 1 for _, c, _ in pairs)])
        lo = np.full((len(names) + 1, width), -np.inf)  # the last row: types without ranges
        hi = np.full((len(names) + 1, width), np.inf)
        for r, c, (a, b) in pairs:
            lo[r, c], hi[r, c] = a, b
        with self._lock:
            dev_type = np.array([row.get(t or "", len(names)) for t in self.types], dtype=np.int64)
        return ((id(engine), len(dev_type)), lo, hi, dev_type)

    def rules(self, session: Session) -> list[RuleSpec]:
        rows = session.scalars(select(Rule).where(Rule.active.is_(True)).order_by(Rule.code)).all()
        self.categories = {r.code: r.case_category for r in rows}
        self.descriptions = {r.code: r.description for r in rows}
        specs = [rule_spec(r.code, r.spec) for r in rows]
        # A composite rule's parts come first: the engine wants them declared before the rule that joins them.
        return sorted(specs, key=lambda s: s.kind == "composite")

    def _mark(self, session: Session, model: Any) -> Any:
        """What changes whenever a row is added, removed or changed: every change raises its row's version,
        so the sum of versions moves even when two changes share a timestamp (one clock tick)."""
        query = select(func.count(), func.max(model.updated_at), func.coalesce(func.sum(model.version), 0))
        return tuple(session.execute(query).one())

    def reload(
        self, session: Session, platform: Platform, *, force: bool
    ) -> tuple[bool, list[RuleSpec] | None]:
        """Re-read what changed: (devices changed, the rules if they changed)."""
        marks = {"types": self._mark(session, DeviceType), "devices": self._mark(session, Device),
                 "rules": self._mark(session, Rule)}  # fmt: skip
        old, self._marks = self._marks, marks
        devices_changed = False
        if force or marks["types"] != old.get("types") or marks["devices"] != old.get("devices"):
            types = list(session.scalars(select(DeviceType)))
            self.measurements = {t.code: frozenset(m["name"] for m in t.measurements) for t in types}
            self.ranges = {t.code: _ranges(t) for t in types}
            self._range_table = None
            for row in session.scalars(select(Device).order_by(Device.id)):
                self._add(row)
            self._building_places(session)
            devices_changed = True
        rules = self.rules(session) if force or marks["rules"] != old.get("rules") else None
        return devices_changed, rules

    def _building_places(self, session: Session) -> None:
        """Group (composite) alarms are about a building: its place, and an owner from one of its devices."""
        by_building: dict[str, Place] = {}
        for place in list(self.places.values()):
            if place.building_code and place.building_code not in by_building:
                by_building[place.building_code] = place
        known = registry.building_places(session, list(by_building))  # one query, not one per building
        for code, first in by_building.items():
            info = known.get(code, {})
            self.places[code] = Place(
                code,
                info.get("community_code", first.community_code),
                info.get("lon", first.lon),
                info.get("lat", first.lat),
                first.owner_name,
                first.owner_phone,
                info.get("address"),
            )


def _ranges(kind: DeviceType) -> dict[str, tuple[float, float]]:
    return {
        m["name"]: (
            -np.inf if m.get("min") is None else float(m["min"]),
            np.inf if m.get("max") is None else float(m["max"]),
        )
        for m in kind.measurements
        if m.get("min") is not None or m.get("max") is not None
    }
