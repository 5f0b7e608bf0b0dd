"""From a zone's estimates to its warnings, judged at each tick of event time.

Two alarms per zone, each at most one open (the sensing platform's rule):
- ``crowd.density``: the level the density has reached now (blue to red). A change of level clears the
  alarm at the old level and raises one at the new, so the centre sees each step up or down.
- ``crowd.forecast``: "will reach the danger density (orange, 5 persons/m² by default) within N minutes",
  raised when the forecast crosses it within the horizon. Its level says how soon: yellow within 15 minutes,
  orange within 10, red within 5 (a crowd rising fast reaches red sooner: the escalation).

A warning is raised when its condition has held for ``hold_ticks`` ticks (one noisy tick is not a
crowd), and cleared when it has been off for ``clear_ticks`` (no flapping at a threshold). Density levels
clear at 90% of their threshold (hysteresis)."""

from __future__ import annotations

from dataclasses import dataclass, field

from urbanbrain.domains.crowd.estimate import Snapshot
from urbanbrain.domains.crowd.levels import LEVELS, Thresholds, rank

DENSITY = "crowd.density"
FORECAST = "crowd.forecast"


@dataclass(frozen=True)
class Policy:
    horizon_min: float = 15.0
    lead_levels: tuple[tuple[float, str], ...] = ((5.0, "red"), (10.0, "orange"), (15.0, "yellow"))
    hold_ticks: int = 2
    # a yellow forecast (danger 10-15 minutes away) must hold for 3 minutes: a safe evening that is still
    # filling up looks like that for a minute or two (on the tune scenarios: no false warning with 6 ticks,
    # 1 of 15 with 4, 3 of 15 with 2; none late either way)
    yellow_hold_ticks: int = 6
    clear_ticks: int = 4
    hysteresis: float = 0.9


@dataclass
class Change:
    kind: str  # raise | clear
    alarm_type: str
    level: str
    snapshot: Snapshot
    detail: dict[str, float | str | None] = field(default_factory=dict)


@dataclass
class ZoneWarnings:
    """The open warnings of one zone and the counters that debounce them."""

    thresholds: Thresholds
    policy: Policy = field(default_factory=Policy)
    open: dict[str, str] = field(default_factory=dict)  # alarm type -> level raised
    _pending: dict[str, tuple[str | None, int]] = field(default_factory=dict)  # alarm type -> (level, ticks)

    def judge(self, snap: Snapshot) -> list[Change]:
        out: list[Change] = []
        out += self._step(DENSITY, self._density_level(snap), snap)
        out += self._step(FORECAST, self._forecast_level(snap), snap)
        return out

    def _density_level(self, snap: Snapshot) -> str | None:
        level = self.thresholds.level(snap.density)
        held = self.open.get(DENSITY)
        if held and rank(level) < rank(held):
            # stay at the held level until the density is clearly below its threshold
            start = self.thresholds.density[LEVELS.index(held)]
            if snap.density >= start * self.policy.hysteresis:
                return held
        return level

    def _forecast_level(self, snap: Snapshot) -> str | None:
        lead = snap.minutes_to_danger
        if lead is None or lead <= 0:  # not rising towards danger, or already there (the density alarm)
            return None
        for within, level in self.policy.lead_levels:
            if lead <= within:
                return level
        return None

    def _step(self, alarm_type: str, level: str | None, snap: Snapshot) -> list[Change]:
        held = self.open.get(alarm_type)
        if level == held:
            self._pending.pop(alarm_type, None)
            return []
        want, ticks = self._pending.get(alarm_type, (level, 0))
        ticks = ticks + 1 if want == level else 1
        self._pending[alarm_type] = (level, ticks)
        rising = rank(level) > rank(held)
        # a step up needs hold_ticks; a step down or an end needs clear_ticks (warn fast, calm down slowly)
        hold = self.policy.hold_ticks
        if alarm_type == FORECAST and level == "yellow":
            hold = self.policy.yellow_hold_ticks
        if ticks < (hold if rising else self.policy.clear_ticks):
            return []
        self._pending.pop(alarm_type, None)
        out = []
        if held is not None:
            out.append(Change("clear", alarm_type, held, snap))
            del self.open[alarm_type]
        if level is not None:
            out.append(Change("raise", alarm_type, level, snap, self._detail(alarm_type, snap)))
            self.open[alarm_type] = level
        return out

    def _detail(self, alarm_type: str, snap: Snapshot) -> dict[str, float | str | None]:
        detail: dict[str, float | str | None] = {
            "density": round(snap.density, 3),
            "occupancy": round(snap.occupancy),
            "flow_per_min": round(snap.flow_per_min, 1),
        }
        if alarm_type == FORECAST:
            detail["danger_density"] = self.thresholds.danger
            detail["minutes_to_danger"] = (
                None if snap.minutes_to_danger is None else round(snap.minutes_to_danger, 1)
            )
        return detail
