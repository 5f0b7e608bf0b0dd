"""``RuleEngine``: alarm rules evaluated over batches of device readings with numpy.

Event time rules everything: readings carry their own time, ``advance`` brings the platform clock's time,
and nothing here reads a wall clock, so a replay gives the alarms the live run gave.

Lateness. Per device and measurement the engine keeps the last applied event time. A reading older than it
by at most ``allowed_lateness_s`` is *late*: threshold rules evaluate it at its own time, the sequential kinds
(duration, repeat, rate, forecast, absence) skip it, and ``stats['late']`` counts it. Older still, it is
rejected as ``too_late``. Inside a batch readings are sorted by (device, measurement, event time) first, so
their order inside the batch never matters; across batches, a device's reading that arrives after a newer
one of the same measurement is late. Splitting a stream into batches differently therefore gives the same
transitions whenever each device's readings arrive in event-time order (absence and composite alarms also
need the stream as a whole in event-time order, since a silence is only known once the watermark passes).

A late reading is older than the device's last one, so it moves neither its last-seen time (absence) nor
the watermark.

Watermark: the greatest of the times given to ``advance`` and the newest accepted event time less the
allowed lateness; absence alarms are raised when it passes a device's last reading + minutes. A silence
that ends inside a batch is found too: a reading whose time less the lateness (or the batch's starting
watermark) is past its predecessor + minutes raises and clears the absence.

Order of transitions: in the order of their causes, reading by reading in event-time order, then the
watermark's absences; so each alarm's transitions alternate raise and clear even where event times do
not (an absence raised at last reading + minutes and cleared by a reading the platform clock ran ahead of).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from . import composite, kinds
from .batch import check, prepare
from .results import EvalResult, Transition
from .scan import ends
from .snapshot import dump, load
from .specs import RuleSpec, check_rule_set
from .state import MEASUREMENT_BYTES, REGISTRY_BYTES, Registry, RuleState, bytes_per_device, grown


class RuleEngine:
    """Alarm rules over all devices; see the module docstring for event time, lateness and the watermark."""

    def __init__(self, rules: Sequence[RuleSpec], allowed_lateness_s: float = 60.0) -> None:
        if (
            isinstance(allowed_lateness_s, bool)
            or not isinstance(allowed_lateness_s, numbers.Real)
            or not 0 <= allowed_lateness_s < math.inf
        ):
            raise ValueError(f"allowed_lateness_s must be a finite number >= 0, not {allowed_lateness_s!r}")
        self.allowed_lateness_s: float = float(allowed_lateness_s)
        self._registry: Registry = Registry()
        self._names: list[str] = []  # measurement names by code
        self._codes: dict[str, int] = {}
        self._watermark: float = -math.inf
        self._listening_since: float = -math.inf  # see resume()
        self._rules: list[RuleSpec] = []
        self._states: list[RuleState] = []
        self._slots: dict[str, int] = {}  # watched measurement -> row of _last_ts/_last_val
        self._slot_of_code: npt.NDArray[np.int64] = np.empty(0, dtype=np.int64)
        self._last_ts: npt.NDArray[np.float64] = np.empty((0, 0))
        self._last_val: npt.NDArray[np.float64] = np.empty((0, 0))
        self._composites_of: dict[str, list[int]] = {}  # part code -> composite rule indices
        self._install(list(rules), {})

    # -- configuration ------------------------------------------------------------------------------------

    @property
    def rules(self) -> list[RuleSpec]:
        return list(self._rules)

    @property
    def watermark(self) -> float:
        return self._watermark

    @property
    def device_ids(self) -> list[str]:
        return list(self._registry.ids)

    @property
    def device_count(self) -> int:
        return len(self._registry.ids)

    def measurement_code(self, name: str) -> int:
        """A stable small integer for a measurement name, to pass measurements to ``evaluate`` as an array."""
        code = self._codes.get(name)
        if code is None:
            if not isinstance(name, str) or not name:
                raise ValueError(f"a measurement is a non-empty string, not {name!r}")
            code = self._codes[name] = len(self._names)
            self._names.append(name)
            self._slot_of_code = np.append(self._slot_of_code, self._slots.get(name, -1))
        return code

    def set_devices(
        self, device_ids: Sequence[str], types: Sequence[str | None], groups: Sequence[str | None]
    ) -> None:
        """Every device, known ones first and in their order (indices are stable), with its type and group
        (building code); call again with more at the end to add devices. Types and groups may change."""
        before = self._registry.capacity
        self._registry.set(device_ids, types, groups)
        capacity = self._registry.capacity
        if capacity != before:
            for st in self._states:
                st.grow(capacity)
            self._last_ts = grown(self._last_ts, capacity, np.nan)
            self._last_val = grown(self._last_val, capacity, np.nan)
        self._after_change()

    def replace_rules(self, rules: Sequence[RuleSpec]) -> list[tuple[str, str]]:
        """New rules (through the API): a rule with the same code and the same spec keeps its state, others
        start afresh. Returns the alarms (rule code, device or group) that were raised under a rule that
        changed or went; the caller closes them, the engine forgets them."""
        return self._install(list(rules), {st.spec.code: st for st in self._states})

    def _install(self, rules: list[RuleSpec], old: dict[str, RuleState]) -> list[tuple[str, str]]:
        check_rule_set(rules)
        new_specs = {spec.code: spec for spec in rules}
        capacity = self._registry.capacity
        states: list[RuleState] = []
        for spec in rules:
            st = old.get(spec.code)
            same_parts = all(old.get(p) is not None and old[p].spec == new_specs[p] for p in spec.parts or ())
            keep = st is not None and st.spec == spec and same_parts
            states.append(st if st is not None and keep else RuleState(spec, capacity))
        kept = {id(st) for st in states}
        dropped = [key for st in old.values() if id(st) not in kept for key in self._raised(st)]
        names = list(dict.fromkeys(s.measurement for s in rules if s.measurement is not None))
        last_ts = np.full((len(names), capacity), np.nan)
        last_val = np.full((len(names), capacity), np.nan)
        for row, name in enumerate(names):
            if name in self._slots:  # a measurement still watched keeps its readings' state
                last_ts[row] = self._last_ts[self._slots[name]]
                last_val[row] = self._last_val[self._slots[name]]
        self._rules, self._states = rules, states
        self._slots = {name: row for row, name in enumerate(names)}
        self._last_ts, self._last_val = last_ts, last_val
        for name in names:
            self.measurement_code(name)
        self._slot_of_code = np.array([self._slots.get(n, -1) for n in self._names], dtype=np.int64)
        self._composites_of = {}
        for i, spec in enumerate(rules):
            for part in spec.parts or ():
                self._composites_of.setdefault(part, []).append(i)
        self._after_change()
        return dropped

    def _after_change(self) -> None:
        """Derived state after rules or devices changed: composite counts, absence deadlines unknown."""
        by_code = {st.spec.code: st for st in self._states}
        for st in self._states:
            st.bound = -math.inf
            if st.spec.kind == "composite":
                parts = [by_code[p] for p in st.spec.parts or ()]
                composite.recount(st, parts, self._registry.dev_group, self._registry.n)

    # -- evaluation ---------------------------------------------------------------------------------------

    def evaluate(
        self,
        device_idx: npt.ArrayLike,
        measurement: Sequence[str] | npt.ArrayLike,
        values: npt.ArrayLike,
        ts: npt.ArrayLike,
    ) -> EvalResult:
        """Evaluate one batch: device indices, measurements (names, or codes from ``measurement_code``),
        values and event times (epoch seconds, UTC)."""
        dev = np.asarray(device_idx).ravel()
        n_readings = len(dev)
        if len(dev) and dev.dtype.kind not in "iu":
            raise ValueError(f"device_idx must hold integers, not {dev.dtype}")
        dev = dev.astype(np.int64, copy=False)
        code = self._measurement_codes(measurement)
        v = np.asarray(values, dtype=np.float64).ravel()
        t = np.asarray(ts, dtype=np.float64).ravel()
        if not len(dev) == len(code) == len(v) == len(t):
            raise ValueError("device_idx, measurement, values and ts must have the same length")
        ok, rejected = check(dev, code, v, t, self._registry.n, len(self._names))
        slot = self._slot_of_code[np.where(ok, code, 0)] if len(self._names) else np.full(len(dev), -1)
        use = ok & (slot >= 0)
        ignored = int(ok.sum() - use.sum())
        positions = np.arange(len(dev))
        if not use.all():
            positions = np.flatnonzero(use)
            dev, slot, v, t = dev[positions], slot[positions], v[positions], t[positions]
        start_watermark = self._watermark
        ready = prepare(dev, slot, v, t, positions, self._last_ts, self._last_val, self.allowed_lateness_s)
        raws: list[tuple[int, list[kinds.Raw]]] = []
        for i, (spec, st) in enumerate(zip(self._rules, self._states, strict=True)):
            views = ready.views.get(self._slots.get(spec.measurement or "", -1))
            if views is None:
                continue
            every, ordered = views
            if spec.device_type is not None:
                wanted = self._registry.type_code(spec.device_type)
                same = every is ordered  # no late readings: one view serves both
                every = every.take(self._registry.dev_type[every.dev] == wanted)
                ordered = every if same else ordered.take(self._registry.dev_type[ordered.dev] == wanted)
            raws.append((i, kinds.run(spec, st, every, ordered, start_watermark, self.allowed_lateness_s,
                                      self._listening_since)))  # fmt: skip
        for row, (_, ordered) in ready.views.items():
            end = ends(ordered.start)
            self._last_ts[row, ordered.dev[end]] = ordered.t[end]
            self._last_val[row, ordered.dev[end]] = ordered.v[end]
        self._watermark = max(start_watermark, ready.max_ts - self.allowed_lateness_s)
        raws.extend(self._sweep())
        transitions = self._transitions(raws)
        rejected = sorted(rejected + ready.rejected)
        stats = {
            "readings": n_readings,
            "evaluated": len(positions) - len(ready.rejected),
            "late": ready.late,
            "rejected": len(rejected),
            "ignored": ignored,
            "transitions": len(transitions),
        }
        return EvalResult(transitions, rejected, stats)

    def resume(self, now_ts: float) -> None:
        """The platform starts listening again at ``now_ts`` (after it was down): a device's silence counts
        for absence rules from the later of its last reading and ``now_ts``, so an outage of the platform
        is not taken for an outage of every device (1,272 offline alarms on the demo's restart)."""
        self._listening_since = float(now_ts)

    def advance(self, now_ts: float) -> list[Transition]:
        """Move the watermark to the platform clock's ``now_ts`` (never back); returns absence alarms due."""
        if not math.isfinite(now_ts):
            raise ValueError(f"now_ts must be a finite event time, not {now_ts!r}")
        self._watermark = max(self._watermark, float(now_ts))
        return self._transitions(self._sweep())

    def _measurement_codes(self, measurement: Sequence[str] | npt.ArrayLike) -> npt.NDArray[np.int64]:
        """Codes from codes (an integer array or list) or from names; an unknown name gets a new code."""
        if isinstance(measurement, np.ndarray) and measurement.dtype.kind in "iu":
            return measurement.astype(np.int64, copy=False).ravel()
        names: list[Any] = list(measurement)  # type: ignore[arg-type]
        if names and isinstance(names[0], int | np.integer):
            codes = np.asarray(names)
            if codes.dtype.kind in "iu":
                return codes.astype(np.int64, copy=False)
        try:
            return np.fromiter(map(self._codes.__getitem__, names), dtype=np.int64, count=len(names))
        except (KeyError, TypeError):
            return np.array([self._code_or_unknown(m) for m in names], dtype=np.int64)

    def _code_or_unknown(self, name: Any) -> int:
        return self.measurement_code(name) if isinstance(name, str) and name else -1

    def _sweep(self) -> list[tuple[int, list[kinds.Raw]]]:
        out = []
        n = self._registry.n
        for i, (spec, st) in enumerate(zip(self._rules, self._states, strict=True)):
            if spec.kind != "absence" or self._watermark <= st.bound:
                continue
            applies = None
            if spec.device_type is not None:
                applies = self._registry.dev_type[:n] == self._registry.type_code(spec.device_type)
            last_ts = np.maximum(
                self._last_ts[self._slots[spec.measurement or ""], :n], self._listening_since
            )
            out.append((i, kinds.sweep_absence(spec, st, last_ts, applies, self._watermark)))
        return out

    def _transitions(self, raws: list[tuple[int, list[kinds.Raw]]]) -> list[Transition]:
        """Raw transitions as ``Transition``s in cause order (see ``kinds.Raw``), each followed by the
        composite alarms it completes or ends."""
        items = [(raw[0], i, raw[2], raw) for i, batch in raws for raw in batch]
        items.sort(key=lambda item: item[:3])
        reg = self._registry
        out: list[Transition] = []
        for _, i, dev, (_, ts, _, kind, value, detail) in items:
            spec = self._rules[i]
            group = int(reg.dev_group[dev])
            group_name = reg.group_name(group)
            out.append(
                Transition(
                    spec.code, kind, reg.ids[dev], group_name, spec.measurement, ts, value,
                    spec.alarm_type, spec.severity, spec.level, detail,
                )
            )  # fmt: skip
            if group < 0:
                continue
            for c in self._composites_of.get(spec.code, ()):
                st = self._states[c]
                done = composite.on_part(st, spec.code, kind, ts, dev, group)
                if done is not None:
                    c_spec = st.spec
                    out.append(
                        Transition(
                            c_spec.code, done[0], group_name or "", group_name, None, done[1], None,
                            c_spec.alarm_type, c_spec.severity, c_spec.level,
                            composite.detail(c_spec, st, group, reg.ids), scope="group",
                        )
                    )  # fmt: skip
        return out

    # -- inspection -------------------------------------------------------------------------------------

    def active(self) -> Iterator[tuple[str, str]]:
        """The alarms raised now: (rule code, device id or, for a composite rule, group key)."""
        for st in self._states:
            yield from self._raised(st)

    def _raised(self, st: RuleState) -> Iterator[tuple[str, str]]:
        reg = self._registry
        if st.spec.kind == "composite":
            for group in sorted(st.raised):
                yield st.spec.code, reg.group_names[group]
        else:
            for dev in np.flatnonzero(st.active[: reg.n]).tolist():
                yield st.spec.code, reg.ids[dev]

    def memory_bytes(self) -> int:
        """Bytes held for devices: every state array (exact), the device ids and their index (by
        ``sys.getsizeof``). Composite groups' dicts are not counted; they hold only groups with recent
        part alarms."""
        arrays = self._last_ts.nbytes + self._last_val.nbytes + sum(st.nbytes() for st in self._states)
        return arrays + self._registry.nbytes()

    @staticmethod
    def bytes_per_device(rules: Sequence[RuleSpec]) -> int:
        """State arrays per device for these rules, ids excepted: the figure behind ``memory_bytes``."""
        measurements = {s.measurement for s in rules if s.measurement is not None}
        return (
            REGISTRY_BYTES
            + MEASUREMENT_BYTES * len(measurements)
            + sum(bytes_per_device(s.kind) for s in rules)
        )

    # -- snapshots ---------------------------------------------------------------------------------------

    def snapshot(self) -> bytes:
        """Everything needed to go on exactly where this engine is, as bytes (npz, no pickle)."""
        return dump(self)

    @classmethod
    def restore(
        cls, blob: bytes, rules: Sequence[RuleSpec], allowed_lateness_s: float | None = None
    ) -> RuleEngine:
        """An engine from ``snapshot()`` bytes; rules unchanged since then keep their state (as with
        ``replace_rules``). The allowed lateness is the snapshot's unless given."""
        return load(cls, blob, rules, allowed_lateness_s)
