"""Every registry read: filtered, scoped, paged lists; single records; spatial queries; GeoJSON layers."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import shapely
from sqlalchemy import Select, false, func, select
from sqlalchemy.orm import Session

from urbanbrain.core.auth.principal import Principal
from urbanbrain.core.context import Platform
from urbanbrain.core.errors import UrbanBrainError
from urbanbrain.core.geodesy import haversine_m_array
from urbanbrain.core.models import Department
from urbanbrain.core.protect import mask_phone
from urbanbrain.domains.registry import access, spatial
from urbanbrain.domains.registry.labels import Label
from urbanbrain.domains.registry.models import Area, Building, Facility, Licence, Resident, Unit, Venue
from urbanbrain.domains.registry.schemas import (
    FACILITY_KIND_NAMES,
    AreaFilters,
    DepartmentFilters,
    ResidentFilters,
    UnitFilters,
)

MAX_RADIUS_M = 5000.0
LAYERS: dict[str, Any] = {"buildings": Building, "venues": Venue, "facilities": Facility}
METRES_PER_DEGREE_LAT = 111_320.0


def _not_found(what: str) -> UrbanBrainError:
    return UrbanBrainError("not_found", what=what)


# --- areas and departments ---------------------------------------------------------------------------


def areas_stmt(f: AreaFilters | None) -> Select[Any]:
    stmt = select(Area)
    if f and f.level:
        stmt = stmt.where(Area.level == f.level)
    if f and f.parent_code:
        stmt = stmt.where(Area.parent_code == f.parent_code)
    return stmt


def get_area(session: Session, code: str) -> Area:
    area = session.scalar(select(Area).where(Area.code == code))
    if area is None:
        raise _not_found(f"area {code}")
    return area


def area_public(area: Area) -> dict[str, Any]:
    return {
        "id": area.id,
        "code": area.code,
        "name": area.name,
        "name_en": area.name_en,
        "level": area.level,
        "parent_code": area.parent_code,
        "approximate": area.approximate,
        "area_km2": area.area_km2,
        "bbox": [area.min_lon, area.min_lat, area.max_lon, area.max_lat],
        "properties": area.properties,
        "version": area.version,
    }


def area_feature(area: Area, simplify_m: float = 0.0) -> dict[str, Any]:
    geom = area.geom
    if simplify_m > 0:
        geom = geom.simplify(simplify_m / METRES_PER_DEGREE_LAT, preserve_topology=True)
    props = area_public(area)
    props.pop("bbox")
    return {
        "type": "Feature",
        "id": area.code,
        "geometry": shapely.geometry.mapping(geom),
        "properties": props,
    }


def departments_stmt(f: DepartmentFilters | None) -> Select[Any]:
    stmt = select(Department)
    if f and f.kind:
        stmt = stmt.where(Department.kind == f.kind)
    if f and f.area_code:
        stmt = stmt.where(Department.area_code == f.area_code)
    return stmt


def get_department(session: Session, code: str) -> Department:
    dept = session.scalar(select(Department).where(Department.code == code))
    if dept is None:
        raise _not_found(f"department {code}")
    return dept


def area_names(platform: Platform, session: Session) -> dict[str, str]:
    """Every area's name by code (street, community, grid cell), from the cached spatial lookup."""
    return spatial.get_lookup(platform, session).names


def locate(platform: Platform, session: Session, lon: float, lat: float) -> dict[str, Any]:
    lookup = spatial.get_lookup(platform, session)
    lookup.check(lon, lat)
    where = lookup.locate(lon, lat)
    return {
        "lon": lon,
        "lat": lat,
        "street_code": where.street_code,
        "community_code": where.community_code,
        "grid_code": where.grid_code,
        "street_name": lookup.names.get(where.street_code or ""),
        "community_name": lookup.names.get(where.community_code or ""),
    }


# --- located records ---------------------------------------------------------------------------------


def _area_clause(session: Session, model: Any, area: Area) -> Any:
    """Membership by the codes derived on write; other zones (a village) by their outline."""
    column = {"street": model.street_code, "community": model.community_code, "grid_cell": model.grid_code}
    if area.level in column:
        return column[area.level] == area.code
    if area.level == "district":
        return None  # everything
    # A zone outside the hierarchy is small: its bounding box is indexed, the exact test runs here.
    rows = session.execute(
        select(model.id, model.lon, model.lat).where(
            model.lon.between(area.min_lon, area.max_lon), model.lat.between(area.min_lat, area.max_lat)
        )
    ).all()
    if not rows:
        return false()
    inside = shapely.intersects_xy(
        area.geom, np.array([r.lon for r in rows]), np.array([r.lat for r in rows])
    )
    return model.id.in_([r.id for r, keep in zip(rows, inside.tolist(), strict=True) if keep] or [-1])


def located_stmt(
    session: Session,
    model: Any,
    principal: Principal,
    *,
    area: Area | None = None,
    filters: dict[str, Any] | None = None,
    q: str | None = None,
) -> Select[Any]:
    stmt = select(model).where(access.row_filter(principal, model))
    if area is not None:
        clause = _area_clause(session, model, area)
        if clause is not None:
            stmt = stmt.where(clause)
    for column, value in (filters or {}).items():
        if value is not None:
            stmt = stmt.where(getattr(model, column) == value)
    if q:
        stmt = stmt.where(model.name.contains(q) | model.code.contains(q))
    return stmt


def get_by_code(session: Session, principal: Principal, model: Any, code: str, what: str) -> Any:
    row = session.scalar(select(model).where(model.code == code))
    if row is None:
        raise _not_found(f"{what} {code}")
    access.check_row(
        principal,
        street_code=row.street_code,
        community_code=row.community_code,
        owner_department_id=getattr(row, "owner_department_id", None),
    )
    return row


def nearby(
    session: Session,
    platform: Platform,
    principal: Principal,
    model: Any,
    lon: float,
    lat: float,
    radius_m: float,
    *,
    kind: str | None = None,
    limit: int = 500,
) -> list[tuple[Any, float]]:
    """Rows within ``radius_m`` metres, nearest first: an indexed bounding box, then exact distance."""
    spatial.get_lookup(platform, session).check(lon, lat)
    if not (0 < radius_m <= MAX_RADIUS_M) or math.isnan(radius_m):
        raise UrbanBrainError("geo.radius_too_large", max=int(MAX_RADIUS_M))
    dlat = radius_m / METRES_PER_DEGREE_LAT
    dlon = dlat / math.cos(math.radians(lat))
    stmt = located_stmt(session, model, principal, filters={"kind": kind} if kind else None).where(
        model.lon.between(lon - dlon, lon + dlon), model.lat.between(lat - dlat, lat + dlat)
    )
    rows = session.scalars(stmt).all()
    if not rows:
        return []
    lons = np.fromiter((r.lon for r in rows), float, len(rows))
    lats = np.fromiter((r.lat for r in rows), float, len(rows))
    dist = haversine_m_array(lon, lat, lons, lats)
    order = np.argsort(dist, kind="stable")
    return [(rows[i], float(dist[i])) for i in order if dist[i] <= radius_m][:limit]


# --- public shapes -----------------------------------------------------------------------------------


def building_public(platform: Platform, principal: Principal, b: Building) -> dict[str, Any]:
    return {
        "id": b.id,
        "code": b.code,
        "name": b.name,
        "address": b.address,
        "lon": b.lon,
        "lat": b.lat,
        "street_code": b.street_code,
        "community_code": b.community_code,
        "grid_code": b.grid_code,
        "floors": b.floors,
        "use": b.use,
        "structure": b.structure,
        "built_year": b.built_year,
        "village_code": b.village_code,
        "owner_name": access.show_name(principal, b.owner_name) if b.owner_name else None,
        "owner_phone": access.show_phone(platform.protector, principal, b.owner_phone),
        "properties": b.properties,
        "updated_at": b.updated_at,
        "version": b.version,
    }


def venue_public(session: Session, platform: Platform, principal: Principal, v: Venue) -> dict[str, Any]:
    licences = session.scalars(select(Licence).where(Licence.venue_id == v.id).order_by(Licence.id)).all()
    building_code = (
        session.scalar(select(Building.code).where(Building.id == v.building_id)) if v.building_id else None
    )
    return {
        "id": v.id,
        "code": v.code,
        "name": v.name,
        "kind": v.kind,
        "category": v.category,
        "building_code": building_code,
        "address": v.address,
        "lon": v.lon,
        "lat": v.lat,
        "street_code": v.street_code,
        "community_code": v.community_code,
        "grid_code": v.grid_code,
        "operator_name": access.show_name(principal, v.operator_name) if v.operator_name else None,
        "operator_phone": access.show_phone(platform.protector, principal, v.operator_phone),
        "employees": v.employees,
        "floor_area_m2": v.floor_area_m2,
        "status": v.status,
        "licences": [
            {
                "id": lic.id,
                "kind": lic.kind,
                "number": lic.number,
                "issued_on": lic.issued_on,
                "expires_on": lic.expires_on,
                "issuer_department_code": lic.issuer_department_code,
                "status": lic.status,
            }
            for lic in licences
        ],
        "version": v.version,
    }


def facility_public(
    session: Session, f: Facility, departments: dict[int, Department] | None = None
) -> dict[str, Any]:
    dept = (departments or {}).get(f.owner_department_id) or session.get(Department, f.owner_department_id)
    assert dept is not None
    return {
        "id": f.id,
        "code": f.code,
        "kind": f.kind,
        "name": f.name,
        "lon": f.lon,
        "lat": f.lat,
        "street_code": f.street_code,
        "community_code": f.community_code,
        "grid_code": f.grid_code,
        "owner_department_code": dept.code,
        "owner_department_name": dept.name,
        "responsible_person": f.responsible_person,
        "responsible_phone": f.responsible_phone,
        "installed_on": f.installed_on,
        "settings": f.settings,
        "status": f.status,
        "version": f.version,
    }


def departments_by_id(session: Session) -> dict[int, Department]:
    return {d.id: d for d in session.scalars(select(Department))}


def unit_public(session: Session, u: Unit, building_code: str | None = None) -> dict[str, Any]:
    code = building_code or session.scalar(select(Building.code).where(Building.id == u.building_id))
    count = session.scalar(select(func.count(Resident.id)).where(Resident.unit_id == u.id)) or 0
    return {
        "id": u.id,
        "code": u.code,
        "building_code": code,
        "floor": u.floor,
        "number": u.number,
        "kind": u.kind,
        "area_m2": u.area_m2,
        "tenure": u.tenure,
        "residents": count,
        "version": u.version,
    }


def resident_public(
    session: Session, platform: Platform, principal: Principal, r: Resident, unit_code: str | None = None
) -> dict[str, Any]:
    code = unit_code or session.scalar(select(Unit.code).where(Unit.id == r.unit_id))
    return {
        "id": r.id,
        "unit_code": code,
        "name": access.show_name(principal, r.name),
        "gender": r.gender,
        "birth_year": r.birth_year,
        "relation": r.relation,
        "id_number": access.show_id_number(platform.protector, principal, r.id_number),
        "phone": access.show_phone(platform.protector, principal, r.phone),
        "moved_in": r.moved_in,
        "version": r.version,
    }


def household_stmt(model: Any, principal: Principal) -> Select[Any]:
    """Units or residents, limited to buildings in the principal's scope."""
    stmt = select(model)
    if model is Resident:
        stmt = stmt.join(Unit, Unit.id == Resident.unit_id)
    return stmt.join(Building, Building.id == Unit.building_id).where(access.household_filter(principal))


def units_stmt(principal: Principal, f: UnitFilters | None) -> Select[Any]:
    stmt = household_stmt(Unit, principal)
    if f and f.building_code:
        stmt = stmt.where(Building.code == f.building_code)
    if f and f.kind:
        stmt = stmt.where(Unit.kind == f.kind)
    return stmt


def residents_stmt(platform: Platform, principal: Principal, f: ResidentFilters | None) -> Select[Any]:
    stmt = household_stmt(Resident, principal)
    if f and f.unit_code:
        stmt = stmt.where(Unit.code == f.unit_code)
    if f and f.building_code:
        stmt = stmt.where(Building.code == f.building_code)
    if f and f.id_number:
        principal.require("registry.pii.read")
        stmt = stmt.where(Resident.id_number_index == platform.protector.index(f.id_number))
    return stmt


def get_unit(session: Session, principal: Principal, code: str) -> tuple[Unit, Building]:
    unit = session.scalar(select(Unit).where(Unit.code == code))
    if unit is None:
        raise _not_found(f"unit {code}")
    building = session.get(Building, unit.building_id)
    assert building is not None
    access.check_row(principal, street_code=building.street_code, community_code=building.community_code)
    return unit, building


def get_resident(session: Session, principal: Principal, resident_id: int) -> Resident:
    resident = session.get(Resident, resident_id)
    if resident is None:
        raise _not_found(f"resident {resident_id}")
    unit = session.get(Unit, resident.unit_id)
    assert unit is not None
    get_unit(session, principal, unit.code)
    return resident


def feature(obj: Any, properties: dict[str, Any]) -> dict[str, Any]:
    """GeoJSON Feature: a building's footprint if known, else the point."""
    geom = getattr(obj, "footprint", None) or shapely.Point(obj.lon, obj.lat)
    return {
        "type": "Feature",
        "id": obj.code,
        "geometry": shapely.geometry.mapping(geom),
        "properties": properties,
    }


def counts(session: Session) -> dict[str, Any]:
    """Totals for the registry's summary (what the seed must produce, what the big screen shows)."""
    out: dict[str, Any] = {}
    out["areas"] = dict(session.execute(select(Area.level, func.count()).group_by(Area.level)).all())
    out["departments"] = dict(
        session.execute(select(Department.kind, func.count()).group_by(Department.kind)).all()
    )
    for name, model in (
        ("buildings", Building),
        ("units", Unit),
        ("residents", Resident),
        ("licences", Licence),
    ):
        out[name] = session.scalar(select(func.count(model.id))) or 0
    out["venues"] = dict(session.execute(select(Venue.kind, func.count()).group_by(Venue.kind)).all())
    out["facilities"] = dict(
        session.execute(select(Facility.kind, func.count()).group_by(Facility.kind)).all()
    )
    return out


def public_facility(session: Session, code: str) -> dict[str, Any] | None:
    """What a facility's QR label shows anyone (亮身份): owner unit, responsible person, settings."""
    facility = session.scalar(select(Facility).where(Facility.code == code))
    return facility_public(session, facility) if facility is not None else None


def geocode(platform: Platform, session: Session, text: str) -> Any:
    """The most precise place named in ``text`` (a ``geocode.Found``: lon, lat, precision, name), or None."""
    from urbanbrain.domains.registry.geocode import get_geocoder

    return get_geocoder(platform, session).find(text)


def department_codes(session: Session) -> set[str]:
    return set(session.scalars(select(Department.code)))


def building_place(session: Session, code: str) -> dict[str, Any] | None:
    """Where a building is (for other domains placing things in it): location and areas, no owner data."""
    return building_places(session, [code]).get(code)


def building_places(session: Session, codes: list[str]) -> dict[str, dict[str, Any]]:
    """:func:`building_place` for many buildings in one query (placing a fleet of devices)."""
    out: dict[str, dict[str, Any]] = {}
    for start in range(0, len(codes), 1000):  # bounded IN lists
        for b in session.scalars(select(Building).where(Building.code.in_(codes[start : start + 1000]))):
            out[b.code] = {
                "code": b.code,
                "name": b.name,
                "address": b.address,
                "lon": b.lon,
                "lat": b.lat,
                "street_code": b.street_code,
                "community_code": b.community_code,
                "grid_code": b.grid_code,
                "village_code": b.village_code,
            }
    return out


def buildings_in_village(session: Session, village_code: str) -> list[dict[str, Any]]:
    """The coded buildings of an urban village, for maps of the village."""
    rows = session.scalars(
        select(Building).where(Building.village_code == village_code).order_by(Building.code)
    )
    return [
        {
            "code": b.code,
            "name": b.name,
            "address": b.address,
            "lon": b.lon,
            "lat": b.lat,
            "floors": b.floors,
            "use": b.use,
            "community_code": b.community_code,
            "footprint": b.footprint.__geo_interface__ if b.footprint is not None else None,
        }
        for b in rows
    ]


def facility_landing(session: Session, code: str) -> dict[str, Any]:
    """A facility as its QR landing page shows it to anyone: the responsible person's phone masked."""
    f = session.scalar(select(Facility).where(Facility.code == code))
    if f is None or f.status == "removed":
        raise _not_found(f"facility {code}")
    dept = session.get(Department, f.owner_department_id)
    names = dict(
        session.execute(
            select(Area.code, Area.name).where(Area.code.in_([f.street_code, f.community_code]))
        ).all()
    )
    zh, en = FACILITY_KIND_NAMES.get(f.kind, (f.kind, f.kind))
    return {
        "code": f.code,
        "kind": f.kind,
        "kind_name": {"zh-CN": zh, "en": en},
        "name": f.name,
        "status": f.status,
        "owner_department_name": dept.name if dept else "",
        "responsible_person": f.responsible_person,
        "responsible_phone": mask_phone(f.responsible_phone),
        "settings": f.settings or {},
        "installed_on": f.installed_on,
        "lon": f.lon,
        "lat": f.lat,
        "street_name": names.get(f.street_code or ""),
        "community_name": names.get(f.community_code or ""),
    }


def facilities_for_labels(
    session: Session, principal: Principal, area_code: str, kind: str | None, limit: int
) -> list[Any]:
    """The facilities of an area (street, community or grid cell) in the reader's scope, as labels."""
    area = get_area(session, area_code)
    column = {"street": Facility.street_code, "community": Facility.community_code,
              "grid_cell": Facility.grid_code}.get(area.level)  # fmt: skip
    if column is None:
        raise UrbanBrainError(
            "request.invalid",
            summary=f"area: {area_code} 不是街道、社区或网格 (not a street, community or grid cell)",
        )
    stmt = select(Facility).where(
        column == area_code, Facility.status != "removed", access.row_filter(principal, Facility)
    )
    if kind:
        stmt = stmt.where(Facility.kind == kind)
    depts = departments_by_id(session)
    out = []
    for f in session.scalars(stmt.order_by(Facility.code).limit(limit)):
        dept = depts.get(f.owner_department_id)
        out.append(Label(f.code, f.name, FACILITY_KIND_NAMES.get(f.kind, (f.kind, f.kind))[0],
                         dept.name if dept else ""))  # fmt: skip
    return out


def _entity_rows_stmt(kind: str) -> tuple[Select[Any], Any]:
    """The whole rows of one kind with the codes they refer to, and the column that names a row in events."""
    if kind == "building":
        return select(Building.__table__), Building.code
    if kind == "resident":
        stmt = (
            select(Resident.__table__, Unit.code.label("unit_code"), Building.code.label("building_code"),
                   Building.community_code.label("community_code"), Building.street_code.label("street_code"))
            .join(Unit, Unit.id == Resident.unit_id)
            .join(Building, Building.id == Unit.building_id)
        )  # fmt: skip
        return stmt, Resident.id
    if kind == "venue":
        stmt = select(Venue.__table__, Building.code.label("building_code")).outerjoin(
            Building, Building.id == Venue.building_id
        )
        return stmt, Venue.code
    if kind == "facility":
        stmt = select(Facility.__table__, Department.code.label("owner_department_code")).join(
            Department, Department.id == Facility.owner_department_id
        )
        return stmt, Facility.code
    raise ValueError(f"unknown registry kind {kind!r}")


def entities_by_key(
    session: Session, kind: str, keys: list[Any] | None = None, *, after: Any = None, limit: int = 1000
) -> list[dict[str, Any]]:
    """Whole rows of ``kind`` (building | resident | venue | facility) as column dicts, with the codes they
    refer to (a resident's unit, building and areas; a venue's building; a facility's owner department), for
    bulk readers (the data hub's lake). By the key events name them with (``code``; a resident's ``id``):
    those of ``keys`` that exist, or without ``keys`` the next ``limit`` after ``after``, in key order.
    Sealed columns stay sealed."""
    stmt, key = _entity_rows_stmt(kind)
    stmt = stmt.order_by(key)
    if keys is not None:
        stmt = stmt.where(key.in_(keys))
    else:
        stmt = (stmt if after is None else stmt.where(key > after)).limit(limit)
    return [dict(r._mapping) for r in session.execute(stmt)]
