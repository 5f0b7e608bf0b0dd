"""Simulated IoT fire-safety devices (物联网火灾预警) for the demo and for load tests: a fleet in the
registry's buildings, their signals, scenarios that disturb them, the wire encoding and two publishers.

**Devices.** An electrical fire monitor (电气火灾监控探测器, ``EFM-``) measures ``residual_current_ma`` and
``cable_temp_c``; a smoke detector (烟感, ``SMK-``) ``smoke_obscuration`` (%/m) and ``temp_c``; a temperature
sensor (``TMP-``) ``temp_c``. Ids read ``<prefix>-<building code>-NN``.

**Signals** are a pure function of (seed, device, reading time): every draw comes from a counter-based hash,
not from a stream, so a reading does not depend on which readings were generated before it. Load follows the
district's day (UTC+8): low at night, a morning bump, the peak between 18:00 and 23:00.

**Scenarios** change the signals of one device or building for a while: :class:`Fault` (nonsense values),
:class:`Dropout` (silence), :class:`Overload` and :class:`Overheat` (a slow climb past the alarm threshold),
:class:`Fire` (smoke and a fast temperature rise in one building) and :class:`NoisyDetector` (one smoke
detector spiking alone, which multi-sensor confirmation must not call a fire).

**Messages** are the wire format of :mod:`urbanbrain.domains.sensing.ingest.wire`: ``{"id", "device", "ts",
"values"}``; ``id`` is ``<device>-<number of the interval since the epoch>``, so the same seed and clock give
the same ids and a resend is recognised as one.
"""

from __future__ import annotations

import csv
import math
import random
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, ClassVar, TypeAlias

import msgspec
import numpy as np
import numpy.typing as npt

from urbanbrain.demo.names import person_name

MEASUREMENTS: dict[str, tuple[str, ...]] = {
    "electrical_fire_monitor": ("residual_current_ma", "cable_temp_c"),
    "smoke_detector": ("smoke_obscuration", "temp_c"),
    "temp_sensor": ("temp_c",),
}
PREFIXES = {"electrical_fire_monitor": "EFM", "smoke_detector": "SMK", "temp_sensor": "TMP"}
DEFAULT_PER_BUILDING = {"electrical_fire_monitor": 1, "smoke_detector": 2, "temp_sensor": 1}
COLUMNS = ("residual_current_ma", "cable_temp_c", "smoke_obscuration", "temp_c")
DECIMALS = np.array([1, 1, 3, 1])  # what the devices resolve
RESIDUAL_CURRENT_ALARM_MA = 300.0
CABLE_TEMP_ALARM_C = 70.0
SMOKE_FIRE_PCT_M = 3.0
UTC_OFFSET_S = 8 * 3600
READINGS_PATH = "/api/v1/sensing/readings"
CSV_FIELDS = ("device_id", "device_type", "building_code", "lon", "lat", "owner_name", "owner_phone", "key")

Message: TypeAlias = dict[str, Any]
FloatArray: TypeAlias = npt.NDArray[np.float64]
IntArray: TypeAlias = npt.NDArray[np.int64]

_RC, _CABLE, _SMOKE, _TEMP = range(4)


# ------------------------------------------------------------------------------------------------ the fleet


@dataclass(frozen=True)
class BuildingRef:
    """A building to put devices in, as the caller knows it from the registry."""

    code: str
    lon: float
    lat: float
    community_code: str | None = None


@dataclass(frozen=True)
class Device:
    device_id: str
    device_type: str
    building_code: str
    lon: float
    lat: float
    owner_name: str
    owner_phone: str
    key: str  # the device's secret, hex; the platform keeps only its hash
    community_code: str | None = None


class Fleet:
    """The simulated devices, in a fixed order (a device's index is its row in every signal array)."""

    def __init__(self, devices: Sequence[Device]) -> None:
        self.devices = tuple(devices)
        self.index = {d.device_id: i for i, d in enumerate(self.devices)}
        if len(self.index) != len(self.devices):
            raise ValueError("device ids in a fleet must be unique")
        self.by_building: dict[str, list[int]] = {}
        for i, d in enumerate(self.devices):
            self.by_building.setdefault(d.building_code, []).append(i)

    def __len__(self) -> int:
        return len(self.devices)

    def device(self, device_id: str) -> Device:
        try:
            return self.devices[self.index[device_id]]
        except KeyError:
            raise ValueError(f"no device {device_id!r} in the fleet") from None

    @classmethod
    def generate(
        cls, buildings: Sequence[BuildingRef], *, per_building: dict[str, int] | None = None, seed: int = 0
    ) -> Fleet:
        """Devices for every building (``per_building`` counts by type, default one monitor, two smoke
        detectors and one temperature sensor), one owner per building, keys and names drawn from ``seed``."""
        counts = DEFAULT_PER_BUILDING if per_building is None else per_building
        unknown = set(counts) - set(MEASUREMENTS)
        if unknown:
            raise ValueError(f"unknown device types {sorted(unknown)}; known: {sorted(MEASUREMENTS)}")
        rng = np.random.default_rng([seed, 1])
        rnd = random.Random(seed)
        devices = []
        for b in buildings:
            owner = person_name(rnd, rnd.choice("MF"))
            phone = f"13{rnd.randrange(10)}{rnd.randrange(100_000_000):08d}"
            for device_type, n in counts.items():
                for k in range(1, n + 1):
                    device_id = f"{PREFIXES[device_type]}-{b.code}-{k:02d}"
                    key = rng.bytes(16).hex()
                    devices.append(
                        Device(
                            device_id, device_type, b.code, b.lon, b.lat, owner, phone, key, b.community_code
                        )
                    )
        return cls(devices)

    def to_csv(self, path: Path) -> None:
        """Write the provisioning file: one row per device, columns ``CSV_FIELDS``, UTF-8."""
        with open(path, "w", encoding="utf-8", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(CSV_FIELDS)
            for d in self.devices:
                writer.writerow([getattr(d, name) for name in CSV_FIELDS])

    @classmethod
    def from_csv(cls, path: Path) -> Fleet:
        """Read a provisioning file written by :meth:`to_csv`."""
        with open(path, encoding="utf-8", newline="") as f:
            rows = list(csv.DictReader(f))
        return cls(
            [
                Device(
                    r["device_id"],
                    r["device_type"],
                    r["building_code"],
                    float(r["lon"]),
                    float(r["lat"]),
                    r["owner_name"],
                    r["owner_phone"],
                    r["key"],
                )
                for r in rows
            ]
        )


# ---------------------------------------------------------------------------------------------- signals


def _mix(x: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    """splitmix64's finaliser: a counter in, 64 well-mixed bits out."""
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def local_hour(ts: FloatArray) -> FloatArray:
    """Hour of the day (0-24, fractional) in the district's time."""
    return np.asarray(((ts + UTC_OFFSET_S) % 86_400) / 3600.0)


def daily_load(hour: FloatArray) -> FloatArray:
    """Electrical load, 0-1: low at night, a morning bump, lunch, and the peak between 18:00 and 23:00."""

    def bump(centre: float, width: float) -> FloatArray:
        d = (hour - centre + 12) % 24 - 12
        return np.exp(-0.5 * (d / width) ** 2)

    return np.minimum(1.0, 0.12 + 0.88 * bump(20.5, 2.0) + 0.35 * bump(7.5, 1.2) + 0.25 * bump(12.5, 1.5))


class Signals:
    """The undisturbed readings of a fleet: ``sample(devices, ts)`` gives all four measurement columns."""

    def __init__(self, n_devices: int, seed: int) -> None:
        rng = np.random.default_rng([seed, 2])
        self.base_current = rng.uniform(8.0, 28.0, n_devices)  # mA at mid load
        self.ambient_offset = rng.normal(0.0, 1.0, n_devices)
        self.cable_rise = rng.uniform(4.0, 12.0, n_devices)  # °C above ambient at full load
        self.indoor_offset = rng.uniform(0.5, 2.5, n_devices)
        self.smoke_base = rng.uniform(0.02, 0.12, n_devices)
        self._key = _mix(np.array([seed & 0xFFFF_FFFF_FFFF_FFFF], dtype=np.uint64))[0]

    def normal(self, devices: IntArray, ts: FloatArray, stream: int) -> FloatArray:
        """Standard normal draws, one per (device, reading time to the millisecond, stream)."""
        ms = np.round(ts * 1000).astype(np.int64).astype(np.uint64)
        counter = (
            self._key
            ^ (devices.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15))
            ^ (ms * np.uint64(0xD1B54A32D192ED03))
            ^ np.uint64((stream + 1) * 0x8CB92BA72F3D8DD7 & 0xFFFF_FFFF_FFFF_FFFF)
        )
        bits = _mix(counter)
        u1 = ((bits >> np.uint64(32)).astype(np.float64) + 1.0) / 4294967296.0
        u2 = (bits & np.uint64(0xFFFF_FFFF)).astype(np.float64) / 4294967296.0
        return np.asarray(np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * np.pi * u2))

    def sample(self, devices: IntArray, ts: FloatArray) -> FloatArray:
        """Readings of ``devices`` at ``ts`` (one time per device): shape (len(devices), 4), ``COLUMNS``."""
        hour = local_hour(ts)
        load = daily_load(hour)
        ambient = 26.0 + 4.0 * np.cos(2 * np.pi * (hour - 15.0) / 24.0) + self.ambient_offset[devices]
        out = np.empty((len(devices), 4))
        current = self.base_current[devices] * (0.5 + 1.3 * load)
        out[:, _RC] = np.maximum(0.5, current + (0.3 + 0.04 * current) * self.normal(devices, ts, _RC))
        out[:, _CABLE] = ambient + self.cable_rise[devices] * load + 0.3 * self.normal(devices, ts, _CABLE)
        smoke = self.smoke_base[devices] + np.abs(0.03 * self.normal(devices, ts, _SMOKE))
        out[:, _SMOKE] = np.clip(smoke, 0.0, 0.5)
        indoor = ambient + self.indoor_offset[devices] + 1.0 * load
        out[:, _TEMP] = indoor + 0.2 * self.normal(devices, ts, _TEMP)
        return out


# -------------------------------------------------------------------------------------------- scenarios


@dataclass(frozen=True)
class Fault:
    """A sensor reading nonsense (or stuck at ``value``) for a while: a fault to report, not a fire.
    ``measurement`` defaults to the device's temperature."""

    device_id: str
    start_ts: float
    duration_s: float = 1800.0
    measurement: str | None = None
    value: float = 850.0
    kind: ClassVar[str] = "fault"


@dataclass(frozen=True)
class Dropout:
    """The device sends nothing for ``duration_s``."""

    device_id: str
    start_ts: float
    duration_s: float = 900.0
    kind: ClassVar[str] = "dropout"


@dataclass(frozen=True)
class Overload:
    """Ageing wiring: residual current climbs steadily from normal, crossing 300 mA ``crossing_s`` after the
    start, up to ``peak_ma``; back to normal after ``duration_s`` (repaired)."""

    device_id: str
    start_ts: float
    crossing_s: float = 900.0
    peak_ma: float = 500.0
    duration_s: float = 3600.0
    kind: ClassVar[str] = "overload"


@dataclass(frozen=True)
class Overheat:
    """A cable heating up: its temperature crosses 70 °C ``crossing_s`` after the start, up to ``peak_c``."""

    device_id: str
    start_ts: float
    crossing_s: float = 900.0
    peak_c: float = 95.0
    duration_s: float = 3600.0
    kind: ClassVar[str] = "overheat"


@dataclass(frozen=True)
class Fire:
    """A fire in a building: within 20 s smoke climbs 4-10 %/m a minute at ``detectors`` of its smoke
    detectors (past 3 %/m within 65 s; more slowly, later, at the others), and within 45 s every temperature
    in the building rises 4-10 °C a minute (cable temperatures 1-3 °C a minute). Readings show it at the
    devices' next report. After ``duration_s`` it is out and readings are normal again."""

    building_code: str
    start_ts: float
    detectors: int = 2
    duration_s: float = 1800.0
    kind: ClassVar[str] = "fire"


@dataclass(frozen=True)
class NoisyDetector:
    """One smoke detector reading ``peak`` %/m for ``duration_s`` with nothing else happening around it."""

    device_id: str
    start_ts: float
    duration_s: float = 90.0
    peak: float = 4.5
    kind: ClassVar[str] = "noisy_detector"


Scenario: TypeAlias = Fault | Dropout | Overload | Overheat | Fire | NoisyDetector
SCENARIO_KINDS: dict[str, type[Scenario]] = {
    c.kind: c for c in (Fault, Dropout, Overload, Overheat, Fire, NoisyDetector)
}


def scenario_to_dict(scenario: Scenario) -> dict[str, Any]:
    return {"kind": scenario.kind, **asdict(scenario)}


def scenario_from_dict(data: dict[str, Any]) -> Scenario:
    """The inverse of :func:`scenario_to_dict`; a ``ValueError`` names an unknown kind or field."""
    fields = dict(data)
    kind = fields.pop("kind", None)
    if kind not in SCENARIO_KINDS:
        raise ValueError(f"unknown scenario kind {kind!r}; known: {sorted(SCENARIO_KINDS)}")
    try:
        return SCENARIO_KINDS[kind](**fields)
    except TypeError as exc:
        raise ValueError(f"scenario {kind}: {exc}") from None


def random_scenarios(
    fleet: Fleet,
    *,
    start_ts: float,
    seed: int,
    hours: float = 24.0,
    faults: int = 3,
    dropouts: int = 3,
    overloads: int = 2,
    overheats: int = 1,
    fires: int = 1,
    noisy: int = 2,
) -> list[Scenario]:
    """A day's (or ``hours``') worth of trouble at random devices and times, the same for the same seed.
    Kinds whose devices the fleet lacks are left out."""
    rnd = random.Random(seed)
    span = hours * 3600.0

    def of_type(device_type: str) -> list[str]:
        return [d.device_id for d in fleet.devices if d.device_type == device_type]

    def when(duration: float) -> float:
        return start_ts + round(rnd.uniform(0.0, max(0.0, span - duration)))

    def pick(ids: list[str], n: int) -> list[str]:
        return rnd.sample(ids, min(n, len(ids)))

    everyone = [d.device_id for d in fleet.devices]
    efm, smoke = of_type("electrical_fire_monitor"), of_type("smoke_detector")
    out: list[Scenario] = []
    for device_id in pick(everyone, faults):
        device = fleet.device(device_id)
        measurement = rnd.choice(MEASUREMENTS[device.device_type])
        nonsense = (-40.0, 850.0) if measurement.endswith("_c") else (-1.0, 9999.0)
        out.append(Fault(device_id, when(1800.0), 1800.0, measurement, rnd.choice(nonsense)))
    out += [Dropout(d, when(900.0), rnd.choice((300.0, 900.0, 1800.0))) for d in pick(everyone, dropouts)]
    out += [
        Overload(d, when(3600.0), crossing_s=rnd.choice((600.0, 900.0, 1800.0))) for d in pick(efm, overloads)
    ]
    out += [Overheat(d, when(3600.0), crossing_s=rnd.choice((600.0, 1200.0))) for d in pick(efm, overheats)]
    burning = sorted({fleet.device(d).building_code for d in smoke})
    out += [
        Fire(b, when(1800.0), detectors=rnd.choice((1, 2)))
        for b in rnd.sample(burning, min(fires, len(burning)))
    ]
    out += [NoisyDetector(d, when(90.0)) for d in pick(smoke, noisy)]
    return sorted(out, key=lambda s: s.start_ts)


# -------------------------------------------------------------------------------------------- simulator


@dataclass
class _Effect:
    """A scenario compiled to arrays: what it does to one column of some devices between two times."""

    start: float
    end: float
    devices: IntArray
    column: int  # -1: silence
    mode: str  # set | ramp | rise | silence
    level: float = 0.0  # set: the value; ramp: the threshold crossed after crossing_s
    cap: float = math.inf  # ramp: the highest value; rise: the largest increase
    crossing_s: float = 1.0
    onset: FloatArray = field(default_factory=lambda: np.zeros(0))
    rate: FloatArray = field(default_factory=lambda: np.zeros(0))  # rise: per second

    def apply(self, ts: FloatArray, values: FloatArray, silent: npt.NDArray[np.bool_]) -> None:
        t = ts[self.devices]
        on = (t >= self.start) & (t < self.end)
        if not on.any():
            return
        rows = self.devices[on]
        if self.mode == "silence":
            silent[rows] = True
            return
        v = values[rows, self.column]
        if self.mode == "set":
            v = np.full_like(v, self.level)
        elif self.mode == "ramp":
            v = np.minimum(self.cap, v + (self.level - v) * (t[on] - self.start) / self.crossing_s)
        else:
            v = v + np.minimum(self.cap, self.rate[on] * np.maximum(0.0, t[on] - self.onset[on]))
        values[rows, self.column] = v


@dataclass
class Tick:
    """The messages of one interval, in time order; ``ts`` is the interval's start."""

    ts: float
    messages: list[Message]


class Simulator:
    """Readings of a fleet every ``interval_s`` from ``start_ts``, disturbed by ``scenarios``."""

    def __init__(
        self,
        fleet: Fleet,
        scenarios: Sequence[Scenario] = (),
        *,
        start_ts: float,
        interval_s: float = 60.0,
        seed: int = 0,
    ) -> None:
        if interval_s <= 0:
            raise ValueError(f"interval_s must be positive, got {interval_s}")
        self.fleet, self.start_ts, self.interval_s, self.seed = (
            fleet,
            float(start_ts),
            float(interval_s),
            seed,
        )
        self.scenarios = list(scenarios)
        n = len(fleet)
        self.signals = Signals(n, seed)
        self._all = np.arange(n, dtype=np.int64)
        self._phase = np.random.default_rng([seed, 4]).uniform(0.0, self.interval_s, n)
        self._ids = [d.device_id for d in fleet.devices]
        # (measurement names, their columns, the devices) per device type, and each device's row in them
        self._groups: list[tuple[tuple[str, ...], IntArray, IntArray]] = []
        self._group_pos = np.zeros(n, dtype=np.int64)
        for device_type, names in MEASUREMENTS.items():
            members = np.array(
                [i for i, d in enumerate(fleet.devices) if d.device_type == device_type], dtype=np.int64
            )
            if len(members):
                self._group_pos[members] = sum(len(g[2]) for g in self._groups) + np.arange(len(members))
                columns = np.array([COLUMNS.index(m) for m in names], dtype=np.int64)
                self._groups.append((names, columns, members))
        self._effects = [e for s in self.scenarios for e in self._compile(s)]
        self._next = 0

    def ticks(self, until_ts: float = math.inf) -> Iterator[Tick]:
        """Ticks from where the last call stopped, for intervals starting before ``until_ts``."""
        while self.start_ts + self._next * self.interval_s < until_ts:
            k = self._next
            self._next += 1
            yield self._tick(k)

    def _tick(self, k: int) -> Tick:
        t0 = self.start_ts + k * self.interval_s
        seq = int(t0 // self.interval_s)
        jitter = 0.5 * self.signals.normal(self._all, np.full(len(self._all), t0), stream=7)
        ts: FloatArray = np.clip(t0 + self._phase + jitter, t0, t0 + self.interval_s - 0.001).round(3)
        values = self.signals.sample(self._all, ts)
        silent = np.zeros(len(self._all), dtype=bool)
        t1 = t0 + self.interval_s
        for effect in self._effects:
            if effect.start < t1 and effect.end > t0:
                effect.apply(ts, values, silent)
        for c, decimals in enumerate(DECIMALS):
            values[:, c] = np.round(values[:, c], decimals)
        # Values dicts are built per device type from one numpy slice each; messages then in time order.
        dicts: list[dict[str, float]] = []
        for names, columns, members in self._groups:
            rows = values[np.ix_(members, columns)].tolist()
            if len(names) == 2:
                a, b = names
                dicts += [{a: r[0], b: r[1]} for r in rows]
            else:
                dicts += [dict(zip(names, r, strict=True)) for r in rows]
        order = np.argsort(ts, kind="stable")
        order = order[~silent[order]].tolist()
        ids, suffix = self._ids, f"-{seq}"
        grouped = [dicts[p] for p in self._group_pos[order].tolist()]
        messages: list[Message] = [
            {"id": ids[d] + suffix, "device": ids[d], "ts": t, "values": v}
            for d, t, v in zip(order, ts[order].tolist(), grouped, strict=True)
        ]
        return Tick(t0, messages)

    def _device(self, device_id: str, needs: str | None, scenario: Scenario) -> IntArray:
        device = self.fleet.device(device_id)
        if needs is not None and needs not in MEASUREMENTS[device.device_type]:
            raise ValueError(
                f"{scenario.kind} needs a device measuring {needs}; {device_id} is {device.device_type}"
            )
        return np.array([self.fleet.index[device_id]], dtype=np.int64)

    def _compile(self, s: Scenario) -> list[_Effect]:
        if isinstance(s, Fire):
            return self._compile_fire(s)
        start, end = s.start_ts, s.start_ts + s.duration_s
        if isinstance(s, Dropout):
            return [_Effect(start, end, self._device(s.device_id, None, s), -1, "silence")]
        if isinstance(s, Fault):
            measurement = s.measurement or MEASUREMENTS[self.fleet.device(s.device_id).device_type][-1]
            devices = self._device(s.device_id, measurement, s)
            return [_Effect(start, end, devices, COLUMNS.index(measurement), "set", level=s.value)]
        if isinstance(s, NoisyDetector):
            devices = self._device(s.device_id, "smoke_obscuration", s)
            return [_Effect(start, end, devices, _SMOKE, "set", level=s.peak)]
        if isinstance(s, Overload):
            devices = self._device(s.device_id, "residual_current_ma", s)
            level, cap, column = RESIDUAL_CURRENT_ALARM_MA, s.peak_ma, _RC
        else:
            devices = self._device(s.device_id, "cable_temp_c", s)
            level, cap, column = CABLE_TEMP_ALARM_C, s.peak_c, _CABLE
        return [_Effect(start, end, devices, column, "ramp", level=level, cap=cap, crossing_s=s.crossing_s)]

    def _compile_fire(self, s: Fire) -> list[_Effect]:
        members = self.fleet.by_building.get(s.building_code)
        if not members:
            raise ValueError(f"fire in {s.building_code}: no device of the fleet is in that building")
        types = [self.fleet.devices[i].device_type for i in members]
        smoke = np.array(
            [i for i, t in zip(members, types, strict=True) if t == "smoke_detector"], dtype=np.int64
        )
        if len(smoke) == 0:
            raise ValueError(f"fire in {s.building_code}: the building has no smoke detector")
        temp = np.array(
            [i for i, t in zip(members, types, strict=True) if "temp_c" in MEASUREMENTS[t]], dtype=np.int64
        )
        cable = np.array(
            [i for i, t in zip(members, types, strict=True) if t == "electrical_fire_monitor"], dtype=np.int64
        )
        rng = np.random.default_rng([self.seed, 3, *s.building_code.encode(), int(s.start_ts)])
        smoke = rng.permutation(smoke)
        near, far = smoke[: s.detectors], smoke[s.detectors :]
        start, end = s.start_ts, s.start_ts + s.duration_s

        def rise(
            devices: IntArray,
            column: int,
            delay: tuple[float, float],
            per_min: tuple[float, float],
            cap: float,
        ) -> _Effect:
            onset = start + rng.uniform(*delay, len(devices))
            rate = rng.uniform(*per_min, len(devices)) / 60.0
            return _Effect(start, end, devices, column, "rise", cap=cap, onset=onset, rate=rate)

        return [
            rise(near, _SMOKE, (0.0, 20.0), (4.0, 10.0), 25.0),
            rise(far, _SMOKE, (60.0, 180.0), (0.5, 1.5), 10.0),
            rise(temp, _TEMP, (0.0, 45.0), (4.0, 10.0), 150.0),
            rise(cable, _CABLE, (0.0, 45.0), (1.0, 3.0), 60.0),
        ]


# ------------------------------------------------------------------------------------------- wire format

_encoder = msgspec.json.Encoder()


def encode_batch(messages: Sequence[Message]) -> bytes:
    """A compact JSON array: the body of one HTTP batch."""
    return _encoder.encode(messages)


def encode_ndjson(messages: Sequence[Message]) -> bytes:
    """One JSON message per line, each line ending in a newline."""
    return _encoder.encode_lines(messages)


def encode_one(message: Message) -> bytes:
    return _encoder.encode(message)
