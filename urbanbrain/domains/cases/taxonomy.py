"""The two-level case taxonomy (``taxonomy.toml``), loaded once."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from urbanbrain.core.errors import UrbanBrainError


@dataclass(frozen=True)
class Minor:
    code: str
    name: str
    name_en: str
    major: str
    kind: str  # component | event
    department: str
    priority: int
    accept_minutes: int
    resolve_hours: float
    calendar: str  # calendar | working
    facility_kinds: tuple[str, ...]
    examples: tuple[str, ...] = ()
    """A few ways citizens say it: shown to dispatchers, and part of the classifier's corpus."""
    emergency_call: str | None = None

    @property
    def call_now(self) -> str:
        """The number an emergency of this class is told to call: the class's own, else by department."""
        return self.emergency_call or {"fire": "119", "health": "120"}.get(self.department, "110")


PLACE_DEPARTMENTS = ("street_office", "community_station")
"""Class owners that are not one department but the office of the report's place (routing resolves them)."""


@dataclass(frozen=True)
class Major:
    code: str
    kind: str
    name: str
    name_en: str
    minors: tuple[Minor, ...]


@dataclass(frozen=True)
class Taxonomy:
    majors: tuple[Major, ...]

    @property
    def minors(self) -> dict[str, Minor]:
        return {m.code: m for major in self.majors for m in major.minors}

    def minor(self, code: str) -> Minor:
        found = self.minors.get(code)
        if found is None:
            raise UrbanBrainError("cases.unknown_category", code=code)
        return found

    def major(self, code: str) -> Major:
        for m in self.majors:
            if m.code == code:
                return m
        raise UrbanBrainError("cases.unknown_category", code=code)

    def for_facility_kind(self, kind: str) -> Minor | None:
        for m in self.minors.values():
            if kind in m.facility_kinds:
                return m
        return None


@lru_cache(maxsize=1)
def load() -> Taxonomy:
    raw = tomllib.loads((Path(__file__).with_name("taxonomy.toml")).read_text(encoding="utf-8"))
    majors = []
    for major in raw["major"]:
        minors = tuple(
            Minor(
                code=m["code"],
                name=m["name"],
                name_en=m["name_en"],
                major=major["code"],
                kind=major["kind"],
                department=m["department"],
                priority=int(m["priority"]),
                accept_minutes=int(m["accept_minutes"]),
                resolve_hours=float(m["resolve_hours"]),
                calendar=m["calendar"],
                facility_kinds=tuple(m.get("facility_kinds", ())),
                examples=tuple(m.get("examples", ())),
                emergency_call=m.get("emergency_call"),
            )
            for m in major["minor"]
        )
        majors.append(Major(major["code"], major["kind"], major["name"], major["name_en"], minors))
    return Taxonomy(tuple(majors))


def minor_codes() -> list[str]:
    """Every minor class's code: the ``case_category`` code list other domains check their codes against."""
    return list(load().minors)
