"""Every registry write: ``do_<verb>_<noun>()`` changes rows, writes the audit row and queues the event
in the caller's transaction. Positions are validated and located here, so no caller can skip it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from urbanbrain.core.actions import check_version, record, snapshot
from urbanbrain.core.auth.principal import Principal
from urbanbrain.core.context import Platform
from urbanbrain.core.errors import UrbanBrainError, register_messages
from urbanbrain.core.geodesy import area_km2
from urbanbrain.core.models import Department
from urbanbrain.domains.registry import events, spatial
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


def _unique(session: Session, model: Any, code: str) -> None:
    if session.scalar(select(model.id).where(model.code == code)) is not None:
        raise UrbanBrainError("registry.code_taken", code=code)


def _place(platform: Platform, session: Session, lon: float, lat: float) -> spatial.Located:
    lookup = spatial.get_lookup(platform, session)
    lookup.check(lon, lat)
    return lookup.locate(lon, lat)


def _set_location(obj: Any, where: spatial.Located) -> None:
    obj.street_code, obj.community_code, obj.grid_code = (
        where.street_code,
        where.community_code,
        where.grid_code,
    )


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


def _apply(obj: Any, changes: dict[str, Any]) -> None:
    for key, value in changes.items():
        setattr(obj, key, value)


def _bump(platform: Platform, obj: Any) -> None:
    obj.version += 1
    if hasattr(obj, "updated_at"):
        obj.updated_at = platform.clock.now()


# --- areas -------------------------------------------------------------------------------------------


def _area_geometry_fields(geom: Any) -> dict[str, Any]:
    min_lon, min_lat, max_lon, max_lat = geom.bounds
    return {
        "geom": geom,
        "min_lon": min_lon,
        "min_lat": min_lat,
        "max_lon": max_lon,
        "max_lat": max_lat,
        "area_km2": round(area_km2(geom), 6),
    }


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
    area = Area(
        code=data.code,
        name=data.name,
        name_en=data.name_en,
        level=data.level,
        parent_code=data.parent_code,
        approximate=data.approximate,
        properties=data.properties,
        version=1,
        **_area_geometry_fields(geom),
    )
    session.add(area)
    record(
        session,
        platform.clock,
        actor,
        action="registry.area.create",
        entity_type="area",
        entity_id=area.code,
        before=None,
        after=snapshot(area),
        event=events.AREA_CREATED,
        payload={"code": area.code, "level": area.level},
    )
    spatial.invalidate(platform)
    if area.level in ("grid_cell", "district"):
        _relocate(session, platform, area.geom.bounds)
    return area


def do_update_area(
    session: Session, platform: Platform, actor: Principal, code: str, data: AreaUpdate
) -> Area:
    actor.require("registry.areas.write")
    area = session.scalar(select(Area).where(Area.code == code))
    if area is None:
        raise UrbanBrainError("not_found", what=f"area {code}")
    check_version(area, data.version)
    before = snapshot(area)
    changes = data.model_dump(exclude_unset=True, exclude={"version", "geometry"})
    _apply(area, changes)
    old_bounds = area.geom.bounds
    if data.geometry is not None:
        geom = spatial.parse_geojson_geometry(data.geometry, ("Polygon", "MultiPolygon"))
        _apply(area, _area_geometry_fields(geom))
    _bump(platform, area)
    record(
        session,
        platform.clock,
        actor,
        action="registry.area.update",
        entity_type="area",
        entity_id=area.code,
        before=before,
        after=snapshot(area),
        event=events.AREA_UPDATED,
        payload={"code": area.code},
    )
    if data.geometry is not None:
        spatial.invalidate(platform)
        nb = area.geom.bounds
        _relocate(
            session,
            platform,
            (
                min(old_bounds[0], nb[0]),
                min(old_bounds[1], nb[1]),
                max(old_bounds[2], nb[2]),
                max(old_bounds[3], nb[3]),
            ),
        )
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
            where = lookup.locate(row.lon, row.lat)
            if (row.street_code, row.community_code, row.grid_code) != (
                where.street_code,
                where.community_code,
                where.grid_code,
            ):
                _set_location(row, where)
                moved += 1
    return moved


# --- departments -------------------------------------------------------------------------------------


def do_create_department(
    session: Session, platform: Platform, actor: Principal, data: DepartmentCreate
) -> Department:
    actor.require("registry.departments.write")
    _unique(session, Department, data.code)
    dept = Department(**data.model_dump(), active=True, version=1)
    session.add(dept)
    record(
        session,
        platform.clock,
        actor,
        action="registry.department.create",
        entity_type="department",
        entity_id=data.code,
        before=None,
        after=snapshot(dept),
        event=events.DEPARTMENT_CREATED,
        payload={"code": data.code},
    )
    return dept


def do_update_department(
    session: Session, platform: Platform, actor: Principal, code: str, data: DepartmentUpdate
) -> Department:
    actor.require("registry.departments.write")
    dept = _department(session, code)
    check_version(dept, data.version)
    before = snapshot(dept)
    _apply(dept, data.model_dump(exclude_unset=True, exclude={"version"}))
    _bump(platform, dept)
    record(
        session,
        platform.clock,
        actor,
        action="registry.department.update",
        entity_type="department",
        entity_id=code,
        before=before,
        after=snapshot(dept),
        event=events.DEPARTMENT_UPDATED,
        payload={"code": code},
    )
    return dept


# --- buildings ---------------------------------------------------------------------------------------


def do_create_building(
    session: Session, platform: Platform, actor: Principal, data: BuildingCreate
) -> Building:
    actor.require("registry.buildings.write")
    where = _place(platform, session, data.lon, data.lat)
    check_row(actor, street_code=where.street_code, community_code=where.community_code)
    _unique(session, Building, data.code)
    values = data.model_dump(exclude={"footprint", "owner_phone"})
    now = platform.clock.now()
    building = Building(
        **values,
        owner_phone=platform.protector.seal(data.owner_phone),
        created_at=now,
        updated_at=now,
        version=1,
    )
    if data.footprint is not None:
        building.footprint = spatial.parse_geojson_geometry(data.footprint, ("Polygon",))
    _set_location(building, where)
    session.add(building)
    record(
        session,
        platform.clock,
        actor,
        action="registry.building.create",
        entity_type="building",
        entity_id=building.code,
        before=None,
        after=snapshot(building, protected=BUILDING_PROTECTED),
        event=events.BUILDING_CREATED,
        payload={"code": building.code, "grid_code": building.grid_code},
    )
    return building


def do_update_building(
    session: Session, platform: Platform, actor: Principal, building: Building, data: BuildingUpdate
) -> Building:
    actor.require("registry.buildings.write")
    check_row(actor, street_code=building.street_code, community_code=building.community_code)
    check_version(building, data.version)
    before = snapshot(building, protected=BUILDING_PROTECTED)
    changes = data.model_dump(exclude_unset=True, exclude={"version", "footprint", "owner_phone"})
    if "lon" in changes or "lat" in changes:
        lon, lat = changes.get("lon", building.lon), changes.get("lat", building.lat)
        where = _place(platform, session, lon, lat)
        check_row(actor, street_code=where.street_code, community_code=where.community_code)
        _set_location(building, where)
    _apply(building, changes)
    if "owner_phone" in data.model_fields_set:
        building.owner_phone = platform.protector.seal(data.owner_phone)
    if "footprint" in data.model_fields_set:
        building.footprint = (
            spatial.parse_geojson_geometry(data.footprint, ("Polygon",))
            if data.footprint is not None
            else None
        )
    _bump(platform, building)
    record(
        session,
        platform.clock,
        actor,
        action="registry.building.update",
        entity_type="building",
        entity_id=building.code,
        before=before,
        after=snapshot(building, protected=BUILDING_PROTECTED),
        event=events.BUILDING_UPDATED,
        payload={"code": building.code},
    )
    return building


# --- units and residents -----------------------------------------------------------------------------


def do_create_unit(session: Session, platform: Platform, actor: Principal, data: UnitCreate) -> Unit:
    actor.require("registry.units.write")
    building = _building(session, data.building_code)
    check_row(actor, street_code=building.street_code, community_code=building.community_code)
    _unique(session, Unit, data.code)
    now = platform.clock.now()
    unit = Unit(
        **data.model_dump(exclude={"building_code"}),
        building_id=building.id,
        created_at=now,
        updated_at=now,
        version=1,
    )
    session.add(unit)
    record(
        session,
        platform.clock,
        actor,
        action="registry.unit.create",
        entity_type="unit",
        entity_id=unit.code,
        before=None,
        after=snapshot(unit),
        event=events.UNIT_CREATED,
        payload={"code": unit.code},
    )
    return unit


def do_update_unit(
    session: Session, platform: Platform, actor: Principal, unit: Unit, building: Building, data: UnitUpdate
) -> Unit:
    actor.require("registry.units.write")
    check_row(actor, street_code=building.street_code, community_code=building.community_code)
    check_version(unit, data.version)
    before = snapshot(unit)
    _apply(unit, data.model_dump(exclude_unset=True, exclude={"version"}))
    _bump(platform, unit)
    record(
        session,
        platform.clock,
        actor,
        action="registry.unit.update",
        entity_type="unit",
        entity_id=unit.code,
        before=before,
        after=snapshot(unit),
        event=events.UNIT_UPDATED,
        payload={"code": unit.code},
    )
    return unit


def _unit_in_scope(session: Session, actor: Principal, unit_code: str) -> Unit:
    unit = session.scalar(select(Unit).where(Unit.code == unit_code))
    if unit is None:
        raise UrbanBrainError("not_found", what=f"unit {unit_code}")
    building = session.get(Building, unit.building_id)
    assert building is not None
    check_row(actor, street_code=building.street_code, community_code=building.community_code)
    return unit


def do_create_resident(
    session: Session, platform: Platform, actor: Principal, data: ResidentCreate
) -> Resident:
    actor.require("registry.residents.write")
    unit = _unit_in_scope(session, actor, data.unit_code)
    now = platform.clock.now()
    p = platform.protector
    id_number = data.id_number.upper() if data.id_number else None
    resident = Resident(
        unit_id=unit.id,
        name=data.name,
        gender=data.gender,
        birth_year=data.birth_year,
        relation=data.relation,
        id_number=p.seal(id_number),
        id_number_index=p.index(id_number),
        phone=p.seal(data.phone),
        moved_in=data.moved_in,
        created_at=now,
        updated_at=now,
        version=1,
    )
    session.add(resident)
    session.flush()
    record(
        session,
        platform.clock,
        actor,
        action="registry.resident.create",
        entity_type="resident",
        entity_id=resident.id,
        before=None,
        after=snapshot(resident, protected=RESIDENT_PROTECTED),
        event=events.RESIDENT_CREATED,
        payload={"unit_code": unit.code},
    )
    return resident


def do_update_resident(
    session: Session, platform: Platform, actor: Principal, resident: Resident, data: ResidentUpdate
) -> Resident:
    actor.require("registry.residents.write")
    current = session.get(Unit, resident.unit_id)
    assert current is not None
    _unit_in_scope(session, actor, current.code)
    check_version(resident, data.version)
    before = snapshot(resident, protected=RESIDENT_PROTECTED)
    changes = data.model_dump(exclude_unset=True, exclude={"version", "unit_code", "phone"})
    if data.unit_code is not None:
        resident.unit_id = _unit_in_scope(session, actor, data.unit_code).id
    if "phone" in data.model_fields_set:
        resident.phone = platform.protector.seal(data.phone)
    _apply(resident, changes)
    _bump(platform, resident)
    record(
        session,
        platform.clock,
        actor,
        action="registry.resident.update",
        entity_type="resident",
        entity_id=resident.id,
        before=before,
        after=snapshot(resident, protected=RESIDENT_PROTECTED),
        event=events.RESIDENT_UPDATED,
        payload={"id": resident.id},
    )
    return resident


# --- venues and licences -----------------------------------------------------------------------------


def do_create_venue(session: Session, platform: Platform, actor: Principal, data: VenueCreate) -> Venue:
    actor.require("registry.venues.write")
    where = _place(platform, session, data.lon, data.lat)
    check_row(actor, street_code=where.street_code, community_code=where.community_code)
    _unique(session, Venue, data.code)
    building_id = _building(session, data.building_code).id if data.building_code else None
    now = platform.clock.now()
    venue = Venue(
        **data.model_dump(exclude={"building_code", "operator_phone", "licences"}),
        building_id=building_id,
        operator_phone=platform.protector.seal(data.operator_phone),
        status="open",
        created_at=now,
        updated_at=now,
        version=1,
    )
    _set_location(venue, where)
    session.add(venue)
    session.flush()
    record(
        session,
        platform.clock,
        actor,
        action="registry.venue.create",
        entity_type="venue",
        entity_id=venue.code,
        before=None,
        after=snapshot(venue, protected=VENUE_PROTECTED),
        event=events.VENUE_CREATED,
        payload={"code": venue.code, "kind": venue.kind},
    )
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
    session.add(licence)
    session.flush()
    record(
        session,
        platform.clock,
        actor,
        action="registry.licence.create",
        entity_type="licence",
        entity_id=licence.number,
        before=None,
        after=snapshot(licence),
        event=events.LICENCE_CREATED,
        payload={"venue_code": venue.code, "number": licence.number},
    )
    return licence


def do_update_venue(
    session: Session, platform: Platform, actor: Principal, venue: Venue, data: VenueUpdate
) -> Venue:
    actor.require("registry.venues.write")
    check_row(actor, street_code=venue.street_code, community_code=venue.community_code)
    check_version(venue, data.version)
    before = snapshot(venue, protected=VENUE_PROTECTED)
    _apply(venue, data.model_dump(exclude_unset=True, exclude={"version", "operator_phone"}))
    if "operator_phone" in data.model_fields_set:
        venue.operator_phone = platform.protector.seal(data.operator_phone)
    _bump(platform, venue)
    record(
        session,
        platform.clock,
        actor,
        action="registry.venue.update",
        entity_type="venue",
        entity_id=venue.code,
        before=before,
        after=snapshot(venue, protected=VENUE_PROTECTED),
        event=events.VENUE_UPDATED,
        payload={"code": venue.code},
    )
    return venue


# --- facilities --------------------------------------------------------------------------------------


def next_facility_code(session: Session, kind: str) -> str:
    prefix = f"FT-{FACILITY_CODE_PREFIX[kind]}-"
    last = session.scalar(select(func.max(Facility.code)).where(Facility.code.like(prefix + "%")))
    n = int(last[len(prefix) :]) + 1 if last and re.fullmatch(r"\d+", last[len(prefix) :]) else 1
    return f"{prefix}{n:06d}"


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
    code = data.code or next_facility_code(session, data.kind)
    _unique(session, Facility, code)
    now = platform.clock.now()
    facility = Facility(
        **data.model_dump(exclude={"code", "owner_department_code"}),
        code=code,
        owner_department_id=owner.id,
        status="in_service",
        created_at=now,
        updated_at=now,
        version=1,
    )
    _set_location(facility, where)
    session.add(facility)
    record(
        session,
        platform.clock,
        actor,
        action="registry.facility.create",
        entity_type="facility",
        entity_id=code,
        before=None,
        after=snapshot(facility),
        event=events.FACILITY_CREATED,
        payload={"code": code, "kind": facility.kind, "owner": owner.code},
    )
    return facility


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
    check_version(facility, data.version)
    before = snapshot(facility)
    changes = data.model_dump(exclude_unset=True, exclude={"version", "owner_department_code"})
    if "lon" in changes or "lat" in changes:
        where = _place(platform, session, changes.get("lon", facility.lon), changes.get("lat", facility.lat))
        check_row(actor, street_code=where.street_code, community_code=where.community_code)
        _set_location(facility, where)
    if data.owner_department_code is not None:
        owner = _department(session, data.owner_department_code)
        check_row(
            actor,
            street_code=facility.street_code,
            community_code=facility.community_code,
            owner_department_id=owner.id,
        )
        facility.owner_department_id = owner.id
    _apply(facility, changes)
    _bump(platform, facility)
    record(
        session,
        platform.clock,
        actor,
        action="registry.facility.update",
        entity_type="facility",
        entity_id=facility.code,
        before=before,
        after=snapshot(facility),
        event=events.FACILITY_UPDATED,
        payload={"code": facility.code, "status": facility.status},
    )
    return facility
