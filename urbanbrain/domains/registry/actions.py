"""Every registry write: ``do_<verb>_<noun>()`` checks the actor's permission and data scope, changes rows,
writes the audit row and queues the event in the caller's transaction (through :mod:`urbanbrain.core.entities`).
Positions are validated and located here, so no caller can skip it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from urbanbrain.core import entities, sequence
from urbanbrain.core.auth.principal import Principal
from urbanbrain.core.context import Platform
from urbanbrain.core.entities import EntityKind
from urbanbrain.core.errors import UrbanBrainError, register_messages
from urbanbrain.core.geodesy import area_km2
from urbanbrain.core.models import Department
from urbanbrain.domains.registry import spatial
from urbanbrain.domains.registry.access import check_row
from urbanbrain.domains.registry.bulk import do_load_district as do_load_district  # the bulk load
from urbanbrain.domains.registry.models import Area, Building, Facility, Licence, Resident, Unit, Venue
from urbanbrain.domains.registry.schemas import (
    FACILITY_CODE_PREFIX,
    AreaCreate,
    AreaUpdate,
    BuildingCreate,
    BuildingUpdate,
    DepartmentCreate,
    DepartmentUpdate,
    FacilityCreate,
    FacilityUpdate,
    LicenceCreate,
    ResidentCreate,
    ResidentUpdate,
    UnitCreate,
    UnitUpdate,
    VenueCreate,
    VenueUpdate,
)

register_messages(
    {
        "registry.code_taken": (409, "编码 {code} 已被使用。", "The code {code} is already in use."),
        "registry.parent_missing": (
            422,
            "上级区域 {code} 不存在。",
            "The parent area {code} does not exist.",
        ),
        "registry.level_order": (
            422,
            "{level} 级区域的上级必须是 {parent_level}。",
            "A {level} must sit inside a {parent_level}.",
        ),
    }
)

PARENT_LEVEL = {"street": "district", "community": "street", "grid_cell": "community", "village": "community"}
BUILDING_PROTECTED = ("owner_name", "owner_phone")
VENUE_PROTECTED = ("operator_name", "operator_phone")
RESIDENT_PROTECTED = ("name", "id_number", "phone", "id_number_index")

AREA = EntityKind("registry", "area", payload=lambda a: {"level": a.level})
DEPARTMENT = EntityKind("registry", "department")
BUILDING = EntityKind(
    "registry", "building", protected=BUILDING_PROTECTED, payload=lambda b: {"grid_code": b.grid_code}
)
UNIT = EntityKind("registry", "unit", payload=lambda u: {"building_id": u.building_id})
RESIDENT = EntityKind("registry", "resident", key="id", protected=RESIDENT_PROTECTED,
                      payload=lambda r: {"unit_id": r.unit_id})  # fmt: skip
VENUE = EntityKind("registry", "venue", protected=VENUE_PROTECTED, payload=lambda v: {"kind": v.kind})
LICENCE = EntityKind("registry", "licence", key="number", payload=lambda lic: {"venue_id": lic.venue_id})
FACILITY = EntityKind("registry", "facility", payload=lambda f: {"kind": f.kind, "status": f.status})


def _unique(session: Session, model: Any, code: str) -> None:
    if session.scalar(select(model.id).where(model.code == code)) is not None:
        raise UrbanBrainError("registry.code_taken", code=code)


def _place(platform: Platform, session: Session, lon: float, lat: float) -> spatial.Located:
    lookup = spatial.get_lookup(platform, session)
    lookup.check(lon, lat)
    return lookup.locate(lon, lat)


def _located(where: spatial.Located) -> dict[str, str | None]:
    return {
        "street_code": where.street_code,
        "community_code": where.community_code,
        "grid_code": where.grid_code,
    }


def _moved(platform: Platform, session: Session, actor: Principal, row: Any, changes: dict[str, Any]) -> None:
    """A new position is checked, located and within the actor's scope; its area codes join the changes."""
    if "lon" in changes or "lat" in changes:
        where = _place(platform, session, changes.get("lon", row.lon), changes.get("lat", row.lat))
        check_row(actor, street_code=where.street_code, community_code=where.community_code)
        changes.update(_located(where))


def _department(session: Session, code: str) -> Department:
    dept = session.scalar(select(Department).where(Department.code == code))
    if dept is None:
        raise UrbanBrainError("not_found", what=f"department {code}")
    return dept


def _building(session: Session, code: str) -> Building:
    b = session.scalar(select(Building).where(Building.code == code))
    if b is None:
        raise UrbanBrainError("not_found", what=f"building {code}")
    return b


def _changes(row: Any, data: Any, *leave_out: str) -> dict[str, Any]:
    """The fields a PATCH sent, less ``version`` and those the action handles itself; a null for a column
    the table requires is refused here, before anything looks at it."""
    changes: dict[str, Any] = data.model_dump(exclude_unset=True, exclude={"version", *leave_out})
    entities.refuse_nulls(row, changes)
    return changes


# --- areas -------------------------------------------------------------------------------------------


def _area_geometry_fields(geom: Any) -> dict[str, Any]:
    min_lon, min_lat, max_lon, max_lat = geom.bounds
    return {"geom": geom, "min_lon": min_lon, "min_lat": min_lat, "max_lon": max_lon, "max_lat": max_lat,
            "area_km2": round(area_km2(geom), 6)}  # fmt: skip


def do_create_area(session: Session, platform: Platform, actor: Principal, data: AreaCreate) -> Area:
    actor.require("registry.areas.write")
    _unique(session, Area, data.code)
    geom = spatial.parse_geojson_geometry(data.geometry, ("Polygon", "MultiPolygon"))
    if data.level != "district":
        parent = (
            session.scalar(select(Area).where(Area.code == data.parent_code)) if data.parent_code else None
        )
        if parent is None:
            raise UrbanBrainError("registry.parent_missing", code=data.parent_code)
        if parent.level != PARENT_LEVEL[data.level]:
            raise UrbanBrainError(
                "registry.level_order", level=data.level, parent_level=PARENT_LEVEL[data.level]
            )
    area = Area(**data.model_dump(exclude={"geometry"}), **_area_geometry_fields(geom))
    entities.create(session, platform.clock, actor, AREA, area)
    spatial.invalidate(platform)
    if area.level in ("grid_cell", "district"):
        _relocate(session, platform, area.geom.bounds)
    return area


def do_update_area(
    session: Session, platform: Platform, actor: Principal, area: Area, data: AreaUpdate
) -> Area:
    actor.require("registry.areas.write")
    changes = _changes(area, data, "geometry")
    old_bounds = area.geom.bounds
    if data.geometry is not None:
        changes.update(
            _area_geometry_fields(spatial.parse_geojson_geometry(data.geometry, ("Polygon", "MultiPolygon")))
        )
    entities.update(session, platform.clock, actor, AREA, area, changes, version=data.version)
    if data.geometry is not None:
        spatial.invalidate(platform)
        nb = area.geom.bounds
        both = (min(old_bounds[0], nb[0]), min(old_bounds[1], nb[1]), max(old_bounds[2], nb[2]),
                max(old_bounds[3], nb[3]))  # fmt: skip
        _relocate(session, platform, both)
    return area


def _relocate(session: Session, platform: Platform, bounds: tuple[float, float, float, float]) -> int:
    """Re-derive street/community/grid codes of located rows after an area's outline changed."""
    session.flush()
    spatial.invalidate(platform)
    lookup = spatial.get_lookup(platform, session)
    moved = 0
    models: tuple[Any, ...] = (Building, Venue, Facility)
    for model in models:
        rows: Sequence[Any] = session.scalars(
            select(model).where(
                model.lon.between(bounds[0], bounds[2]), model.lat.between(bounds[1], bounds[3])
            )
        ).all()
        for row in rows:
            where = _located(lookup.locate(row.lon, row.lat))
            if any(getattr(row, k) != v for k, v in where.items()):
                for k, v in where.items():
                    setattr(row, k, v)
                moved += 1
    return moved


# --- departments -------------------------------------------------------------------------------------


def do_create_department(
    session: Session, platform: Platform, actor: Principal, data: DepartmentCreate
) -> Department:
    actor.require("registry.departments.write")
    _unique(session, Department, data.code)
    return entities.create(
        session, platform.clock, actor, DEPARTMENT, Department(**data.model_dump(), active=True)
    )  # type: ignore[no-any-return]


def do_update_department(
    session: Session, platform: Platform, actor: Principal, dept: Department, data: DepartmentUpdate
) -> Department:
    actor.require("registry.departments.write")
    return entities.update(
        session, platform.clock, actor, DEPARTMENT, dept, _changes(dept, data), version=data.version
    )  # type: ignore[no-any-return]


# --- buildings ---------------------------------------------------------------------------------------


def do_create_building(
    session: Session, platform: Platform, actor: Principal, data: BuildingCreate
) -> Building:
    actor.require("registry.buildings.write")
    where = _place(platform, session, data.lon, data.lat)
    check_row(actor, street_code=where.street_code, community_code=where.community_code)
    _unique(session, Building, data.code)
    building = Building(
        **data.model_dump(exclude={"footprint", "owner_phone"}),
        owner_phone=platform.protector.seal(data.owner_phone),
        footprint=spatial.parse_geojson_geometry(data.footprint, ("Polygon",)) if data.footprint else None,
        **_located(where),
    )
    return entities.create(session, platform.clock, actor, BUILDING, building)  # type: ignore[no-any-return]


def do_update_building(
    session: Session, platform: Platform, actor: Principal, building: Building, data: BuildingUpdate
) -> Building:
    actor.require("registry.buildings.write")
    check_row(actor, street_code=building.street_code, community_code=building.community_code)
    changes = _changes(building, data)
    _moved(platform, session, actor, building, changes)
    if "owner_phone" in changes:
        changes["owner_phone"] = platform.protector.seal(changes["owner_phone"])
    if changes.get("footprint") is not None:
        changes["footprint"] = spatial.parse_geojson_geometry(changes["footprint"], ("Polygon",))
    return entities.update(session, platform.clock, actor, BUILDING, building, changes, version=data.version)  # type: ignore[no-any-return]


# --- units and residents -----------------------------------------------------------------------------


def do_create_unit(session: Session, platform: Platform, actor: Principal, data: UnitCreate) -> Unit:
    actor.require("registry.units.write")
    building = _building(session, data.building_code)
    check_row(actor, street_code=building.street_code, community_code=building.community_code)
    _unique(session, Unit, data.code)
    unit = Unit(**data.model_dump(exclude={"building_code"}), building_id=building.id)
    return entities.create(session, platform.clock, actor, UNIT, unit)  # type: ignore[no-any-return]


def do_update_unit(
    session: Session, platform: Platform, actor: Principal, unit: Unit, data: UnitUpdate
) -> Unit:
    actor.require("registry.units.write")
    _unit_in_scope(session, actor, unit)
    return entities.update(
        session, platform.clock, actor, UNIT, unit, _changes(unit, data), version=data.version
    )  # type: ignore[no-any-return]


def _unit_in_scope(session: Session, actor: Principal, unit: Unit) -> Unit:
    building = session.get(Building, unit.building_id)
    assert building is not None
    check_row(actor, street_code=building.street_code, community_code=building.community_code)
    return unit


def _unit_by_code(session: Session, actor: Principal, unit_code: str) -> Unit:
    unit = session.scalar(select(Unit).where(Unit.code == unit_code))
    if unit is None:
        raise UrbanBrainError("not_found", what=f"unit {unit_code}")
    return _unit_in_scope(session, actor, unit)


def do_create_resident(
    session: Session, platform: Platform, actor: Principal, data: ResidentCreate
) -> Resident:
    actor.require("registry.residents.write")
    unit = _unit_by_code(session, actor, data.unit_code)
    p = platform.protector
    id_number = data.id_number.upper() if data.id_number else None
    resident = Resident(
        **data.model_dump(exclude={"unit_code", "id_number", "phone"}),
        unit_id=unit.id,
        id_number=p.seal(id_number),
        id_number_index=p.index(id_number),
        phone=p.seal(data.phone),
    )
    return entities.create(session, platform.clock, actor, RESIDENT, resident)  # type: ignore[no-any-return]


def do_update_resident(
    session: Session, platform: Platform, actor: Principal, resident: Resident, data: ResidentUpdate
) -> Resident:
    actor.require("registry.residents.write")
    current = session.get(Unit, resident.unit_id)
    assert current is not None
    _unit_in_scope(session, actor, current)
    changes = _changes(resident, data, "unit_code")
    if data.unit_code is not None:
        changes["unit_id"] = _unit_by_code(session, actor, data.unit_code).id
    if "phone" in changes:
        changes["phone"] = platform.protector.seal(changes["phone"])
    return entities.update(session, platform.clock, actor, RESIDENT, resident, changes, version=data.version)  # type: ignore[no-any-return]


# --- venues and licences -----------------------------------------------------------------------------


def do_create_venue(session: Session, platform: Platform, actor: Principal, data: VenueCreate) -> Venue:
    actor.require("registry.venues.write")
    where = _place(platform, session, data.lon, data.lat)
    check_row(actor, street_code=where.street_code, community_code=where.community_code)
    _unique(session, Venue, data.code)
    venue = Venue(
        **data.model_dump(exclude={"building_code", "operator_phone", "licences"}),
        building_id=_building(session, data.building_code).id if data.building_code else None,
        operator_phone=platform.protector.seal(data.operator_phone),
        status="open",
        **_located(where),
    )
    entities.create(session, platform.clock, actor, VENUE, venue)
    for lic in data.licences:
        do_add_licence(session, platform, actor, venue, lic)
    return venue


def do_add_licence(
    session: Session, platform: Platform, actor: Principal, venue: Venue, data: LicenceCreate
) -> Licence:
    actor.require("registry.venues.write")
    check_row(actor, street_code=venue.street_code, community_code=venue.community_code)
    if session.scalar(select(Licence.id).where(Licence.number == data.number)) is not None:
        raise UrbanBrainError("registry.code_taken", code=data.number)
    today = platform.clock.now().date()
    status = "expired" if data.expires_on is not None and data.expires_on < today else "valid"
    licence = Licence(venue_id=venue.id, status=status, **data.model_dump())
    return entities.create(session, platform.clock, actor, LICENCE, licence)  # type: ignore[no-any-return]


def do_update_venue(
    session: Session, platform: Platform, actor: Principal, venue: Venue, data: VenueUpdate
) -> Venue:
    actor.require("registry.venues.write")
    check_row(actor, street_code=venue.street_code, community_code=venue.community_code)
    changes = _changes(venue, data)
    if "operator_phone" in changes:
        changes["operator_phone"] = platform.protector.seal(changes["operator_phone"])
    return entities.update(session, platform.clock, actor, VENUE, venue, changes, version=data.version)  # type: ignore[no-any-return]


# --- facilities --------------------------------------------------------------------------------------


def next_facility_code(session: Session, kind: str) -> str:
    """The next free public code of a kind, ``FT-<prefix>-<6 digits>``, from a race-free counter; the first
    time, the counter starts after the highest code already given (by the bulk load or by hand)."""
    prefix = f"FT-{FACILITY_CODE_PREFIX[kind]}-"
    last = session.scalar(select(func.max(Facility.code)).where(Facility.code.like(prefix + "%")))
    floor = int(last[len(prefix) :]) if last and last[len(prefix) :].isdigit() else 0
    for _ in range(1000):  # skips codes someone gave by hand ahead of the counter
        code = f"{prefix}{sequence.next_number(session, 'registry:' + prefix, start=floor):06d}"
        if session.scalar(select(Facility.id).where(Facility.code == code)) is None:
            return code
    raise UrbanBrainError("registry.code_taken", code=prefix + "…")


def do_create_facility(
    session: Session, platform: Platform, actor: Principal, data: FacilityCreate
) -> Facility:
    actor.require("registry.facilities.write")
    where = _place(platform, session, data.lon, data.lat)
    owner = _department(session, data.owner_department_code)
    check_row(
        actor,
        street_code=where.street_code,
        community_code=where.community_code,
        owner_department_id=owner.id if actor.scope == "department" else None,
    )
    if data.code:
        _unique(session, Facility, data.code)
    facility = Facility(
        **data.model_dump(exclude={"code", "owner_department_code"}),
        code=data.code or next_facility_code(session, data.kind),
        owner_department_id=owner.id,
        status="in_service",
        **_located(where),
    )
    return entities.create(session, platform.clock, actor, FACILITY, facility)  # type: ignore[no-any-return]


def do_update_facility(
    session: Session, platform: Platform, actor: Principal, facility: Facility, data: FacilityUpdate
) -> Facility:
    actor.require("registry.facilities.write")
    check_row(
        actor,
        street_code=facility.street_code,
        community_code=facility.community_code,
        owner_department_id=facility.owner_department_id,
    )
    changes = _changes(facility, data, "owner_department_code")
    _moved(platform, session, actor, facility, changes)
    if data.owner_department_code is not None:
        owner = _department(session, data.owner_department_code)
        check_row(
            actor,
            street_code=changes.get("street_code", facility.street_code),
            community_code=changes.get("community_code", facility.community_code),
            owner_department_id=owner.id,
        )
        changes["owner_department_id"] = owner.id
    return entities.update(session, platform.clock, actor, FACILITY, facility, changes, version=data.version)  # type: ignore[no-any-return]
