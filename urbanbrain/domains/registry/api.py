"""``/api/v1/registry``: areas, departments, buildings, units, residents, venues and facilities (their plain
routes from the core's kit, :mod:`urbanbrain.api.crud`), and what only the registry has: map layers as
GeoJSON, locating a point, what is near, licences, counts."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response
from sqlalchemy.orm import Session

from urbanbrain.api.crud import Resource, add_routes
from urbanbrain.api.deps import PlatformDep, SessionDep, require
from urbanbrain.api.errors import responses
from urbanbrain.api.paging import page_query
from urbanbrain.core.auth.principal import Principal
from urbanbrain.core.context import Platform
from urbanbrain.core.models import Department
from urbanbrain.core.paging import PageOf, PageRequest, paged
from urbanbrain.domains.registry import actions, labels, queries
from urbanbrain.domains.registry import schemas as s
from urbanbrain.domains.registry.models import Area, Building, Facility, Resident, Unit, Venue

router = APIRouter(tags=["registry"])

Reader = Annotated[Principal, require("registry.read")]
Lon = Annotated[float, Query(description="Longitude (east), e.g. 114.059.")]
Lat = Annotated[float, Query(description="Latitude (north), e.g. 22.543.")]
Layer = Literal["buildings", "venues", "facilities"]
PUBLIC: dict[str, Any] = {"security": []}  # anyone may call it: no login


def _place_filters(f: s.PlaceFilters | None, **more: Any) -> dict[str, Any]:
    keys = ("street_code", "community_code", "grid_code")
    return {**({k: getattr(f, k) for k in keys} if f else {}), **more}


def _facility_filters(session: Session, f: s.FacilityFilters | None) -> dict[str, Any]:
    filters = _place_filters(f, kind=f and f.kind, status=f and f.status)
    if f and f.owner_department_code:
        filters["owner_department_id"] = queries.get_department(session, f.owner_department_code).id
    return filters


def _facilities(session: Session, platform: Platform, who: Principal, rows: Sequence[Facility]) -> list[Any]:
    depts = queries.departments_by_id(session)  # once for the page, not once per facility
    return [queries.facility_public(session, f, depts) for f in rows]


RESOURCES = [
    Resource(
        path="/areas", name="area", public=s.AreaPublic, read="registry.read", write="registry.areas.write",
        filters=s.AreaFilters, order=Area.code, create=s.AreaCreate, update=s.AreaUpdate,
        list_stmt=lambda session, platform, who, f: queries.areas_stmt(f),
        get=lambda session, platform, who, code: queries.get_area(session, code),
        show=lambda session, platform, who, area: queries.area_public(area),
        do_create=actions.do_create_area, do_update=actions.do_update_area,
    ),
    Resource(
        path="/departments", name="department", public=s.DepartmentPublic, read="registry.read",
        write="registry.departments.write", filters=s.DepartmentFilters, order=Department.code, page_size=200,
        create=s.DepartmentCreate, update=s.DepartmentUpdate,
        list_stmt=lambda session, platform, who, f: queries.departments_stmt(f),
        get=lambda session, platform, who, code: queries.get_department(session, code),
        show=lambda session, platform, who, dept: s.DepartmentPublic.model_validate(dept),
        do_create=actions.do_create_department, do_update=actions.do_update_department,
    ),
    Resource(
        path="/buildings", name="building", public=s.BuildingPublic, read="registry.read",
        write="registry.buildings.write", filters=s.BuildingFilters, order=Building.code,
        create=s.BuildingCreate, update=s.BuildingUpdate,
        list_stmt=lambda session, platform, who, f: queries.located_stmt(
            session, Building, who, q=f and f.q,
            filters=_place_filters(f, village_code=f and f.village_code, use=f and f.use),
        ),
        get=lambda session, platform, who, code: queries.get_by_code(session, who, Building, code, "building"),
        show=lambda session, platform, who, b: queries.building_public(platform, who, b),
        do_create=actions.do_create_building, do_update=actions.do_update_building,
    ),
    Resource(
        path="/units", name="unit", public=s.UnitPublic, read="registry.residents.read",
        write="registry.units.write", filters=s.UnitFilters, order=Unit.code, create=s.UnitCreate,
        update=s.UnitUpdate,
        list_stmt=lambda session, platform, who, f: queries.units_stmt(who, f),
        get=lambda session, platform, who, code: queries.get_unit(session, who, code)[0],
        show=lambda session, platform, who, unit: queries.unit_public(session, unit),
        do_create=actions.do_create_unit, do_update=actions.do_update_unit,
    ),
    Resource(
        path="/residents", name="resident", public=s.ResidentPublic, read="registry.residents.read",
        write="registry.residents.write", filters=s.ResidentFilters, order=Resident.id, key="resident_id",
        key_type=int, create=s.ResidentCreate, update=s.ResidentUpdate,
        list_stmt=lambda session, platform, who, f: queries.residents_stmt(platform, who, f),
        get=lambda session, platform, who, rid: queries.get_resident(session, who, rid),
        show=lambda session, platform, who, r: queries.resident_public(session, platform, who, r),
        do_create=actions.do_create_resident, do_update=actions.do_update_resident,
    ),
    Resource(
        path="/venues", name="venue", public=s.VenuePublic, read="registry.read", write="registry.venues.write",
        filters=s.VenueFilters, order=Venue.code, create=s.VenueCreate, update=s.VenueUpdate,
        list_stmt=lambda session, platform, who, f: queries.located_stmt(
            session, Venue, who, q=f and f.q,
            filters=_place_filters(f, kind=f and f.kind, category=f and f.category, status=f and f.status),
        ),
        get=lambda session, platform, who, code: queries.get_by_code(session, who, Venue, code, "venue"),
        show=lambda session, platform, who, v: queries.venue_public(session, platform, who, v),
        do_create=actions.do_create_venue, do_update=actions.do_update_venue,
    ),
    Resource(
        path="/facilities", name="facility", public=s.FacilityPublic, read="registry.read",
        write="registry.facilities.write", filters=s.FacilityFilters, order=Facility.code,
        create=s.FacilityCreate, update=s.FacilityUpdate,
        list_stmt=lambda session, platform, who, f: queries.located_stmt(
            session, Facility, who, q=f and f.q, filters=_facility_filters(session, f)
        ),
        get=lambda session, platform, who, code: queries.get_by_code(session, who, Facility, code, "facility"),
        show=lambda session, platform, who, f: queries.facility_public(session, f),
        show_many=_facilities,
        do_create=actions.do_create_facility, do_update=actions.do_update_facility,
    ),
]  # fmt: skip


def _collection(p: PageOf[Any], features: list[dict[str, Any]]) -> dict[str, Any]:
    """GeoJSON FeatureCollection with OGC-API-Features-style paging counts."""
    return {"type": "FeatureCollection", "features": features, "numberMatched": p.total,
            "numberReturned": len(features), "page": p.page, "page_size": p.page_size}  # fmt: skip


def _layer_props(session: Session, platform: Platform, principal: Principal, row: Any) -> dict[str, Any]:
    if isinstance(row, Building):
        return queries.building_public(platform, principal, row)
    if isinstance(row, Venue):
        return queries.venue_public(session, platform, principal, row)
    return queries.facility_public(session, row)


# Routes only the registry has. Mounted before the plain ones: "/areas.geojson" must not read as an area.


@router.get("/areas.geojson", response_model=s.FeatureCollection)
def areas_geojson(
    session: SessionDep,
    principal: Reader,
    page: Annotated[PageRequest, Depends(page_query(1000))],
    level: s.AreaLevel = "street",
    parent_code: str | None = None,
    simplify_m: Annotated[float, Query(ge=0, le=500)] = 0,
) -> dict[str, Any]:
    """Area outlines as a map layer. ``simplify_m`` thins the outlines for small screens."""
    p = paged(
        session, queries.areas_stmt(s.AreaFilters(level=level, parent_code=parent_code)), page, Area.code
    )
    return _collection(p, [queries.area_feature(a, simplify_m) for a in p.rows])


@router.get("/areas/{code}/geojson", response_model=s.Feature)
def get_area_geojson(code: str, session: SessionDep, principal: Reader) -> dict[str, Any]:
    return queries.area_feature(queries.get_area(session, code))


@router.get("/areas/{code}/features", response_model=s.FeatureCollection)
def area_features(
    code: str,
    session: SessionDep,
    platform: PlatformDep,
    principal: Reader,
    page: Annotated[PageRequest, Depends(page_query(500))],
    layer: Layer = "facilities",
    kind: str | None = None,
) -> dict[str, Any]:
    """Everything of one layer inside an area, as GeoJSON, page by page (limited to your data scope)."""
    area = queries.get_area(session, code)
    model = queries.LAYERS[layer]
    filters = {"kind": kind} if kind and model is not Building else None
    stmt = queries.located_stmt(session, model, principal, area=area, filters=filters)
    p = paged(session, stmt, page, model.id)
    return _collection(p, [queries.feature(r, _layer_props(session, platform, principal, r)) for r in p.rows])


@router.get("/locate", response_model=s.LocatePublic)
def locate(
    lon: Lon, lat: Lat, session: SessionDep, platform: PlatformDep, principal: Reader
) -> dict[str, Any]:
    """Which street, community and grid cell contain a point."""
    return queries.locate(platform, session, lon, lat)


@router.get("/nearby", response_model=s.FeatureCollection)
def nearby(
    lon: Lon,
    lat: Lat,
    session: SessionDep,
    platform: PlatformDep,
    principal: Reader,
    radius_m: Annotated[float, Query(gt=0, description="Search radius in metres (at most 5000).")] = 200,
    layer: Layer = "facilities",
    kind: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> dict[str, Any]:
    """Features within a radius, nearest first, as GeoJSON with ``distance_m`` on each."""
    model = queries.LAYERS[layer]
    hits = queries.nearby(session, platform, principal, model, lon, lat, radius_m,
                          kind=kind if model is not Building else None, limit=limit)  # fmt: skip
    feats = []
    for row, dist in hits:
        props = _layer_props(session, platform, principal, row)
        props["distance_m"] = round(dist, 1)
        feats.append(queries.feature(row, props))
    return {"type": "FeatureCollection", "features": feats, "numberReturned": len(feats)}


@router.post("/venues/{code}/licences", response_model=s.LicencePublic, status_code=201)
def add_licence(
    code: str,
    body: s.LicenceCreate,
    session: SessionDep,
    platform: PlatformDep,
    principal: Annotated[Principal, require("registry.venues.write")],
) -> Any:
    venue = queries.get_by_code(session, principal, Venue, code, "venue")
    return actions.do_add_licence(session, platform, principal, venue, body)


@router.get("/public/areas.geojson", response_model=s.FeatureCollection, openapi_extra=PUBLIC)
def public_outlines(
    session: SessionDep,
    level: Literal["district", "street"] = "street",
    simplify_m: Annotated[float, Query(ge=0, le=500)] = 20,
) -> dict[str, Any]:
    """The district's and the streets' outlines, public (they are on every map): the citizens' report page
    draws them to let a reporter place a pin. Communities, grid cells and everything else need a login."""
    p = paged(session, queries.areas_stmt(s.AreaFilters(level=level)), PageRequest(1, 100), Area.code)
    return _collection(p, [queries.area_feature(a, simplify_m) for a in p.rows])


@router.get(
    "/public/facilities/{code}",
    response_model=s.FacilityLanding,
    responses=responses(404),
    openapi_extra=PUBLIC,
)
def facility_landing(code: str, session: SessionDep) -> dict[str, Any]:
    """A facility's QR landing page (亮身份), for anyone who scans its label: what it is, who owns it, who is
    responsible (the phone masked) and its settings. No login."""
    return queries.facility_landing(session, code)


@router.get(
    "/facilities/labels.svg",
    response_class=Response,
    responses={200: {"content": {"image/svg+xml": {"schema": {"type": "string"}}}}},
)
def facility_labels(
    session: SessionDep,
    platform: PlatformDep,
    principal: Reader,
    area: Annotated[str, Query(description="A street, community or grid cell code.")],
    kind: Annotated[s.FacilityKind | None, Query(description="Only this kind of facility.")] = None,
    limit: Annotated[int, Query(ge=1, le=2400)] = 240,
) -> Response:
    """Printable QR label sheets for the facilities of an area: A4 pages of 3 × 8 labels, each linking to the
    facility's landing page under ``URBANBRAIN_PUBLIC_URL``, in SVG that prints at true size."""
    found = queries.facilities_for_labels(session, principal, area, kind, limit)
    title = f"UrbanBrain QR labels {area} {kind or ''}".strip()
    body = labels.sheet(found, platform.settings.public_url, title)
    name = f"labels-{area}-{kind or 'all'}.svg"
    return Response(
        body, media_type="image/svg+xml", headers={"Content-Disposition": f'inline; filename="{name}"'}
    )


@router.get("/summary", response_model=s.RegistrySummary)
def summary(session: SessionDep, principal: Reader) -> dict[str, Any]:
    """Counts by level and kind: what the demo seed produced, what the big screen shows."""
    return queries.counts(session)


for _resource in RESOURCES:
    add_routes(router, _resource)
