"""A whole district's registry in one write: areas, departments, buildings, units, residents, venues,
licences and facilities, as plain rows (a city IT team's export, or the demo's generated district).

A bulk load is one write: one audit row and one ``registry.district.seeded`` event carry the counts and a
digest of what was loaded, rather than a hundred thousand rows each (which would only bury the log).
Positions are located and protected fields sealed here, as the one-by-one actions do.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

import numpy as np
from shapely.geometry.base import BaseGeometry
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from urbanbrain.core.actions import record
from urbanbrain.core.auth.principal import Principal
from urbanbrain.core.context import Platform
from urbanbrain.core.errors import UrbanBrainError, register_messages
from urbanbrain.core.geodesy import area_km2
from urbanbrain.core.models import Department
from urbanbrain.domains.registry import events, spatial
from urbanbrain.domains.registry.models import Area, Building, Facility, Licence, Resident, Unit, Venue
from urbanbrain.domains.registry.schemas import DistrictLoad, Row

register_messages(
    {
        "registry.already_seeded": (
            409,
            "辖区 {code} 已载入，无需重复。",
            "The district {code} is already loaded.",
        ),
    }
)

CHUNK = 5000


def _chunks(rows: list[Row], size: int = CHUNK) -> Iterable[list[Row]]:
    for i in range(0, len(rows), size):
        yield rows[i : i + size]


def _bulk(session: Session, model: Any, rows: list[Row]) -> None:
    for chunk in _chunks(rows):
        session.execute(insert(model), chunk)


def _ids(session: Session, model: Any) -> dict[str, int]:
    return {code: id_ for code, id_ in session.execute(select(model.code, model.id))}


def _area_row(a: Row) -> Row:
    geom: BaseGeometry = a["geometry"]
    min_lon, min_lat, max_lon, max_lat = geom.bounds
    return {
        "code": a["code"],
        "name": a["name"],
        "name_en": a.get("name_en", ""),
        "level": a["level"],
        "parent_code": a.get("parent_code"),
        "approximate": a.get("approximate", False),
        "geom": geom,
        "min_lon": min_lon,
        "min_lat": min_lat,
        "max_lon": max_lon,
        "max_lat": max_lat,
        "area_km2": round(area_km2(geom), 6),
        "properties": dict(a.get("properties") or {}),
        "version": 1,
    }


def do_load_district(
    session: Session, platform: Platform, actor: Principal, data: DistrictLoad
) -> dict[str, int]:
    """Load a district into an empty registry, in the caller's one transaction; returns the counts."""
    actor.require("registry.areas.write")
    district = next(a for a in data.areas if a["level"] == "district")
    if session.scalar(select(Area.id).where(Area.code == district["code"])) is not None:
        raise UrbanBrainError("registry.already_seeded", code=district["code"])
    now = platform.clock.now()
    area_rows = [_area_row(a) for a in data.areas]
    _bulk(session, Area, area_rows)
    existing = set(session.scalars(select(Department.code)))
    depts = [dict(d, active=True, version=1) for d in data.departments if d["code"] not in existing]
    _bulk(session, Department, depts)
    session.flush()
    spatial.invalidate(platform)
    lookup = spatial.get_lookup(platform, session)
    seal = platform.protector.seal
    index = platform.protector.index
    stamp = {"created_at": now, "updated_at": now, "version": 1}

    def located(rows: list[Row]) -> list[Row]:
        if not rows:
            return []
        where = lookup.locate_many(np.array([r["lon"] for r in rows]), np.array([r["lat"] for r in rows]))
        return [
            dict(
                r, street_code=w.street_code, community_code=w.community_code, grid_code=w.grid_code, **stamp
            )
            for r, w in zip(rows, where, strict=True)
        ]

    buildings = located([dict(b, owner_phone=seal(b.get("owner_phone"))) for b in data.buildings])
    _bulk(session, Building, buildings)
    building_ids = _ids(session, Building)

    units = [
        dict(
            {k: v for k, v in u.items() if k != "building_code"},
            building_id=building_ids[u["building_code"]],
            **stamp,
        )
        for u in data.units
    ]
    _bulk(session, Unit, units)
    unit_ids = _ids(session, Unit)

    residents = []
    for r in data.residents:
        row = {k: v for k, v in r.items() if k != "unit_code"}
        row.update(
            unit_id=unit_ids[r["unit_code"]],
            id_number=seal(r.get("id_number")),
            id_number_index=index(r.get("id_number")),
            phone=seal(r.get("phone")),
            **stamp,
        )
        residents.append(row)
    _bulk(session, Resident, residents)

    venues = located(
        [
            dict(
                {k: v for k, v in v.items() if k != "building_code"},
                building_id=building_ids.get(v["building_code"]) if v.get("building_code") else None,
                operator_phone=seal(v.get("operator_phone")),
            )
            for v in data.venues
        ]
    )
    _bulk(session, Venue, venues)
    venue_ids = _ids(session, Venue)
    licences = [
        dict({k: v for k, v in lic.items() if k != "venue_code"}, venue_id=venue_ids[lic["venue_code"]])
        for lic in data.licences
    ]
    _bulk(session, Licence, licences)

    dept_ids = _ids(session, Department)
    facilities = located(
        [
            dict(
                {k: v for k, v in f.items() if k != "owner_department_code"},
                owner_department_id=dept_ids[f["owner_department_code"]],
            )
            for f in data.facilities
        ]
    )
    _bulk(session, Facility, facilities)

    counts = {
        "areas": len(area_rows),
        "departments": len(depts),
        "buildings": len(buildings),
        "units": len(units),
        "residents": len(residents),
        "venues": len(venues),
        "licences": len(licences),
        "facilities": len(facilities),
    }
    digest = hashlib.sha256(repr(sorted(b["code"] for b in buildings)).encode()).hexdigest()
    record(
        session,
        platform.clock,
        actor,
        action="registry.district.seed",
        entity_type="district",
        entity_id=district["code"],
        before=None,
        after={"counts": counts, **data.note, "building_codes_sha256": digest},
        event=events.DISTRICT_SEEDED,
        payload={"code": district["code"], "counts": counts},
    )
    return counts
