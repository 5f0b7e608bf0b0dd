"""``/api/v1/insight``: the command centre's KPI panels, hotspots, forecasts and the daily brief (HTML and
PDF), read from the pre-aggregates of the district lake; a refresh on demand, and one on a background loop
when background work is on. Shapes in ``docs/insight.md``."""

from __future__ import annotations

import dataclasses
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, FastAPI, Query
from fastapi.responses import HTMLResponse, Response

from urbanbrain.api.deps import PlatformDep, SessionDep, require
from urbanbrain.apps.insight import actions, brief, brief_pdf, queries
from urbanbrain.apps.insight import schemas as s
from urbanbrain.core.auth.principal import Principal
from urbanbrain.core.context import Platform
from urbanbrain.core.loops import BackgroundLoop

router = APIRouter(tags=["insight"])
Reader = Annotated[Principal, require("insight.read")]
Refresher = Annotated[Principal, require("insight.aggregates.refresh")]
Area = Annotated[str | None, Query(min_length=6, max_length=32, pattern=r"^[0-9A-Za-z_-]+$",
                                   description="A street's or community's code")]  # fmt: skip
REFRESH_SECONDS = 60.0


def setup(app: FastAPI, platform: Platform) -> list[Any]:
    """A loop that keeps the pre-aggregates up to date with the lake, when background work is on."""
    if platform.settings.worker_seconds > 0:
        period = max(platform.settings.worker_seconds, REFRESH_SECONDS)
        return [
            BackgroundLoop(
                "insight-aggregates",
                lambda: actions.do_refresh_aggregates(platform),
                period,
                first_wait=False,
            )
        ]
    return []


@router.post("/refresh", response_model=s.RefreshPublic)
def refresh(platform: PlatformDep, principal: Refresher) -> Any:
    """Re-aggregate now the lake partitions that changed since the last refresh."""
    return dataclasses.asdict(actions.do_refresh_aggregates(platform))


@router.get("/kpis", response_model=s.KpisPublic)
def kpis(
    session: SessionDep,
    platform: PlatformDep,
    principal: Reader,
    start: Annotated[
        date | None, Query(alias="from", description="First local day (default: 30 days before to)")
    ] = None,
    end: Annotated[
        date | None, Query(alias="to", description="Last local day, included (default: yesterday)")
    ] = None,
    area: Area = None,
) -> Any:
    """Cases by class, area and day; on-time rates and the department ranking; what is overdue now; alarms;
    hazard rectification; devices online."""
    return queries.kpis_of(session, platform, principal, start, end, area)


@router.get("/hotspots", response_model=s.HotspotsPublic)
def hotspots(
    session: SessionDep,
    platform: PlatformDep,
    principal: Reader,
    last_day: date | None = None,
    window: Annotated[int, Query(ge=1, le=14)] = 3,
    weeks: Annotated[int, Query(ge=2, le=26)] = 8,
    area: Area = None,
) -> Any:
    """H3 cells with unusually many cases in the ``window`` days ending ``last_day`` (default yesterday)."""
    return queries.hotspots_of(session, platform, principal, last_day, window, weeks, area)


@router.get("/forecasts", response_model=s.ForecastsPublic)
def forecasts(
    session: SessionDep,
    platform: PlatformDep,
    principal: Reader,
    by: Literal["class", "area"] = "class",
    horizon: Annotated[int, Query(ge=1, le=14)] = 7,
    area: Area = None,
    last_day: date | None = None,
) -> Any:
    """Cases per day per major class or area: four weeks seen, ``horizon`` days forecast with an 80%
    interval, the seasonal-naive baseline, and both methods' error over the last four weeks."""
    return queries.forecasts_of(session, platform, principal, by, horizon, area, last_day=last_day)


BINARY = {"schema": {"type": "string", "format": "binary"}}
TEXT = {"schema": {"type": "string"}}


@router.get(
    "/briefs/{day}.html",
    response_class=HTMLResponse,
    responses={200: {"content": {"text/html": TEXT}, "description": "The brief, one HTML page."}},
)
def brief_html(
    day: str, session: SessionDep, platform: PlatformDep, principal: Reader, area: Area = None
) -> Any:
    """The daily brief of a local day (YYYY-MM-DD) as one self-contained HTML page."""
    data = brief.brief_data(session, platform, principal, queries.parse_day(day), area)
    return HTMLResponse(brief.render_html(data))


@router.get(
    "/briefs/{day}.pdf",
    response_class=Response,
    responses={200: {"content": {"application/pdf": BINARY}, "description": "The brief as a PDF."}},
)
def brief_pdf_file(
    day: str, session: SessionDep, platform: PlatformDep, principal: Reader, area: Area = None
) -> Any:
    """The daily brief as a PDF (A4, Chinese text embedded as a font subset)."""
    data = brief.brief_data(session, platform, principal, queries.parse_day(day), area)
    return Response(
        brief_pdf.render_pdf(data),
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="brief-{day}.pdf"'},
    )
