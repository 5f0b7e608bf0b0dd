"""Alarm rules (告警规则) as data: what a rule watches, when it raises and clears, and how its alarm is named.

A rule is checked when it is made, so a rule that reaches the engine is always well formed; a bad rule from
the API fails with a ``ValueError`` whose message names the rule and the field.
"""

from __future__ import annotations

import math
import numbers
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from typing import Any

from urbanbrain.core.levels import LEVELS

KINDS = ("threshold", "duration", "repeat", "rate", "absence", "composite", "forecast")
OPS: dict[str, Callable[[Any, Any], Any]] = {
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
}
SEVERITIES = ("critical", "major", "minor", "warning", "indeterminate")  # as ThingsBoard names them
# The shortest forecast window: it keeps bucket numbers of a batch within int64 (see kinds.forecast).
MIN_WINDOW_MINUTES = 1 / 60

_COMMON = ("code", "kind", "alarm_type", "severity", "level")
# kind: (fields it needs, fields it may have)
_SHAPE: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "threshold": (("measurement", "op", "value"), ("clear_value", "device_type")),
    "duration": (("measurement", "op", "value", "minutes"), ("clear_value", "device_type")),
    "repeat": (("measurement", "op", "value", "count"), ("clear_value", "device_type")),
    "rate": (("measurement", "op", "value"), ("clear_value", "device_type")),
    "absence": (("measurement", "minutes"), ("device_type",)),
    "composite": (("parts", "within_minutes"), ()),
    "forecast": (
        ("measurement", "op", "value", "horizon_minutes", "window_minutes"),
        ("clear_value", "device_type"),
    ),
}
_NUMBERS = ("value", "clear_value", "minutes", "within_minutes", "horizon_minutes", "window_minutes")


@dataclass(frozen=True)
class RuleSpec:
    """One alarm rule. ``clear_value`` gives hysteresis: a raised alarm clears only once the watched quantity
    is back beyond it (``not (x op clear_value)``); it defaults to ``value``."""

    code: str
    kind: str
    alarm_type: str
    severity: str
    level: str
    measurement: str | None = None
    device_type: str | None = None
    op: str | None = None
    value: float | None = None
    clear_value: float | None = None
    minutes: float | None = None
    count: int | None = None
    parts: tuple[str, ...] | None = None
    within_minutes: float | None = None
    horizon_minutes: float | None = None
    window_minutes: float | None = None

    def __post_init__(self) -> None:
        _check(self)

    @property
    def threshold(self) -> float:
        """The raising threshold (0 for kinds that have none)."""
        return 0.0 if self.value is None else self.value

    @property
    def clear(self) -> float:
        """Where a raised alarm clears: ``clear_value``, else the threshold itself."""
        return self.threshold if self.clear_value is None else self.clear_value

    @property
    def minutes_s(self) -> float:
        """``minutes`` in seconds (0 for kinds that have none)."""
        return 0.0 if self.minutes is None else self.minutes * 60.0

    @property
    def compare(self) -> Callable[[Any, Any], Any]:
        """The operator of ``op``; works on floats and numpy arrays alike."""
        return OPS[self.op or ">"]

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RuleSpec:
        """A rule from its JSON form; unknown or missing fields raise ``ValueError``."""
        if not isinstance(data, Mapping):
            raise ValueError(f"a rule is an object of fields, not {type(data).__name__}")
        code = data.get("code")
        unknown = sorted(set(data) - {f.name for f in fields(cls)})
        if unknown:
            raise ValueError(f"rule {code!r}: unknown field(s) {', '.join(map(repr, unknown))}")
        missing = [name for name in _COMMON if data.get(name) is None]
        if missing:
            raise ValueError(f"rule {code!r}: missing field(s) {', '.join(map(repr, missing))}")
        return cls(**dict(data))

    def to_dict(self) -> dict[str, Any]:
        """The JSON form: common fields plus those this kind uses; ``from_dict(to_dict())`` gives it back."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if value is not None:
                out[f.name] = list(value) if f.name == "parts" else value
        return out


def _check(spec: RuleSpec) -> None:
    where = f"rule {spec.code!r}"
    if not isinstance(spec.code, str) or not spec.code.strip():
        raise ValueError(f"{where}: 'code' must be a non-empty string")
    if spec.kind not in _SHAPE:
        raise ValueError(f"{where}: 'kind' must be one of {', '.join(KINDS)}, not {spec.kind!r}")
    if not isinstance(spec.alarm_type, str) or not spec.alarm_type.strip():
        raise ValueError(f"{where}: 'alarm_type' must be a non-empty string")
    if spec.severity not in SEVERITIES:
        raise ValueError(f"{where}: 'severity' must be one of {', '.join(SEVERITIES)}, not {spec.severity!r}")
    if spec.level not in LEVELS:
        raise ValueError(f"{where}: 'level' must be one of {', '.join(LEVELS)}, not {spec.level!r}")
    needs, may = _SHAPE[spec.kind]
    for f in fields(spec):
        if f.name in _COMMON:
            continue
        given = getattr(spec, f.name) is not None
        if f.name in needs and not given:
            raise ValueError(f"{where}: a rule of kind {spec.kind!r} needs {f.name!r}")
        if given and f.name not in needs and f.name not in may:
            raise ValueError(f"{where}: {f.name!r} does not apply to a rule of kind {spec.kind!r}")
    for name in ("measurement", "device_type"):
        text = getattr(spec, name)
        if text is not None and (not isinstance(text, str) or not text.strip()):
            raise ValueError(f"{where}: {name!r} must be a non-empty string")
    if spec.op is not None and spec.op not in OPS:
        raise ValueError(f"{where}: 'op' must be one of {', '.join(OPS)}, not {spec.op!r}")
    for name in _NUMBERS:
        number = getattr(spec, name)
        if number is None:
            continue
        if isinstance(number, bool) or not isinstance(number, numbers.Real) or not math.isfinite(number):
            raise ValueError(f"{where}: {name!r} must be a finite number, not {number!r}")
        object.__setattr__(spec, name, float(number))  # 70 and 70.0 must make equal rules
    for name in ("minutes", "horizon_minutes"):
        if getattr(spec, name) is not None and getattr(spec, name) <= 0:
            raise ValueError(f"{where}: {name!r} must be greater than 0")
    if spec.within_minutes is not None and spec.within_minutes < 0:
        raise ValueError(f"{where}: 'within_minutes' must not be negative")
    if spec.window_minutes is not None and spec.window_minutes < MIN_WINDOW_MINUTES:
        raise ValueError(f"{where}: 'window_minutes' must be at least one second ({MIN_WINDOW_MINUTES:g})")
    if spec.count is not None and (
        isinstance(spec.count, bool) or not isinstance(spec.count, numbers.Integral) or spec.count < 1
    ):
        raise ValueError(f"{where}: 'count' must be a whole number of at least 1, not {spec.count!r}")
    if spec.count is not None:
        object.__setattr__(spec, "count", int(spec.count))
    if spec.parts is not None:
        _check_parts(spec, where)
    if spec.clear_value is not None and spec.value is not None:
        rising = spec.op in (">", ">=")
        if (rising and spec.clear_value > spec.value) or (not rising and spec.clear_value < spec.value):
            side = "at or below" if rising else "at or above"
            raise ValueError(
                f"{where}: 'clear_value' {spec.clear_value:g} must lie {side} 'value' {spec.value:g} "
                f"for op {spec.op!r}, or the alarm would clear while the condition still holds"
            )


def _check_parts(spec: RuleSpec, where: str) -> None:
    parts = spec.parts
    if isinstance(parts, str) or not isinstance(parts, list | tuple):
        raise ValueError(f"{where}: 'parts' must be a list of rule codes")
    if len(parts) < 2 or len(set(parts)) != len(parts):
        raise ValueError(f"{where}: 'parts' must name at least 2 different rules")
    if not all(isinstance(p, str) and p.strip() for p in parts):
        raise ValueError(f"{where}: 'parts' must be rule codes (non-empty strings)")
    if spec.code in parts:
        raise ValueError(f"{where}: a composite rule cannot be one of its own parts")
    object.__setattr__(spec, "parts", tuple(parts))


def check_rule_set(rules: list[RuleSpec]) -> None:
    """Rules that make sense together: unique codes, composites made of existing non-composite rules."""
    by_code: dict[str, RuleSpec] = {}
    for spec in rules:
        if not isinstance(spec, RuleSpec):
            raise ValueError(f"rules must be RuleSpec objects, not {type(spec).__name__}")
        if spec.code in by_code:
            raise ValueError(f"rule {spec.code!r}: two rules have this code")
        by_code[spec.code] = spec
    for spec in rules:
        for part in spec.parts or ():
            if part not in by_code:
                raise ValueError(f"rule {spec.code!r}: part {part!r} is not a rule")
            if by_code[part].kind == "composite":
                raise ValueError(f"rule {spec.code!r}: part {part!r} is itself a composite rule")
