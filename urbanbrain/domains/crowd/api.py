"""``/api/v1/crowd``: crowd zones with their inputs, and each zone's occupancy, density, level and forecast
as of the latest event time its inputs reported."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Path, Query, Response

from urbanbrain.api.deps import PlatformDep, SessionDep, require
from urbanbrain.api.paging import page_query
from urbanbrain.core.auth.principal import Principal
from urbanbrain.core.context import Platform
from urbanbrain.core.paging import Page, PageRequest, paged
from urbanbrain.domains.crowd import actions, engine, queries
from urbanbrain.domains.crowd import schemas as s
from urbanbrain.domains.crowd.models import Zone

router = APIRouter(tags=["crowd"])
Reader = Annotated[Principal, require("crowd.read")]
Writer = Annotated[Principal, require("crowd.zones.write")]
Simulator = Annotated[Principal, require("crowd.what_if.run")]
Paging = Annotated[PageRequest, Depends(page_query(100))]


def setup(app: FastAPI, platform: Platform) -> list[Any]:
    """The zones' estimators start with the app, fed by the sensing platform's readings."""
    engine.start(platform)
    return []


Code = Annotated[str, Path(min_length=1, max_length=60, description="The zone's code, e.g. FT-CIVIC-PLAZA.")]


@router.put("/zones/{code}", response_model=s.ZonePublic)
def save_zone(
    code: Code,
    body: s.ZoneSave,
    session: SessionDep,
    platform: PlatformDep,
    principal: Writer,
    version: Annotated[int | None, Query(ge=1, description="The version you read, to change a zone.")] = None,
) -> dict[str, Any]:
    """Create a zone, or replace one (its inputs too): a polygon, its walkable area in m², an optional
    capacity, its inputs (sensing devices: counters at entrances and exits, cameras, phone-signal cells) and
    optional level thresholds (densities, or ratios of the capacity; default 2 / 3.5 / 5 / 6.5 persons/m²)."""
    zone = actions.do_save_zone(session, platform, principal, code, body, version)
    return queries.zones_public(session, [zone])[0]


@router.get("/zones", response_model=Page[s.ZonePublic])
def list_zones(session: SessionDep, principal: Reader, page: Paging) -> dict[str, Any]:
    """The zones of your area with their latest estimate, by code."""
    p = paged(session, queries.zones_stmt(principal), page, Zone.code)
    return {"items": queries.zones_public(session, list(p.rows)), **p.counts()}


@router.get("/zones/{code}", response_model=s.ZonePublic)
def get_zone(code: Code, session: SessionDep, principal: Reader) -> dict[str, Any]:
    """One zone: ``occupancy``, ``density``, ``level``, ``forecast`` (5, 10 and 15 minutes ahead, with a
    90% interval) and ``as_of``, the event time they were judged at."""
    return queries.zones_public(session, [queries.get_zone(session, principal, code)])[0]


@router.post(
    "/zones/{code}/what-if", response_model=s.WhatIfPublic, status_code=202, response_model_by_alias=True
)
def request_what_if(
    code: Code,
    body: s.WhatIfRequest,
    response: Response,
    session: SessionDep,
    platform: PlatformDep,
    principal: Simulator,
) -> dict[str, Any]:
    """Try a control measure in simulation (JuPedSim) from the zone's current state: close or meter an
    entrance, or open a closed exit, over the next ``minutes``. Answers 202 at once with ``status``
    ``running`` and what the simulation assumes; ``GET`` the what-if (``Location``) until ``status`` is
    ``done``: then ``without`` and ``with`` give each run's peak density, its minute and the series. A zone of
    thousands runs as a miniature at the same density (``start.scale``)."""
    zone = queries.get_zone(session, principal, code)
    row = actions.do_request_what_if(session, platform, principal, zone, body)
    response.headers["Location"] = f"/api/v1/crowd/zones/{zone.code}/what-if/{row.id}"
    return queries.what_if_public(zone, row, platform.clock.now(), actions.STALE_S)


@router.get("/zones/{code}/what-if/{what_if_id}", response_model=s.WhatIfPublic, response_model_by_alias=True)
def get_what_if(
    code: Code,
    what_if_id: Annotated[int, Path(ge=1, le=2**62)],
    session: SessionDep,
    platform: PlatformDep,
    principal: Reader,
) -> dict[str, Any]:
    """A what-if: ``running``, or ``done`` with both runs, or ``failed`` with the reason."""
    zone = queries.get_zone(session, principal, code)
    row = queries.get_what_if(session, zone, what_if_id)
    return queries.what_if_public(zone, row, platform.clock.now(), actions.STALE_S)
