"""``/api/v1/registry``: areas, departments, buildings, units, residents, venues, facilities, and the
spatial queries (locate a point, what is near, everything in an area as GeoJSON)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query

from urbanbrain.api.deps import PlatformDep, SessionDep, require
from urbanbrain.core.auth.principal import Principal
from urbanbrain.domains.registry import actions, queries
from urbanbrain.domains.registry import schemas as s
from urbanbrain.domains.registry.models import Building, Facility, Resident, Unit, Venue

router = APIRouter(tags=["registry"])

Reader = Annotated[Principal, require("registry.read")]
HouseholdReader = Annotated[Principal, require("registry.residents.read")]
PageNo = Annotated[int, Query(ge=1, description="1-based page number.")]
PageSize = Annotated[int, Query(ge=1, le=queries.MAX_PAGE_SIZE)]
Lon = Annotated[float, Query(description="Longitude (east), e.g. 114.059.")]
Lat = Annotated[float, Query(description="Latitude (north), e.g. 22.543.")]


def _page(p: queries.PageOf, items: list[Any]) -> dict[str, Any]:
    return {"items": items, "total": p.total, "page": p.page, "page_size": p.page_size}


def _collection(p: queries.PageOf, features: list[dict[str, Any]]) -> dict[str, Any]:
    """GeoJSON FeatureCollection with OGC-API-Features-style paging counts."""
    return {
        "type": "FeatureCollection",
        "features": features,
        "numberMatched": p.total,
        "numberReturned": len(features),
        "page": p.page,
        "page_size": p.page_size,
    }


# --- areas -------------------------------------------------------------------------------------------


@router.get("/areas", response_model=s.Page[s.AreaPublic])
def list_areas(
    session: SessionDep,
    principal: Reader,
    level: s.AreaLevel | None = None,
    parent_code: str | None = None,
    page: PageNo = 1,
    page_size: PageSize = 100,
):
    p = queries.list_areas(session, level=level, parent_code=parent_code, page=page, page_size=page_size)
    return _page(p, [queries.area_public(a) for a in p.rows])


@router.get("/areas.geojson")
def areas_geojson(
    session: SessionDep,
    principal: Reader,
    level: s.AreaLevel = "street",
    parent_code: str | None = None,
    simplify_m: Annotated[float, Query(ge=0, le=500)] = 0,
    page: PageNo = 1,
    page_size: PageSize = 1000,
) -> dict[str, Any]:
    """Area outlines as a map layer. ``simplify_m`` thins the outlines for small screens."""
    p = queries.list_areas(session, level=level, parent_code=parent_code, page=page, page_size=page_size)
    return _collection(p, [queries.area_feature(a, simplify_m) for a in p.rows])


@router.get("/areas/{code}", response_model=s.AreaPublic)
def get_area(code: str, session: SessionDep, principal: Reader):
    return queries.area_public(queries.get_area(session, code))


@router.get("/areas/{code}/geojson")
def get_area_geojson(code: str, session: SessionDep, principal: Reader) -> dict[str, Any]:
    return queries.area_feature(queries.get_area(session, code))


@router.get("/areas/{code}/features")
def area_features(
    code: str,
    session: SessionDep,
    platform: PlatformDep,
    principal: Reader,
    layer: Literal["buildings", "venues", "facilities"] = "facilities",
    kind: str | None = None,
    page: PageNo = 1,
    page_size: PageSize = 500,
) -> dict[str, Any]:
    """Everything of one layer inside an area, as GeoJSON, page by page (limited to your data scope)."""
    area = queries.get_area(session, code)
    model = queries.LAYERS[layer]
    filters = {"kind": kind} if kind and model is not Building else None
    p = queries.paged(
        session,
        queries.located_stmt(session, model, principal, area=area, filters=filters),
        page,
        page_size,
        model.id,
    )
    return _collection(p, [queries.feature(r, _layer_props(session, platform, principal, r)) for r in p.rows])


def _layer_props(session: Any, platform: Any, principal: Principal, row: Any) -> dict[str, Any]:
    if isinstance(row, Building):
        return queries.building_public(platform, principal, row)
    if isinstance(row, Venue):
        return queries.venue_public(session, platform, principal, row)
    return queries.facility_public(session, row)


@router.post("/areas", response_model=s.AreaPublic, status_code=201)
def create_area(
    body: s.AreaCreate,
    session: SessionDep,
    platform: PlatformDep,
    principal: Annotated[Principal, require("registry.areas.write")],
):
    return queries.area_public(actions.do_create_area(session, platform, principal, body))


@router.patch("/areas/{code}", response_model=s.AreaPublic)
def update_area(
    code: str,
    body: s.AreaUpdate,
    session: SessionDep,
    platform: PlatformDep,
    principal: Annotated[Principal, require("registry.areas.write")],
):
    return queries.area_public(actions.do_update_area(session, platform, principal, code, body))


# --- spatial queries ---------------------------------------------------------------------------------


@router.get("/locate", response_model=s.LocatePublic)
def locate(lon: Lon, lat: Lat, session: SessionDep, platform: PlatformDep, principal: Reader):
    """Which street, community and grid cell contain a point."""
    return queries.locate(platform, session, lon, lat)


@router.get("/nearby")
def nearby(
    lon: Lon,
    lat: Lat,
    session: SessionDep,
    platform: PlatformDep,
    principal: Reader,
    radius_m: Annotated[float, Query(gt=0, description="Search radius in metres (at most 5000).")] = 200,
    layer: Literal["buildings", "venues", "facilities"] = "facilities",
    kind: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> dict[str, Any]:
    """Features within a radius, nearest first, as GeoJSON with ``distance_m`` on each."""
    model = queries.LAYERS[layer]
    hits = queries.nearby(
        session,
        platform,
        principal,
        model,
        lon,
        lat,
        radius_m,
        kind=kind if model is not Building else None,
        limit=limit,
    )
    feats = []
    for row, dist in hits:
        props = _layer_props(session, platform, principal, row)
        props["distance_m"] = round(dist, 1)
        feats.append(queries.feature(row, props))
    return {"type": "FeatureCollection", "features": feats, "numberReturned": len(feats)}


# --- departments -------------------------------------------------------------------------------------


@router.get("/departments", response_model=s.Page[s.DepartmentPublic])
def list_departments(
    session: SessionDep,
    principal: Reader,
    kind: s.DepartmentKind | None = None,
    area_code: str | None = None,
    page: PageNo = 1,
    page_size: PageSize = 200,
):
    p = queries.list_departments(session, kind=kind, area_code=area_code, page=page, page_size=page_size)
    return _page(p, p.rows)


@router.get("/departments/{code}", response_model=s.DepartmentPublic)
def get_department(code: str, session: SessionDep, principal: Reader):
    return queries.get_department(session, code)


@router.post("/departments", response_model=s.DepartmentPublic, status_code=201)
def create_department(
    body: s.DepartmentCreate,
    session: SessionDep,
    platform: PlatformDep,
    principal: Annotated[Principal, require("registry.departments.write")],
):
    return actions.do_create_department(session, platform, principal, body)


@router.patch("/departments/{code}", response_model=s.DepartmentPublic)
def update_department(
    code: str,
    body: s.DepartmentUpdate,
    session: SessionDep,
    platform: PlatformDep,
    principal: Annotated[Principal, require("registry.departments.write")],
):
    return actions.do_update_department(session, platform, principal, code, body)


# --- buildings ---------------------------------------------------------------------------------------


@router.get("/buildings", response_model=s.Page[s.BuildingPublic])
def list_buildings(
    session: SessionDep,
    platform: PlatformDep,
    principal: Reader,
    street_code: str | None = None,
    community_code: str | None = None,
    grid_code: str | None = None,
    village_code: str | None = None,
    use: s.BuildingUse | None = None,
    q: str | None = None,
    page: PageNo = 1,
    page_size: PageSize = 100,
):
    filters = {
        "street_code": street_code,
        "community_code": community_code,
        "grid_code": grid_code,
        "village_code": village_code,
        "use": use,
    }
    p = queries.paged(
        session,
        queries.located_stmt(session, Building, principal, filters=filters, q=q),
        page,
        page_size,
        Building.code,
    )
    return _page(p, [queries.building_public(platform, principal, b) for b in p.rows])


@router.get("/buildings/{code}", response_model=s.BuildingPublic)
def get_building(code: str, session: SessionDep, platform: PlatformDep, principal: Reader):
    return queries.building_public(
        platform, principal, queries.get_by_code(session, principal, Building, code, "building")
    )


@router.post("/buildings", response_model=s.BuildingPublic, status_code=201)
def create_building(
    body: s.BuildingCreate,
    session: SessionDep,
    platform: PlatformDep,
    principal: Annotated[Principal, require("registry.buildings.write")],
):
    return queries.building_public(
        platform, principal, actions.do_create_building(session, platform, principal, body)
    )


@router.patch("/buildings/{code}", response_model=s.BuildingPublic)
def update_building(
    code: str,
    body: s.BuildingUpdate,
    session: SessionDep,
    platform: PlatformDep,
    principal: Annotated[Principal, require("registry.buildings.write")],
):
    building = queries.get_by_code(session, principal, Building, code, "building")
    return queries.building_public(
        platform, principal, actions.do_update_building(session, platform, principal, building, body)
    )


# --- units and residents -----------------------------------------------------------------------------


@router.get("/units", response_model=s.Page[s.UnitPublic])
def list_units(
    session: SessionDep,
    principal: HouseholdReader,
    building_code: str | None = None,
    kind: str | None = None,
    page: PageNo = 1,
    page_size: PageSize = 100,
):
    stmt = queries.household_stmt(Unit, principal)
    if building_code:
        stmt = stmt.where(Building.code == building_code)
    if kind:
        stmt = stmt.where(Unit.kind == kind)
    p = queries.paged(session, stmt, page, page_size, Unit.code)
    return _page(p, [queries.unit_public(session, u) for u in p.rows])


@router.get("/units/{code}", response_model=s.UnitPublic)
def get_unit(code: str, session: SessionDep, principal: HouseholdReader):
    unit, building = queries.get_unit(session, principal, code)
    return queries.unit_public(session, unit, building.code)


@router.post("/units", response_model=s.UnitPublic, status_code=201)
def create_unit(
    body: s.UnitCreate,
    session: SessionDep,
    platform: PlatformDep,
    principal: Annotated[Principal, require("registry.units.write")],
):
    return queries.unit_public(session, actions.do_create_unit(session, platform, principal, body))


@router.patch("/units/{code}", response_model=s.UnitPublic)
def update_unit(
    code: str,
    body: s.UnitUpdate,
    session: SessionDep,
    platform: PlatformDep,
    principal: Annotated[Principal, require("registry.units.write")],
):
    unit, building = queries.get_unit(session, principal, code)
    return queries.unit_public(
        session, actions.do_update_unit(session, platform, principal, unit, building, body), building.code
    )


@router.get("/residents", response_model=s.Page[s.ResidentPublic])
def list_residents(
    session: SessionDep,
    platform: PlatformDep,
    principal: HouseholdReader,
    unit_code: str | None = None,
    building_code: str | None = None,
    id_number: Annotated[str | None, Query(description="Exact ID number (needs registry.pii.read).")] = None,
    page: PageNo = 1,
    page_size: PageSize = 100,
):
    stmt = queries.household_stmt(Resident, principal)
    if unit_code:
        stmt = stmt.where(Unit.code == unit_code)
    if building_code:
        stmt = stmt.where(Building.code == building_code)
    if id_number:
        principal.require("registry.pii.read")
        stmt = stmt.where(Resident.id_number_index == platform.protector.index(id_number))
    p = queries.paged(session, stmt, page, page_size, Resident.id)
    return _page(p, [queries.resident_public(session, platform, principal, r) for r in p.rows])


@router.get("/residents/{resident_id}", response_model=s.ResidentPublic)
def get_resident(resident_id: int, session: SessionDep, platform: PlatformDep, principal: HouseholdReader):
    return queries.resident_public(
        session, platform, principal, queries.get_resident(session, principal, resident_id)
    )


@router.post("/residents", response_model=s.ResidentPublic, status_code=201)
def create_resident(
    body: s.ResidentCreate,
    session: SessionDep,
    platform: PlatformDep,
    principal: Annotated[Principal, require("registry.residents.write")],
):
    resident = actions.do_create_resident(session, platform, principal, body)
    return queries.resident_public(session, platform, principal, resident, body.unit_code)


@router.patch("/residents/{resident_id}", response_model=s.ResidentPublic)
def update_resident(
    resident_id: int,
    body: s.ResidentUpdate,
    session: SessionDep,
    platform: PlatformDep,
    principal: Annotated[Principal, require("registry.residents.write")],
):
    resident = queries.get_resident(session, principal, resident_id)
    return queries.resident_public(
        session, platform, principal, actions.do_update_resident(session, platform, principal, resident, body)
    )


# --- venues ------------------------------------------------------------------------------------------


@router.get("/venues", response_model=s.Page[s.VenuePublic])
def list_venues(
    session: SessionDep,
    platform: PlatformDep,
    principal: Reader,
    kind: s.VenueKind | None = None,
    category: str | None = None,
    street_code: str | None = None,
    community_code: str | None = None,
    grid_code: str | None = None,
    status: str | None = None,
    q: str | None = None,
    page: PageNo = 1,
    page_size: PageSize = 100,
):
    filters = {
        "kind": kind,
        "category": category,
        "street_code": street_code,
        "community_code": community_code,
        "grid_code": grid_code,
        "status": status,
    }
    p = queries.paged(
        session,
        queries.located_stmt(session, Venue, principal, filters=filters, q=q),
        page,
        page_size,
        Venue.code,
    )
    return _page(p, [queries.venue_public(session, platform, principal, v) for v in p.rows])


@router.get("/venues/{code}", response_model=s.VenuePublic)
def get_venue(code: str, session: SessionDep, platform: PlatformDep, principal: Reader):
    return queries.venue_public(
        session, platform, principal, queries.get_by_code(session, principal, Venue, code, "venue")
    )


@router.post("/venues", response_model=s.VenuePublic, status_code=201)
def create_venue(
    body: s.VenueCreate,
    session: SessionDep,
    platform: PlatformDep,
    principal: Annotated[Principal, require("registry.venues.write")],
):
    return queries.venue_public(
        session, platform, principal, actions.do_create_venue(session, platform, principal, body)
    )


@router.patch("/venues/{code}", response_model=s.VenuePublic)
def update_venue(
    code: str,
    body: s.VenueUpdate,
    session: SessionDep,
    platform: PlatformDep,
    principal: Annotated[Principal, require("registry.venues.write")],
):
    venue = queries.get_by_code(session, principal, Venue, code, "venue")
    return queries.venue_public(
        session, platform, principal, actions.do_update_venue(session, platform, principal, venue, body)
    )


@router.post("/venues/{code}/licences", response_model=s.LicencePublic, status_code=201)
def add_licence(
    code: str,
    body: s.LicenceCreate,
    session: SessionDep,
    platform: PlatformDep,
    principal: Annotated[Principal, require("registry.venues.write")],
):
    venue = queries.get_by_code(session, principal, Venue, code, "venue")
    return actions.do_add_licence(session, platform, principal, venue, body)


# --- facilities --------------------------------------------------------------------------------------


@router.get("/facilities", response_model=s.Page[s.FacilityPublic])
def list_facilities(
    session: SessionDep,
    principal: Reader,
    kind: s.FacilityKind | None = None,
    owner_department_code: str | None = None,
    street_code: str | None = None,
    community_code: str | None = None,
    grid_code: str | None = None,
    status: str | None = None,
    q: str | None = None,
    page: PageNo = 1,
    page_size: PageSize = 100,
):
    filters: dict[str, Any] = {
        "kind": kind,
        "street_code": street_code,
        "community_code": community_code,
        "grid_code": grid_code,
        "status": status,
    }
    if owner_department_code:
        filters["owner_department_id"] = queries.get_department(session, owner_department_code).id
    p = queries.paged(
        session,
        queries.located_stmt(session, Facility, principal, filters=filters, q=q),
        page,
        page_size,
        Facility.code,
    )
    depts = queries.departments_by_id(session)
    return _page(p, [queries.facility_public(session, f, depts) for f in p.rows])


@router.get("/facilities/{code}", response_model=s.FacilityPublic)
def get_facility(code: str, session: SessionDep, principal: Reader):
    return queries.facility_public(
        session, queries.get_by_code(session, principal, Facility, code, "facility")
    )


@router.post("/facilities", response_model=s.FacilityPublic, status_code=201)
def create_facility(
    body: s.FacilityCreate,
    session: SessionDep,
    platform: PlatformDep,
    principal: Annotated[Principal, require("registry.facilities.write")],
):
    return queries.facility_public(session, actions.do_create_facility(session, platform, principal, body))


@router.patch("/facilities/{code}", response_model=s.FacilityPublic)
def update_facility(
    code: str,
    body: s.FacilityUpdate,
    session: SessionDep,
    platform: PlatformDep,
    principal: Annotated[Principal, require("registry.facilities.write")],
):
    facility = queries.get_by_code(session, principal, Facility, code, "facility")
    return queries.facility_public(
        session, actions.do_update_facility(session, platform, principal, facility, body)
    )


@router.get("/summary")
def summary(session: SessionDep, principal: Reader) -> dict[str, Any]:
    """Counts by level and kind: what the demo seed produced, what the big screen shows."""
    return queries.counts(session)
