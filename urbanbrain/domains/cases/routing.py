"""Routing: which department owns a case, from rules by class × area × facility owner.

Rules are rows (``cases_routing_rule``), tried by rank; the taxonomy's department for the class is the
last resort. A case nothing routes goes to the triage queue: recorded and shown, never dropped.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from urbanbrain.domains.cases.models import Case, RoutingRule
from urbanbrain.domains.cases.taxonomy import load as taxonomy

STREET_OFFICE = "@street_office"
COMMUNITY_STATION = "@community_station"
OWNER_OF_PLACE = {"street_office": STREET_OFFICE, "community_station": COMMUNITY_STATION}


@dataclass(frozen=True)
class Route:
    department_code: str
    reason: str  # facility_owner | rule:<id> | taxonomy


def _category_matches(rule: RoutingRule, minor: str) -> bool:
    return rule.category_code is None or rule.category_code in (minor, minor[:3])


def _area_matches(rule: RoutingRule, case: Any) -> bool:
    return rule.area_code is None or rule.area_code in (case.street_code, case.community_code, case.grid_code)


def _resolve(department: str | None, case: Any) -> str | None:
    if department == STREET_OFFICE:
        return f"street-{case.street_code}" if case.street_code else None
    if department == COMMUNITY_STATION:
        return f"station-{case.community_code}" if case.community_code else None
    return department


def active_rules(session: Session) -> list[RoutingRule]:
    return list(
        session.scalars(
            select(RoutingRule).where(RoutingRule.active.is_(True)).order_by(RoutingRule.rank, RoutingRule.id)
        )
    )


def route(session: Session, case: Case, facility_owner: str | None, known: set[str]) -> Route | None:
    """The department for ``case``, or None when nothing routes it. ``known`` are the existing codes."""
    return route_by(active_rules(session), case, facility_owner, known)


def route_by(
    rules: list[RoutingRule], case: Any, facility_owner: str | None, known: set[str]
) -> Route | None:
    """:func:`route` with the rules already read (batch intake reads them once per batch). ``case`` needs
    ``category_code``, ``street_code``, ``community_code`` and ``grid_code``."""
    if not case.category_code:
        return None
    for rule in rules:
        if not (_category_matches(rule, case.category_code) and _area_matches(rule, case)):
            continue
        if rule.facility_owner:
            if facility_owner and facility_owner in known:
                return Route(facility_owner, "facility_owner")
            continue
        dept = _resolve(rule.department_code, case)
        if dept and dept in known:
            return Route(dept, f"rule:{rule.id}")
    default = taxonomy().minors.get(case.category_code)
    if default is not None:
        # A class the place's own office owns (a neighbour dispute: the street office where it happens).
        dept = _resolve(OWNER_OF_PLACE.get(default.department, default.department), case)
        if dept and dept in known:
            return Route(dept, "taxonomy")
    return None
