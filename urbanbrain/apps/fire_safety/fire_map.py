"""The building fire map of an urban village (城中村消防一张图): every coded building as a GeoJSON feature with
its IoT fire devices, open alarms and open hazards, and one status to colour it by.

A building's status is the first that holds:

    red | orange | yellow | blue   the highest warning level among its open alarms
    hazard                         an inspection found a hazard that is not closed yet
    monitored                      it has fire devices and nothing is wrong
    unmonitored                    no devices (and nothing known to be wrong)
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from urbanbrain.apps.fire_safety.lifecycle import OPEN_STATES
from urbanbrain.apps.fire_safety.models import Hazard
from urbanbrain.apps.fire_safety.queries import check_area
from urbanbrain.core.auth.principal import Principal
from urbanbrain.core.errors import UrbanBrainError, register_messages
from urbanbrain.domains.registry import queries as registry
from urbanbrain.domains.sensing.queries import building_status

# Most urgent first: the summary lists them in this order.
STATUSES = ("red", "orange", "yellow", "blue", "hazard", "monitored", "unmonitored")

register_messages(
    {"fire_safety.village_not_found": (404, "找不到城中村 {code}。", "No urban village {code}.")}
)


def village_area(session: Session, principal: Principal, code: str) -> Any:
    """The village (a registry area of level ``village``), if it lies in the principal's area."""
    try:
        village = registry.get_area(session, code)
    except UrbanBrainError:
        village = None
    if village is None or village.level != "village":
        raise UrbanBrainError("fire_safety.village_not_found", code=code)
    # A village sits inside one community; the community's parent is the street.
    community = registry.get_area(session, village.parent_code) if village.parent_code else None
    check_area(principal, community.parent_code if community else None, village.parent_code)
    return village


def open_hazards(session: Session, building_codes: list[str]) -> dict[str, int]:
    """Hazards not closed, per building, in one grouped query."""
    if not building_codes:
        return {}
    rows = session.execute(
        select(Hazard.building_code, func.count())
        .where(Hazard.building_code.in_(building_codes), Hazard.state.in_(OPEN_STATES))
        .group_by(Hazard.building_code)
    )
    return {code: n for code, n in rows if code}


def status_of(devices: int, level: str | None, hazards: int) -> str:
    if level:
        return level
    if hazards:
        return "hazard"
    return "monitored" if devices else "unmonitored"


def _feature(b: dict[str, Any], sensed: dict[str, Any], hazards: int) -> dict[str, Any]:
    geometry = b["footprint"] or {"type": "Point", "coordinates": [b["lon"], b["lat"]]}
    devices, level = sensed.get("devices", 0), sensed.get("level")
    return {
        "type": "Feature",
        "id": b["code"],
        "geometry": geometry,
        "properties": {
            "code": b["code"],
            "name": b["name"],
            "address": b["address"],
            "floors": b["floors"],
            "use": b["use"],
            "devices": devices,
            "open_alarms": sensed.get("open_alarms", 0),
            "level": level,
            "open_hazards": hazards,
            "status": status_of(devices, level, hazards),
        },
    }


def fire_map(session: Session, principal: Principal, village_code: str) -> dict[str, Any]:
    """A GeoJSON FeatureCollection of the village's buildings; ``properties`` counts buildings per status.
    A fixed handful of queries (the buildings, sensing's grouped counts, the hazards), however many buildings."""
    village = village_area(session, principal, village_code)
    buildings = registry.buildings_in_village(session, village_code)
    codes = [b["code"] for b in buildings]
    sensed = building_status(session, codes) if codes else {}
    hazards = open_hazards(session, codes)
    features = [_feature(b, sensed.get(b["code"], {}), hazards.get(b["code"], 0)) for b in buildings]
    by_status = dict.fromkeys(STATUSES, 0)
    for f in features:
        by_status[f["properties"]["status"]] += 1
    return {
        "type": "FeatureCollection",
        "properties": {
            "village_code": village.code,
            "village_name": {"zh-CN": village.name, "en": village.name_en},
            "buildings": len(features),
            "by_status": by_status,
        },
        "features": features,
    }
