"""``/api/v1/cases``: intake for staff, the lifecycle's actions, the department workbench (inbox, accept,
progress notes with photos, resolve), the centre's views (triage, overdue, by area, statistics) and the
configuration (routing rules, working calendar, notification subscriptions)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, FastAPI, File, Form, Query, UploadFile
from fastapi.responses import FileResponse, Response
from sqlalchemy import select

from urbanbrain.api.bulk import bulk_json
from urbanbrain.api.deps import CurrentPrincipal, PlatformDep, SessionDep, require
from urbanbrain.api.paging import page_query
from urbanbrain.api.params import Id, IsoDateTime, Ref, aware
from urbanbrain.core import photos as core_photos
from urbanbrain.core import workflow
from urbanbrain.core.auth.principal import Principal
from urbanbrain.core.bus import Event
from urbanbrain.core.context import Platform
from urbanbrain.core.errors import UrbanBrainError
from urbanbrain.core.live import feed
from urbanbrain.core.loops import Sweep
from urbanbrain.core.paging import Page, PageRequest, paged
from urbanbrain.domains.cases import actions, events, feedback, lifecycle, metrics, open311, photos, queries
from urbanbrain.domains.cases import schemas as s
from urbanbrain.domains.cases.models import CalendarDay, Case, CasePhoto, RoutingRule
from urbanbrain.domains.cases.taxonomy import load as taxonomy

router = APIRouter(tags=["cases"])
Reader = Annotated[Principal, require("cases.cases.read")]
Manager = Annotated[Principal, require("cases.cases.manage")]
Paging = Annotated[PageRequest, Depends(page_query(50))]
PHOTO_CONTENT = core_photos.CONTENT


def setup(app: FastAPI, platform: Platform) -> list[Any]:
    """Open311 at /open311/v2; cases by state on /metrics; the SLA sweep when background work is on."""
    metrics.register(platform)
    app.include_router(open311.router, prefix="/open311/v2")
    # The centre's live feed: cases as they move, SLA warnings and breaches. Only for the centre (manage):
    # the feed checks a permission, not a department's scope.
    live = feed(platform)
    live.show(
        "cases.case.*", name="case", permission="cases.cases.manage", render=case_item, id_field="case_id"
    )
    for pattern in (events.SLA_WARNING, events.SLA_BREACHED):
        live.show(pattern, name="sla", permission="cases.cases.manage", render=sla_item, id_field="case_id")
    if platform.settings.worker_seconds > 0:
        return [Sweep("cases-sla", platform, actions.sla_sweep, platform.settings.worker_seconds)]
    return []


SHOWN_CASE_EVENTS = {
    "reported",
    "registered",
    "dispatched",
    "accepted",
    "resolved",
    "verified",
    "closed",
    "returned",
    "reassigned",
    "escalated",
    "emergency",
    "triaged",
    "answered",
}


def case_item(event: Event) -> dict[str, Any] | None:
    """A case event as the centre's feed shows it (SLA events go out as ``sla`` items instead)."""
    what = event.type.rsplit(".", 1)[1]
    if what not in SHOWN_CASE_EVENTS:
        return None
    return {"event": what, **{k: v for k, v in event.payload.items() if k != "case_id"}}


def sla_item(event: Event) -> dict[str, Any]:
    return {
        "event": event.type.rsplit(".", 1)[1],
        **{k: v for k, v in event.payload.items() if k != "case_id"},
    }


def _page(
    session: Any, platform: Platform, principal: Principal, stmt: Any, page: PageRequest, order: Any
) -> dict[str, Any]:
    p = paged(session, stmt, page, order)
    return p.map(lambda c: queries.case_public(session, platform, principal, c))


def _full(session: Any, platform: Platform, principal: Principal, case: Any) -> dict[str, Any]:
    body = queries.case_public(session, platform, principal, case)
    body["history"] = queries.history(session, case)
    body["links"] = queries.links(session, case)
    body["allowed_transitions"] = sorted(
        n for n, t in lifecycle.TRANSITIONS.items() if case.state in t.sources
    )
    return body


@router.get("/categories", response_model=list[s.MajorClassPublic])
def categories(principal: CurrentPrincipal) -> list[dict[str, Any]]:
    """The two-level taxonomy with each class's department, priority and time limits."""
    return [
        {
            "code": m.code,
            "kind": m.kind,
            "name": {"zh-CN": m.name, "en": m.name_en},
            "minor": [
                {
                    "code": n.code,
                    "name": {"zh-CN": n.name, "en": n.name_en},
                    "department": n.department,
                    "priority": n.priority,
                    "accept_minutes": n.accept_minutes,
                    "resolve_hours": n.resolve_hours,
                    "calendar": n.calendar,
                }
                for n in m.minors
            ],
        }
        for m in taxonomy().majors
    ]


@router.get("/states", response_model=workflow.WorkflowPublic)
def states(principal: CurrentPrincipal) -> dict[str, Any]:
    """The lifecycle as data: states with their group, and the named transitions with their rules."""
    return workflow.describe(lifecycle.STATES, lifecycle.TRANSITIONS)


@router.post("/classify", response_model=s.ClassifyPublic, openapi_extra={"security": []})
def classify(body: dict[str, str], platform: PlatformDep) -> dict[str, Any]:
    """Preview what intake would make of a text: class, department, kind of request, emergency, answer. No
    login: the citizens' report page suggests the category as they type (it reveals only the taxonomy, which
    Open311's services list publishes anyway)."""
    from urbanbrain.domains.cases import knowledge
    from urbanbrain.domains.cases.classify.retrain import current

    text = str(body.get("text", ""))[: s.MAX_DESCRIPTION]
    p = current(platform).predict(text)
    match = knowledge.load().answer_for(text, p.department) if p.kind == "consultation" else None
    return {
        "label": p.label,
        "confidence": p.confidence,
        "department": p.department,
        "department_confidence": p.department_confidence,
        "top": p.top,
        "threshold": p.threshold,
        "confident": not p.needs_triage,
        "kind": p.kind,
        "emergency": p.emergency,
        "call_now": taxonomy().minor(p.label).call_now if p.emergency else None,
        "answer_code": match.answer.code if match else None,
    }


@router.post("", status_code=201, response_model=s.CaseDetail)
def report(
    body: s.CaseReport,
    session: SessionDep,
    platform: PlatformDep,
    principal: Annotated[Principal, require("cases.cases.report")],
) -> dict[str, Any]:
    """File a case. It is classified (unless a class is given), located, checked for duplicates, routed and
    dispatched when confident; otherwise it waits in the triage queue with the reason."""
    case = actions.do_report_case(session, platform, principal, body)
    return _full(session, platform, principal, case)


@router.get("", response_model=Page[s.CasePublic])
def list_cases(
    session: SessionDep,
    platform: PlatformDep,
    principal: Reader,
    page: Paging,
    state: str | None = None,
    group: Literal["open", "closed"] | None = None,
    department_code: str | None = None,
    category_code: str | None = None,
    street_code: str | None = None,
    community_code: str | None = None,
    source: str | None = None,
    overdue: bool | None = None,
    q: str | None = None,
    request_kind: s.RequestKind | None = None,
    emergency: bool | None = None,
) -> dict[str, Any]:
    """Cases in your scope; ``request_kind=consultation`` with your department is its consultation queue,
    ``emergency=true`` the reports that were told to call 110/119/120."""
    stmt = queries.list_stmt(
        principal,
        platform.clock.now(),
        state=state,
        group=group,
        department_code=department_code,
        category_code=category_code,
        street_code=street_code,
        community_code=community_code,
        source=source,
        overdue=overdue,
        q=q,
        request_kind=request_kind,
        emergency=emergency,
    )
    return _page(session, platform, principal, stmt, page, Case.id.desc())


@router.get("/inbox", response_model=Page[s.CasePublic])
def inbox(
    session: SessionDep,
    platform: PlatformDep,
    principal: Reader,
    page: Paging,
    state: str | None = None,
    overdue: bool | None = None,
) -> dict[str, Any]:
    """The department workbench: your department's cases that are waiting for or under work."""
    stmt = queries.list_stmt(principal, platform.clock.now(), state=state, overdue=overdue)
    stmt = stmt.where(Case.state.in_(queries.INBOX_STATES))
    if principal.department_code:
        stmt = stmt.where(Case.department_code == principal.department_code)
    return _page(session, platform, principal, stmt, page, Case.resolve_due_at)


@router.get("/triage", response_model=Page[s.CasePublic])
def triage(session: SessionDep, platform: PlatformDep, principal: Manager, page: Paging) -> dict[str, Any]:
    """The operators' queue: low-confidence, unroutable and returned cases, oldest first."""
    stmt = queries.list_stmt(principal, platform.clock.now(), triage=True)
    return _page(session, platform, principal, stmt, page, Case.reported_at)


@router.get("/overdue", response_model=Page[s.CasePublic])
def overdue(session: SessionDep, platform: PlatformDep, principal: Reader, page: Paging) -> dict[str, Any]:
    stmt = queries.list_stmt(principal, platform.clock.now(), overdue=True)
    return _page(session, platform, principal, stmt, page, Case.resolve_due_at)


@router.get("/map", response_model=s.CaseMap)
def case_map(
    session: SessionDep,
    platform: PlatformDep,
    principal: Reader,
    at: Annotated[
        IsoDateTime | None, Query(description="A past moment (district local time without offset).")
    ] = None,
) -> Response:
    """Located open cases in the reader's scope for the map, one short row each: ``[lon, lat, number,
    category, state, sla, department]``; with ``at``, the cases open at that moment as they stood then
    (the centre's time slider)."""
    when = aware(at, platform.settings.utc_offset_hours)
    return bulk_json(queries.case_map(session, principal, platform.clock.now(), when))


@router.get("/by-area", response_model=list[s.AreaCounts])
def by_area(session: SessionDep, platform: PlatformDep, principal: Reader) -> list[dict[str, Any]]:
    return queries.by_area(session, principal, platform.clock.now())


@router.get("/classifier", response_model=s.ClassifierStatus)
def classifier_status(
    session: SessionDep,
    platform: PlatformDep,
    principal: Reader,
    days: Annotated[int, Query(ge=1, le=365)] = 30,
) -> dict[str, Any]:
    """The classifier in service and its accuracy day by day as dispatchers correct it (returns and
    reassignments of what it sent alone), beside every trained version with its scores."""
    from urbanbrain.domains.cases import classifier_stats
    from urbanbrain.domains.cases.classify.retrain import current

    model = current(platform)
    return {
        "version": model.version,
        "threshold": model.threshold,
        "out_of_writer": model.meta.get("out_of_writer"),
        "daily": classifier_stats.daily(
            session, platform.clock.now(), days, platform.settings.utc_offset_hours
        ),
        "versions": classifier_stats.versions(session),
    }


@router.get("/statistics", response_model=s.CaseStatistics)
def statistics(
    session: SessionDep,
    platform: PlatformDep,
    principal: Reader,
    start: Annotated[IsoDateTime | None, Query(alias="from")] = None,
    end: Annotated[IsoDateTime | None, Query(alias="to")] = None,
    group_by: Literal["department", "category", "street"] = "department",
) -> dict[str, Any]:
    """On-time and verification statistics for cases dispatched in the period (default: the last 30 days;
    ``from`` and ``to`` in ISO 8601, without an offset in the district's local time)."""
    offset = platform.settings.utc_offset_hours
    until = aware(end, offset) or platform.clock.now()
    since = aware(start, offset) or until - timedelta(days=30)
    return queries.statistics(session, principal, since, until, group_by)


@router.get("/routing-rules", response_model=list[s.RoutingRulePublic])
def list_rules(session: SessionDep, principal: Reader) -> list[s.RoutingRulePublic]:
    rules = session.scalars(select(RoutingRule).order_by(RoutingRule.rank, RoutingRule.id))
    return [s.RoutingRulePublic.model_validate(r) for r in rules]


@router.post("/routing-rules", status_code=201, response_model=s.RoutingRulePublic)
def add_rule(
    body: s.RoutingRuleCreate,
    session: SessionDep,
    platform: PlatformDep,
    principal: Annotated[Principal, require("cases.routing.write")],
) -> s.RoutingRulePublic:
    rule = actions.do_add_routing_rule(session, platform, principal, **body.model_dump())
    return s.RoutingRulePublic.model_validate(rule)


@router.get("/calendar", response_model=s.CalendarPublic)
def calendar(session: SessionDep, platform: PlatformDep, principal: Reader) -> dict[str, Any]:
    st = platform.settings
    days = session.scalars(select(CalendarDay).order_by(CalendarDay.day))
    return {
        "work_periods": st.work_periods,
        "work_weekdays": st.work_weekdays,
        "utc_offset_hours": st.utc_offset_hours,
        "days": [{"day": d.day, "kind": d.kind, "name": d.name} for d in days],
    }


@router.put("/calendar/{day}", response_model=s.CalendarDayPublic)
def set_day(
    day: date,
    body: s.CalendarDayCreate,
    session: SessionDep,
    platform: PlatformDep,
    principal: Annotated[Principal, require("cases.calendar.write")],
) -> dict[str, Any]:
    """Mark a date as a holiday or as a worked weekend day (调休)."""
    if body.day is not None and body.day != day:
        raise UrbanBrainError(
            "request.invalid", summary=f"the body's day {body.day} differs from the path's {day}"
        )
    row = actions.do_set_calendar_day(session, platform, principal, day, body.kind, body.name)
    return {"day": row.day, "kind": row.kind, "name": row.name}


@router.get("/feedback/{key}", response_model=s.FeedbackCase)
def feedback_case(key: str, session: SessionDep) -> dict[str, Any]:
    """What the reporter is asked to judge (no login: the key sent to them alone when the case was resolved):
    the case's number, title and the department's closing note."""
    return queries.feedback_case(session, feedback.case_for_key(session, key))


@router.post("/feedback/{key}", response_model=s.FeedbackPublic)
def reporter_feedback(
    key: str, body: s.FeedbackCreate, session: SessionDep, platform: PlatformDep
) -> dict[str, Any]:
    """The reporter's satisfaction callback (no login: the key sent to the reporter's own phone or e-mail
    when the case was resolved; staff never see it). 3 stars or more confirm the fix; fewer send the case
    back to the department with the comment. A key works once."""
    case = actions.do_reporter_feedback(session, platform, key, body.satisfaction, body.comment)
    return {
        "state": case.state,
        "verification_passed": case.verification_passed,
        "satisfaction": case.satisfaction,
    }


@router.get("/{ref}", response_model=s.CaseDetail)
def get_case(ref: Ref, session: SessionDep, platform: PlatformDep, principal: Reader) -> dict[str, Any]:
    return _full(session, platform, principal, queries.get_case(session, principal, ref))


@router.post("/{ref}/actions/{name}", response_model=s.CaseDetail)
def transition(
    ref: Ref,
    name: str,
    session: SessionDep,
    platform: PlatformDep,
    principal: Reader,
    body: Annotated[s.TransitionRequest | None, Body()] = None,
) -> dict[str, Any]:
    """Run a named lifecycle action (register, dispatch, accept, start, resolve, verify_pass, verify_fail,
    close, return, reassign, escalate, request_suspend, approve_suspend, resume, request_extension,
    approve_extension, reject_request, reopen, merge, cancel). Send the ``version`` you read; an action that
    needs nothing else (no note, no department) may be sent with no body."""
    case = queries.get_case(session, principal, ref)
    actions.apply_transition(session, platform, principal, case, name, body or s.TransitionRequest())
    return _full(session, platform, principal, case)


@router.post("/{ref}/notes", status_code=201, response_model=s.CaseDetail)
def add_note(
    ref: Ref,
    session: SessionDep,
    platform: PlatformDep,
    principal: Reader,
    note: Annotated[str, Form(min_length=1, max_length=s.MAX_DESCRIPTION)],
    public: Annotated[bool, Form(description="Shown to the reporter (Open311 updates).")] = True,
    files: Annotated[list[UploadFile] | None, File(description="JPEG, PNG or WebP, 10 MB each")] = None,
) -> dict[str, Any]:
    """A progress note, with photos, from the department working the case."""
    case = queries.get_case(session, principal, ref)
    h = actions.do_add_note(session, platform, principal, case, note, public)
    for f in files or []:
        data = f.file.read(core_photos.MAX_BYTES + 1)
        photos.do_attach_photo(session, platform, principal, case, data, history_id=h.id)
    return _full(session, platform, principal, case)


@router.get(
    "/{ref}/photos/{photo_id}",
    response_class=FileResponse,
    responses={200: {"content": PHOTO_CONTENT, "description": "The photo."}},
)
def get_photo(
    ref: Ref, photo_id: Id, session: SessionDep, platform: PlatformDep, principal: Reader
) -> FileResponse:
    case = queries.get_case(session, principal, ref)
    photo = session.get(CasePhoto, photo_id)
    if photo is None or photo.case_id != case.id:
        raise UrbanBrainError("not_found", what=f"photo {photo_id}")
    return FileResponse(photos.photo_path(platform, photo), media_type=photo.content_type)
