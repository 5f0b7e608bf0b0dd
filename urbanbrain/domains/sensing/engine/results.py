"""What the engine hands back: alarm transitions, rejected readings and counts."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Why a reading was not evaluated; the caller dead-letters it with this reason.
UNKNOWN_DEVICE = "unknown_device"
UNKNOWN_MEASUREMENT = "unknown_measurement"
NOT_A_NUMBER = "not_a_number"
BAD_TIMESTAMP = "bad_timestamp"
TOO_LATE = "too_late"
# Event times beyond this (about the year 5138) are a device's broken clock, not a reading.
MAX_ABS_TS = 1e11


@dataclass(frozen=True)
class Transition:
    """An alarm raised or cleared at ``event_ts`` (the event time of the reading or silence that caused it).

    ``device`` is the device id, or for a group-scoped (composite) rule the group key, with ``scope`` saying
    which. ``value`` is the reading's value; ``None`` for absence and composite rules. ``detail`` holds the
    rule's numbers (op, threshold, clear_value, minutes, count...) and what was measured: ``held_since``
    (duration raise), ``rate_per_min``, ``slope_per_min`` and ``projected`` (forecast), ``last_seen``
    (absence), the parts' latest raises (composite), and ``late: True`` when a late reading caused it."""

    rule_code: str
    kind: str  # "raise" | "clear"
    device: str
    group: str | None
    measurement: str | None
    event_ts: float
    value: float | None
    alarm_type: str
    severity: str
    level: str
    detail: dict[str, Any] = field(default_factory=dict, hash=False)
    scope: str = "device"  # "device" | "group"


@dataclass
class EvalResult:
    """One batch's outcome. ``rejected`` holds (position in the batch, reason) for readings not evaluated."""

    transitions: list[Transition]
    rejected: list[tuple[int, str]]
    stats: dict[str, int]
