"""``/api/v1/fire_safety``: a grid worker records inspections with the hazards found, and follows each
hazard through rectification and re-inspection to closure (or escalation to a case); the centre reads
lists and statistics."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, FastAPI, File, Query, UploadFile
from fastapi.responses import FileResponse

from urbanbrain.api.deps import PlatformDep, SessionDep, require
from urbanbrain.api.paging import page_query
from urbanbrain.api.params import Id, IsoDateTime, Ref, aware
from urbanbrain.apps.fire_safety import actions, fire_map, hazard_types, lifecycle, photos, queries
from urbanbrain.apps.fire_safety import schemas as s
from urbanbrain.apps.fire_safety.models import Hazard, HazardPhoto, Inspection
from urbanbrain.apps.fire_safety.statistics import statistics as compute_statistics
from urbanbrain.core import photos as core_photos
from urbanbrain.core import workflow
from urbanbrain.core.auth.principal import Principal
from urbanbrain.core.context import Platform
from urbanbrain.core.errors import UrbanBrainError
from urbanbrain.core.loops import Sweep
from urbanbrain.core.paging import Page, PageRequest, paged

router = APIRouter(tags=["fire_safety"])
Reader = Annotated[Principal, require("fire_safety.read")]
Paging = Annotated[PageRequest, Depends(page_query(50))]


def setup(app: FastAPI, platform: Platform) -> list[Any]:
    """A worker for the overdue sweep when background work is on."""
    if platform.settings.worker_seconds > 0:
        return [
            Sweep("fire-safety-overdue", platform, actions.overdue_sweep, platform.settings.worker_seconds)
        ]
    return []


def _detail(session: Any, platform: Platform, hazard: Hazard) -> dict[str, Any]:
    return queries.hazard_detail(session, hazard, platform.clock.now(), platform.settings.utc_offset_hours)


@router.get("/hazard-types", response_model=list[s.HazardTypePublic])
def list_hazard_types(principal: Reader) -> list[dict[str, Any]]:
    """The hazard types with their Chinese and English names, default deadline and case class."""
    return [
        {"code": t.code, "name": t.name, "deadline_days": t.deadline_days, "case_category": t.case_category}
        for t in hazard_types.load().values()
    ]


@router.get("/states", response_model=workflow.WorkflowPublic)
def states(principal: Reader) -> dict[str, Any]:
    """The hazard loop as data: states with their group, and the named transitions with their rules."""
    return workflow.describe(lifecycle.STATES, lifecycle.TRANSITIONS)


@router.post("/inspections", status_code=201, response_model=s.InspectionPublic)
def record_inspection(
    body: s.InspectionCreate,
    session: SessionDep,
    platform: PlatformDep,
    principal: Annotated[Principal, require("fire_safety.inspections.write")],
) -> dict[str, Any]:
    """Record an inspection of a building or venue of your area, with the hazards found (none: it passed).
    Each hazard gets a code (YH-...) and the deadline of its type."""
    inspection = actions.do_record_inspection(session, platform, principal, body)
    now, offset = platform.clock.now(), platform.settings.utc_offset_hours
    return queries.inspection_public(session, [inspection], now, offset)[0]


@router.get("/inspections", response_model=Page[s.InspectionPublic])
def list_inspections(
    session: SessionDep,
    platform: PlatformDep,
    principal: Reader,
    page: Paging,
    community: str | None = None,
    building: Annotated[
        str | None, Query(description="A building: its own and its venues' inspections.")
    ] = None,
    target: str | None = None,
    kind: Literal["routine", "re_inspection"] | None = None,
    result: Literal["pass", "hazards_found"] | None = None,
    start: Annotated[IsoDateTime | None, Query(alias="from")] = None,
    end: Annotated[IsoDateTime | None, Query(alias="to")] = None,
) -> dict[str, Any]:
    stmt = queries.inspections_stmt(
        principal,
        community_code=community,
        building_code=building,
        target_code=target,
        kind=kind,
        result=result,
        start=aware(start, platform.settings.utc_offset_hours),
        end=aware(end, platform.settings.utc_offset_hours),
    )
    p = paged(session, stmt, page, Inspection.id.desc())
    now, offset = platform.clock.now(), platform.settings.utc_offset_hours
    return {"items": queries.inspection_public(session, list(p.rows), now, offset), **p.counts()}


@router.get("/inspections/{ref}", response_model=s.InspectionPublic)
def get_inspection(ref: Ref, session: SessionDep, platform: PlatformDep, principal: Reader) -> dict[str, Any]:
    inspection = queries.get_inspection(session, principal, ref)
    now, offset = platform.clock.now(), platform.settings.utc_offset_hours
    return queries.inspection_public(session, [inspection], now, offset)[0]


@router.get("/hazards", response_model=Page[s.HazardPublic])
def list_hazards(
    session: SessionDep,
    platform: PlatformDep,
    principal: Reader,
    page: Paging,
    state: Literal["open", "rectified", "closed"] | None = None,
    type_code: Annotated[str | None, Query(alias="type", description="A code from /hazard-types.")] = None,
    severity: Literal["general", "major"] | None = None,
    community: str | None = None,
    building: str | None = None,
    target: str | None = None,
    overdue: bool | None = None,
    escalated: bool | None = None,
) -> dict[str, Any]:
    """Hazards of your area, most urgent deadline first."""
    now = platform.clock.now()
    stmt = queries.hazards_stmt(
        principal,
        now,
        state=state,
        type_code=type_code,
        severity=severity,
        community_code=community,
        building_code=building,
        target_code=target,
        overdue=overdue,
        escalated=escalated,
    )
    # Deadline first, then id: a stable order, so pages neither repeat nor skip hazards.
    p = paged(session, stmt, page, (Hazard.deadline, Hazard.id))
    offset = platform.settings.utc_offset_hours
    return p.map(lambda h: queries.hazard_public(h, now, offset))


@router.get("/hazards/{ref}", response_model=s.HazardDetail)
def get_hazard(ref: Ref, session: SessionDep, platform: PlatformDep, principal: Reader) -> dict[str, Any]:
    """One hazard with its history and the actions its state allows."""
    return _detail(session, platform, queries.get_hazard(session, principal, ref))


@router.post("/hazards/{ref}/rectification", response_model=s.HazardDetail)
def report_rectification(
    ref: Ref, body: s.RectificationCreate, session: SessionDep, platform: PlatformDep, principal: Reader
) -> dict[str, Any]:
    """The owner has fixed it: the hazard waits for re-inspection. Send the ``version`` you read."""
    hazard = queries.get_hazard(session, principal, ref)
    actions.do_report_rectification(session, platform, principal, hazard, body.note, body.version)
    return _detail(session, platform, hazard)


@router.post("/hazards/{ref}/reinspection", response_model=s.HazardDetail)
def reinspect(
    ref: Ref, body: s.ReinspectionCreate, session: SessionDep, platform: PlatformDep, principal: Reader
) -> dict[str, Any]:
    """Re-inspect a rectified hazard: passed closes it (销号); failed reopens it with a new deadline (the
    type's, or ``deadline_days``) and counts a failure. A failure needs a note."""
    hazard = queries.get_hazard(session, principal, ref)
    actions.do_reinspect_hazard(
        session, platform, principal, hazard, body.passed, body.note, body.deadline_days, body.version
    )
    return _detail(session, platform, hazard)


@router.post("/hazards/{ref}/escalation", response_model=s.HazardDetail)
def escalate(
    ref: Ref, body: s.EscalationCreate, session: SessionDep, platform: PlatformDep, principal: Reader
) -> dict[str, Any]:
    """File a major or overdue hazard as a case (source ``grid``, the type's fire class, at the building);
    the case number is kept on the hazard."""
    hazard = queries.get_hazard(session, principal, ref)
    actions.do_escalate_hazard(session, platform, principal, hazard, body.note, body.version)
    return _detail(session, platform, hazard)


@router.post("/hazards/{ref}/photos", status_code=201, response_model=s.HazardDetail)
def attach_photos(
    ref: Ref,
    session: SessionDep,
    platform: PlatformDep,
    principal: Annotated[Principal, require("fire_safety.inspections.write")],
    files: Annotated[list[UploadFile], File(description="JPEG, PNG or WebP, 10 MB each")],
) -> dict[str, Any]:
    """Photos of the hazard's latest step: send them after recording the inspection (the hazard as found)
    or after reporting the rectification (the fix). All are checked before any is kept; at most 20 per
    hazard. The history lists each step's photo ids."""
    hazard = queries.get_hazard(session, principal, ref)
    data = [f.file.read(core_photos.MAX_BYTES + 1) for f in files]
    photos.do_attach_photos(session, platform, principal, hazard, data)
    return _detail(session, platform, hazard)


@router.get(
    "/hazards/{ref}/photos/{photo_id}",
    response_class=FileResponse,
    responses={200: {"content": core_photos.CONTENT, "description": "The photo."}},
)
def get_photo(
    ref: Ref, photo_id: Id, session: SessionDep, platform: PlatformDep, principal: Reader
) -> FileResponse:
    """One photo of a hazard of your area, in the type it was taken."""
    hazard = queries.get_hazard(session, principal, ref)
    photo = session.get(HazardPhoto, photo_id)
    if photo is None or photo.hazard_id != hazard.id:
        raise UrbanBrainError("not_found", what=f"photo {photo_id}")
    return FileResponse(photos.photo_path(platform, photo), media_type=photo.content_type)


@router.get("/villages/{village_code}/fire-map", response_model=s.FireMap)
def village_fire_map(village_code: str, session: SessionDep, principal: Reader) -> dict[str, Any]:
    """The village's buildings as GeoJSON for the fire map: devices, open alarms and their highest warning
    level, open hazards, and a ``status`` to colour each by; ``properties`` counts buildings per status."""
    return fire_map.fire_map(session, principal, village_code)


@router.get("/statistics", response_model=s.FireStatistics)
def statistics(
    session: SessionDep,
    platform: PlatformDep,
    principal: Reader,
    start: Annotated[IsoDateTime | None, Query(alias="from")] = None,
    end: Annotated[IsoDateTime | None, Query(alias="to")] = None,
    community: str | None = None,
) -> dict[str, Any]:
    """Inspections, and hazards found in the period (default: the last 30 days) by type and by community:
    found, closed, open, overdue, re-inspection failures, escalations, and the rate rectified on time."""
    now = platform.clock.now()
    offset = platform.settings.utc_offset_hours
    until = aware(end, offset) or now
    since = aware(start, offset) or until - timedelta(days=30)
    return compute_statistics(session, principal, since, until, now, community)
