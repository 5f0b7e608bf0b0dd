"""The hazard types (``hazard_types.toml``), loaded once, and the deadline rule they feed."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone
from functools import lru_cache
from pathlib import Path

from urbanbrain.core.errors import UrbanBrainError, register_messages

register_messages(
    {
        "fire_safety.unknown_hazard_type": (
            422,
            "未知的隐患类型：{code}（可选：{allowed}）。",
            "Unknown hazard type: {code} (choose from: {allowed}).",
        ),
    }
)


@dataclass(frozen=True)
class HazardType:
    code: str
    zh: str
    en: str
    deadline_days: int
    case_category: str  # the case class an escalation files (cases/taxonomy.toml)

    @property
    def name(self) -> dict[str, str]:
        return {"zh-CN": self.zh, "en": self.en}


@lru_cache(maxsize=1)
def load() -> dict[str, HazardType]:
    """Every type by code, in the file's order."""
    raw = tomllib.loads(Path(__file__).with_name("hazard_types.toml").read_text(encoding="utf-8"))
    return {
        t["code"]: HazardType(t["code"], t["zh"], t["en"], int(t["deadline_days"]), t["case_category"])
        for t in raw["type"]
    }


def get(code: str) -> HazardType:
    found = load().get(code)
    if found is None:
        raise UrbanBrainError("fire_safety.unknown_hazard_type", code=code, allowed=", ".join(load()))
    return found


def local_day(at: datetime, utc_offset_hours: int) -> date:
    return at.astimezone(timezone(timedelta(hours=utc_offset_hours))).date()


def deadline_for(start: datetime, days: int, utc_offset_hours: int) -> datetime:
    """The end of the ``days``-th calendar day after the local day of ``start`` (local midnight, in UTC).

    Rectification orders name a last day (整改期限), not an hour: a hazard found at 17:00 with one day
    has all of the next day, like one found at 09:00."""
    tz = timezone(timedelta(hours=utc_offset_hours))
    last = local_day(start, utc_offset_hours) + timedelta(days=days)
    return datetime.combine(last + timedelta(days=1), time(0), tzinfo=tz).astimezone(UTC)


def last_day(deadline: datetime, utc_offset_hours: int) -> date:
    """The last local day a deadline allows (the day before the local midnight it falls on)."""
    return local_day(deadline, utc_offset_hours) - timedelta(days=1)
