"""The engine's semantics written the plain way: one reading at a time, whole histories kept, no numpy.

Slow and obviously right; the tests check ``RuleEngine`` against it on random streams. It keeps each
device's full history of applied readings and reads runs, rates and trends back from it, where the engine
keeps O(1) state per device: the two agreeing on every stream shows the engine's state is enough.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from .results import BAD_TIMESTAMP, MAX_ABS_TS, NOT_A_NUMBER, TOO_LATE, UNKNOWN_DEVICE, EvalResult, Transition
from .specs import RuleSpec, check_rule_set

# (cause: the reading's event time or +inf for the watermark, event time, rule index, device index,
#  "raise" | "clear", value, detail)
Found = tuple[float, float, int, int, str, float | None, dict[str, Any]]
History = list[tuple[float, float]]  # a device's applied readings of one measurement: (event time, value)


class ReferenceEngine:
    """Same contract as ``RuleEngine`` for ``set_devices``, ``evaluate`` (measurement names), ``advance``
    and ``active``."""

    def __init__(self, rules: Sequence[RuleSpec], allowed_lateness_s: float = 60.0) -> None:
        check_rule_set(list(rules))
        self.rules = list(rules)
        self.lateness = float(allowed_lateness_s)
        self.ids: list[str] = []
        self.types: list[str | None] = []
        self.groups: list[str | None] = []
        self.history: dict[tuple[int, str], History] = {}
        self.raised: dict[str, set[Any]] = {spec.code: set() for spec in self.rules}
        self.watermark = -math.inf
        # composite code -> group -> part -> its latest raise (event time, device); open part alarms
        self.latest: dict[str, dict[str, dict[str, tuple[float, int]]]] = {}
        self.open_parts: dict[str, dict[str, int]] = {}

    def set_devices(
        self, ids: Sequence[str], types: Sequence[str | None], groups: Sequence[str | None]
    ) -> None:
        self.ids, self.types, self.groups = list(ids), list(types), list(groups)

    def active(self) -> set[tuple[str, str]]:
        return {
            (spec.code, key if spec.kind == "composite" else self.ids[key])
            for spec in self.rules
            for key in self.raised[spec.code]
        }

    def evaluate(
        self,
        devices: Sequence[int],
        measurements: Sequence[str],
        values: Sequence[float],
        ts: Sequence[float],
    ) -> EvalResult:
        watched = {spec.measurement for spec in self.rules if spec.measurement}
        rejected: list[tuple[int, str]] = []
        rows = []
        ignored = 0
        for i, (d, m, v, t) in enumerate(zip(devices, measurements, values, ts, strict=True)):
            if not 0 <= d < len(self.ids):
                rejected.append((i, UNKNOWN_DEVICE))
            elif not (math.isfinite(v) and math.isfinite(t)):
                rejected.append((i, NOT_A_NUMBER))
            elif abs(t) > MAX_ABS_TS:
                rejected.append((i, BAD_TIMESTAMP))
            elif m not in watched:
                ignored += 1
            else:
                rows.append(i)
        rows.sort(key=lambda i: (devices[i], measurements[i], ts[i]))
        start_watermark = self.watermark
        found: list[Found] = []
        late = too_late = 0
        newest = -math.inf
        for i in rows:
            d, m, v, t = devices[i], measurements[i], float(values[i]), float(ts[i])
            history = self.history.setdefault((d, m), [])
            if history and t < history[-1][0] - self.lateness:
                rejected.append((i, TOO_LATE))
                too_late += 1
                continue
            newest = max(newest, t)
            is_late = bool(history) and t < history[-1][0]
            late += is_late
            for r, spec in enumerate(self.rules):
                if spec.measurement != m or (
                    spec.device_type is not None and spec.device_type != self.types[d]
                ):
                    continue
                if spec.kind == "threshold":
                    found += self._threshold(r, spec, d, v, t, is_late)
                elif not is_late:
                    found += self._sequential(r, spec, d, v, t, history, start_watermark)
            if not is_late:
                history.append((t, v))
        self.watermark = max(start_watermark, newest - self.lateness)
        found += self._sweep()
        transitions = self._emit(found)
        stats = {
            "readings": len(devices),
            "evaluated": len(rows) - too_late,
            "late": late,
            "rejected": len(rejected),
            "ignored": ignored,
            "transitions": len(transitions),
        }
        return EvalResult(transitions, sorted(rejected), stats)

    def advance(self, now: float) -> list[Transition]:
        self.watermark = max(self.watermark, now)
        return self._emit(self._sweep())

    # -- kinds -------------------------------------------------------------------------------------------

    def _decide(
        self, r: int, d: int, t: float, v: float, up: bool, down: bool, detail: dict[str, Any]
    ) -> list[Found]:
        """Raise on ``up``; clear on ``down`` (never both: hysteresis keeps them apart); else keep."""
        raised = self.raised[self.rules[r].code]
        if up and d not in raised:
            raised.add(d)
            return [(t, t, r, d, "raise", v, detail)]
        if down and d in raised:
            raised.discard(d)
            return [(t, t, r, d, "clear", v, detail)]
        return []

    def _threshold(self, r: int, spec: RuleSpec, d: int, v: float, t: float, is_late: bool) -> list[Found]:
        detail: dict[str, Any] = {"op": spec.op, "threshold": spec.value, "clear_value": spec.clear}
        if is_late:
            detail["late"] = True
        return self._decide(r, d, t, v, spec.compare(v, spec.value), not spec.compare(v, spec.clear), detail)

    def _sequential(
        self, r: int, spec: RuleSpec, d: int, v: float, t: float, history: History, start_watermark: float
    ) -> list[Found]:
        if spec.kind == "absence":
            return self._absence(r, spec, d, t, history, start_watermark)
        base = {"op": spec.op, "threshold": spec.value, "clear_value": spec.clear}
        met = spec.compare(v, spec.value)
        down = not spec.compare(v, spec.clear)
        if spec.kind == "duration":
            since = t
            for pt, pv in reversed(history):  # walk back to where the run of met conditions began
                if not spec.compare(pv, spec.value):
                    break
                since = pt
            up = met and t - since >= spec.minutes_s
            detail = {**base, "minutes": spec.minutes}
            if up and d not in self.raised[spec.code]:
                detail["held_since"] = since
            return self._decide(r, d, t, v, up, down, detail)
        if spec.kind == "repeat":
            run = 0
            for _, pv in reversed([*history, (t, v)]):
                if not spec.compare(pv, spec.value):
                    break
                run += 1
            return self._decide(r, d, t, v, run >= (spec.count or 1), down, {**base, "count": spec.count})
        if spec.kind == "rate":
            if not history or t <= history[-1][0]:
                return []
            pt, pv = history[-1]
            per_min = (v - pv) / (t - pt) * 60.0
            up, down = spec.compare(per_min, spec.value), not spec.compare(per_min, spec.clear)
            return self._decide(r, d, t, v, up, down, {**base, "rate_per_min": per_min})
        return self._forecast(r, spec, d, v, t, history, base)

    def _forecast(
        self, r: int, spec: RuleSpec, d: int, v: float, t: float, history: History, base: dict[str, Any]
    ) -> list[Found]:
        width = (spec.window_minutes or 0.0) * 60.0
        window = math.floor(t / width)
        anchor = next(
            ((pt, pv) for pt, pv in reversed(history) if math.floor(pt / width) <= window - 2), None
        )
        if anchor is None:
            return []
        slope = (v - anchor[1]) / (t - anchor[0]) * 60.0
        projected = v + slope * (spec.horizon_minutes or 0.0)
        detail = {
            **base,
            "horizon_minutes": spec.horizon_minutes,
            "window_minutes": spec.window_minutes,
            "slope_per_min": slope,
            "projected": projected,
        }
        up, down = spec.compare(projected, spec.value), not spec.compare(projected, spec.clear)
        return self._decide(r, d, t, v, up, down, detail)

    def _absence(
        self, r: int, spec: RuleSpec, d: int, t: float, history: History, start_watermark: float
    ) -> list[Found]:
        """Any applied reading ends a silence; a silence the watermark saw outlast ``minutes`` was one."""
        if not history:
            return []
        last = history[-1][0]
        detail = {"minutes": spec.minutes, "last_seen": last}
        raised = self.raised[spec.code]
        out: list[Found] = []
        if d not in raised:
            if not max(start_watermark, t - self.lateness) > last + spec.minutes_s:
                return []
            out.append((t, last + spec.minutes_s, r, d, "raise", None, detail))
        raised.discard(d)
        out.append((t, t, r, d, "clear", None, dict(detail)))
        return out

    def _sweep(self) -> list[Found]:
        out: list[Found] = []
        for r, spec in enumerate(self.rules):
            if spec.kind != "absence":
                continue
            for d in range(len(self.ids)):
                history = self.history.get((d, spec.measurement or ""))
                if not history or d in self.raised[spec.code]:
                    continue
                if spec.device_type is not None and spec.device_type != self.types[d]:
                    continue
                due = history[-1][0] + spec.minutes_s
                if due < self.watermark:
                    self.raised[spec.code].add(d)
                    detail = {"minutes": spec.minutes, "last_seen": history[-1][0]}
                    out.append((math.inf, due, r, d, "raise", None, detail))
        return out

    # -- output and composites ---------------------------------------------------------------------------

    def _emit(self, found: list[Found]) -> list[Transition]:
        found.sort(key=lambda f: (f[0], f[2], f[3]))
        out = []
        for _, t, r, d, kind, v, detail in found:
            spec = self.rules[r]
            group = self.groups[d]
            out.append(
                Transition(
                    spec.code, kind, self.ids[d], group, spec.measurement, t, v,
                    spec.alarm_type, spec.severity, spec.level, detail,
                )
            )  # fmt: skip
            if group is None:
                continue
            for c in self.rules:
                if spec.code in (c.parts or ()):
                    out += self._composite(c, spec.code, kind, t, d, group)
        return out

    def _composite(self, c: RuleSpec, part: str, kind: str, t: float, d: int, group: str) -> list[Transition]:
        parts = c.parts or ()
        open_parts = self.open_parts.setdefault(c.code, {})
        latest = self.latest.setdefault(c.code, {}).setdefault(group, {})
        raised = self.raised[c.code]
        if kind == "raise":
            open_parts[group] = open_parts.get(group, 0) + 1
            if part not in latest or t >= latest[part][0]:
                latest[part] = (t, d)
            times = [latest[p][0] for p in parts if p in latest]
            if (
                group in raised
                or len(times) < len(parts)
                or max(times) - min(times) > (c.within_minutes or 0) * 60.0
            ):
                return []
            raised.add(group)
            at = max(times)
        else:
            open_parts[group] = max(open_parts.get(group, 0) - 1, 0)
            if open_parts[group] or group not in raised:
                return []
            raised.discard(group)
            at = t
        detail = {
            "within_minutes": c.within_minutes,
            "parts": {
                p: {"device": self.ids[latest[p][1]], "raised_at": latest[p][0]} for p in parts if p in latest
            },
        }
        return [
            Transition(
                c.code,
                kind,
                group,
                group,
                None,
                at,
                None,
                c.alarm_type,
                c.severity,
                c.level,
                detail,
                scope="group",
            )
        ]
