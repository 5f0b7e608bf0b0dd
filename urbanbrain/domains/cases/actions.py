"""Every case write: intake (classify, locate, find duplicates, route, dispatch), the named transitions,
progress notes with photos, and the SLA sweep. Each changes rows, writes history and audit rows and queues
events in the caller's transaction.
"""

from __future__ import annotations

import math
import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from urbanbrain.core.actions import check_version, record, snapshot
from urbanbrain.core.auth.principal import Principal
from urbanbrain.core.bus.outbox import emit
from urbanbrain.core.context import Platform
from urbanbrain.core.errors import UrbanBrainError, register_messages
from urbanbrain.core.geodesy import haversine_m
from urbanbrain.domains.cases import events, lifecycle, routing, sla
from urbanbrain.domains.cases.models import CalendarDay, Case, CaseHistory, CaseLink, RoutingRule, Sequence
from urbanbrain.domains.cases.schemas import CaseReport, TransitionRequest
from urbanbrain.domains.cases.taxonomy import load as taxonomy
from urbanbrain.domains.registry import queries as registry

register_messages(
    {
        "cases.location_required": (
            422,
            "请提供位置（经纬度）或设施二维码编号。",
            "Give a location (lon and lat) or a facility's QR code.",
        ),
        "cases.unknown_facility": (404, "找不到设施 {code}。", "No facility has the code {code}."),
        "cases.not_found": (404, "找不到案件 {ref}。", "No case {ref}."),
    }
)

CASE_PROTECTED = ("reporter_contact",)
# Steps between the centre and departments: their notes stay off the reporter's view (Open311 updates).
INTERNAL_TRANSITIONS = frozenset(
    {
        "escalate",
        "request_suspend",
        "approve_suspend",
        "request_extension",
        "approve_extension",
        "reject_request",
        "return",
        "reassign",
    }
)
DUPLICATE_RADIUS_M = 50.0
DUPLICATE_WINDOW = timedelta(hours=24)
METRES_PER_DEGREE = 111_320.0
CENTRE = "smart_city_office"  # the command centre's department code


def working_calendar(session: Session, platform: Platform) -> sla.WorkingCalendar:
    s = platform.settings
    days = [(row.day, row.kind) for row in session.execute(select(CalendarDay.day, CalendarDay.kind))]
    return sla.WorkingCalendar.from_settings(s.work_periods, s.work_weekdays, days, s.utc_offset_hours)


def _next_number(session: Session, district: str, category: str) -> str:
    """``<district>-<minor class>-<sequence>``, e.g. 440304-C0101-000017; the counter row is locked."""
    key = f"{district}-{category}"
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    # Create the counter if missing without racing another writer, then lock and bump it.
    session.execute(insert(Sequence).values(key=key, last=0).on_conflict_do_nothing(index_elements=["key"]))
    last = session.execute(
        update(Sequence).where(Sequence.key == key).values(last=Sequence.last + 1).returning(Sequence.last)
    ).scalar_one()
    return f"{key}-{last:06d}"


def _history(
    session: Session,
    case: Case,
    actor: Principal,
    transition: str,
    from_state: str | None,
    note: str | None,
    at: datetime,
    public: bool = True,
) -> CaseHistory:
    h = CaseHistory(
        case_id=case.id,
        at=at,
        actor=actor.actor,
        transition=transition,
        from_state=from_state,
        to_state=case.state,
        department_code=case.department_code,
        note=note,
        public=public,
    )
    session.add(h)
    return h


def _announce(
    session: Session,
    platform: Platform,
    actor: Principal,
    case: Case,
    action: str,
    before: dict[str, Any] | None,
    event: str,
    extra: dict[str, Any] | None = None,
) -> None:
    payload = {
        "case_id": case.id,
        "number": case.number,
        "state": case.state,
        "department_code": case.department_code,
        "category_code": case.category_code,
        "street_code": case.street_code,
        "priority": case.priority,
    }
    payload.update(extra or {})
    record(
        session,
        platform.clock,
        actor,
        action=action,
        entity_type="case",
        entity_id=case.id,
        before=before,
        after=snapshot(case, protected=CASE_PROTECTED),
        event=event,
        payload=payload,
    )


def _set_deadlines(session: Session, platform: Platform, case: Case, start: datetime) -> None:
    minor = taxonomy().minor(case.category_code or "")
    d = sla.deadlines(
        working_calendar(session, platform), minor.calendar, start, minor.accept_minutes, minor.resolve_hours
    )
    case.accept_due_at, case.resolve_warn_at, case.resolve_due_at = (
        d.accept_due,
        d.resolve_warn,
        d.resolve_due,
    )
    case.sla_warned_at = case.sla_breached_at = None


def find_duplicates(session: Session, case: Case) -> list[Case]:
    """Open cases of the same class within 50 m, reported in the 24 hours before this one."""
    if case.lon is None or case.lat is None or not case.category_code:
        return []

    dlat = DUPLICATE_RADIUS_M / METRES_PER_DEGREE
    dlon = dlat / math.cos(math.radians(case.lat))
    rows = session.scalars(
        select(Case)
        .where(
            Case.category_code == case.category_code,
            Case.state.in_(lifecycle.OPEN_STATES),
            Case.reported_at >= case.reported_at - DUPLICATE_WINDOW,
            Case.lon.between(case.lon - dlon, case.lon + dlon),
            Case.lat.between(case.lat - dlat, case.lat + dlat),
            Case.id != case.id,
        )
        .order_by(Case.reported_at)
    ).all()
    return [c for c in rows if haversine_m(case.lon, case.lat, c.lon, c.lat) <= DUPLICATE_RADIUS_M]  # type: ignore[arg-type]


def do_report_case(
    session: Session, platform: Platform, actor: Principal, data: CaseReport, *, auto_dispatch: bool = True
) -> Case:
    """Intake from any channel: locate, classify, register, route and dispatch when confident; otherwise the
    case waits in the triage queue with the reason."""
    if not (actor.can("cases.cases.report") or actor.can("cases.requests.write")):
        raise UrbanBrainError("auth.forbidden", role=actor.role, permission="cases.cases.report")
    now = platform.clock.now()
    facility = registry.public_facility(session, data.facility_code) if data.facility_code else None
    if data.facility_code and facility is None:
        raise UrbanBrainError("cases.unknown_facility", code=data.facility_code)
    lon, lat = data.lon, data.lat
    if (lon is None or lat is None) and facility is not None:
        lon, lat = facility["lon"], facility["lat"]
    if lon is None or lat is None:
        raise UrbanBrainError("cases.location_required")
    where = registry.locate(platform, session, lon, lat)  # validates: NaN, swapped, outside the district

    category, confidence, classified_as, triage = data.category_code, None, None, None
    if category:
        taxonomy().minor(category)  # refuse unknown codes
    elif facility is not None and (fm := taxonomy().for_facility_kind(facility["kind"])) is not None:
        category = fm.code  # a report from a facility's QR page is about that facility
    if not category:
        from urbanbrain.domains.cases.classify import TRIAGE_THRESHOLD, load_default

        prediction = load_default().predict(data.description)
        classified_as, confidence = prediction.label, prediction.confidence
        if confidence >= TRIAGE_THRESHOLD:
            category = prediction.label
        else:
            triage = "low_confidence"

    minor = taxonomy().minors.get(category) if category else None
    case = Case(
        token=str(uuid.uuid4()),
        state="reported",
        source=data.source,
        category_code=category,
        major_code=minor.major if minor else None,
        priority=minor.priority if minor else 3,
        title=data.title or (minor.name if minor else data.description[:40]),
        description=data.description,
        lon=lon,
        lat=lat,
        address=data.address,
        street_code=where["street_code"],
        community_code=where["community_code"],
        grid_code=where["grid_code"],
        facility_code=data.facility_code,
        media_url=data.media_url,
        reporter_name=data.reporter_name,
        reporter_contact=platform.protector.seal(data.reporter_contact),
        reporter_user=actor.actor,
        classified_as=classified_as,
        classification_confidence=confidence,
        triage_reason=triage,
        duplicate_candidates=[],
        reported_at=now,
        updated_at=now,
        escalation_level=0,
    )
    session.add(case)
    session.flush()
    case.duplicate_candidates = [c.id for c in find_duplicates(session, case)]
    _history(session, case, actor, "report", None, None, now)
    _announce(
        session,
        platform,
        actor,
        case,
        "cases.case.report",
        None,
        events.REPORTED,
        {"source": case.source, "confidence": confidence},
    )
    if triage is None and auto_dispatch:
        _auto_register_and_dispatch(session, platform, case, facility)
    elif triage is not None:
        emit(session, events.TRIAGED, {"case_id": case.id, "reason": triage, "token": case.token}, now)
    return case


def _auto_register_and_dispatch(
    session: Session, platform: Platform, case: Case, facility: dict[str, Any] | None
) -> None:
    apply_transition(session, platform, DISPATCHER, case, "register", TransitionRequest())
    owner = facility["owner_department_code"] if facility else None
    found = routing.route(session, case, owner, registry.department_codes(session))
    if found is None:
        case.triage_reason = "no_route"
        emit(
            session,
            events.TRIAGED,
            {"case_id": case.id, "reason": "no_route", "number": case.number},
            platform.clock.now(),
        )
        return
    apply_transition(
        session,
        platform,
        DISPATCHER,
        case,
        "dispatch",
        TransitionRequest(department_code=found.department_code, note=f"auto: {found.reason}"),
    )


# The automatic dispatcher acts with exactly the rights an operator uses to register and dispatch.
DISPATCHER = Principal(
    kind="system",
    id=None,
    name="dispatcher",
    role="system",
    scope="all",
    permissions=frozenset({"cases.cases.manage", "cases.cases.read"}),
)


def apply_transition(
    session: Session, platform: Platform, actor: Principal, case: Case, name: str, req: TransitionRequest
) -> Case:
    """Run one named transition: check source state, permission and rules, apply its effect, record it."""
    transition = lifecycle.TRANSITIONS.get(name)
    if transition is None:
        raise UrbanBrainError("cases.unknown_transition", name=name)
    check_version(case, req.version)
    params: dict[str, Any] = req.model_dump()
    if name == "merge":
        params["target"] = _case_by_ref(session, req.target_number or "")
    if name == "verify_pass" or name == "verify_fail":
        params["by_reporter"] = actor.kind == "reporter"
    attempt = lifecycle.Attempt(case, actor, params, actor.department_code)
    lifecycle.check(transition, attempt)
    before = snapshot(case, protected=CASE_PROTECTED)
    from_state = case.state
    now = platform.clock.now()
    _EFFECTS[name](session, platform, case, req, params, now, actor)
    if transition.target is not None:
        case.state = transition.target
    case.updated_at = now
    session.flush()  # the mapper's version check: a concurrent change to this case fails here
    _history(session, case, actor, name, from_state, req.note, now, public=name not in INTERNAL_TRANSITIONS)
    _announce(
        session,
        platform,
        actor,
        case,
        f"cases.case.{name}",
        before,
        events.TRANSITION_EVENTS[name],
        {"from_state": from_state, "note": req.note},
    )
    return case


def _case_by_ref(session: Session, ref: str) -> Case:
    case = session.scalar(select(Case).where((Case.number == ref) | (Case.token == ref)))
    if case is None and ref.isdigit():
        case = session.get(Case, int(ref))
    if case is None:
        raise UrbanBrainError("cases.not_found", ref=ref)
    return case


# --- effects, one per transition ---------------------------------------------------------------------


def _register(
    session: Session,
    platform: Platform,
    case: Case,
    req: TransitionRequest,
    p: dict[str, Any],
    now: datetime,
    actor: Principal,
) -> None:
    if req.category_code:
        case.category_code = req.category_code
    minor = taxonomy().minor(case.category_code or "")
    case.major_code, case.priority = minor.major, minor.priority
    case.number = _next_number(session, platform.settings.district_code, minor.code)
    case.registered_at, case.triage_reason = now, None


def _dispatch(
    session: Session,
    platform: Platform,
    case: Case,
    req: TransitionRequest,
    p: dict[str, Any],
    now: datetime,
    actor: Principal,
) -> None:
    if req.department_code:
        _require_department(session, req.department_code)
        case.department_code = req.department_code
    case.dispatched_at, case.triage_reason = now, None
    _set_deadlines(session, platform, case, now)


def _require_department(session: Session, code: str) -> None:
    if code not in registry.department_codes(session):
        raise UrbanBrainError("not_found", what=f"department {code}")


def _accept(
    session: Session,
    platform: Platform,
    case: Case,
    req: TransitionRequest,
    p: dict[str, Any],
    now: datetime,
    actor: Principal,
) -> None:
    case.accepted_at = now


def _nothing(*_: Any) -> None:
    return None


def _resolve(
    session: Session,
    platform: Platform,
    case: Case,
    req: TransitionRequest,
    p: dict[str, Any],
    now: datetime,
    actor: Principal,
) -> None:
    case.resolved_at, case.verification_passed = now, None


def _verify_pass(
    session: Session,
    platform: Platform,
    case: Case,
    req: TransitionRequest,
    p: dict[str, Any],
    now: datetime,
    actor: Principal,
) -> None:
    case.verified_at, case.verification_passed = now, True
    if req.satisfaction is not None:
        case.satisfaction = req.satisfaction


def _verify_fail(
    session: Session,
    platform: Platform,
    case: Case,
    req: TransitionRequest,
    p: dict[str, Any],
    now: datetime,
    actor: Principal,
) -> None:
    case.verification_passed, case.resolved_at = False, None
    if req.satisfaction is not None:
        case.satisfaction = req.satisfaction


def _close(
    session: Session,
    platform: Platform,
    case: Case,
    req: TransitionRequest,
    p: dict[str, Any],
    now: datetime,
    actor: Principal,
) -> None:
    case.closed_at = now


def _return(
    session: Session,
    platform: Platform,
    case: Case,
    req: TransitionRequest,
    p: dict[str, Any],
    now: datetime,
    actor: Principal,
) -> None:
    case.department_code, case.triage_reason = None, "returned"
    case.accept_due_at = case.resolve_warn_at = case.resolve_due_at = None


def _reassign(
    session: Session,
    platform: Platform,
    case: Case,
    req: TransitionRequest,
    p: dict[str, Any],
    now: datetime,
    actor: Principal,
) -> None:
    _require_department(session, req.department_code or "")
    case.department_code, case.triage_reason = req.department_code, None
    case.accepted_at = None
    case.dispatched_at = now
    if case.resolve_due_at is None:
        _set_deadlines(session, platform, case, now)
    else:  # a new department gets a fresh time to accept; the time to resolve keeps running
        minor = taxonomy().minor(case.category_code or "")
        case.accept_due_at = sla.add_time(
            working_calendar(session, platform), minor.calendar, now, timedelta(minutes=minor.accept_minutes)
        )


def _escalate(
    session: Session,
    platform: Platform,
    case: Case,
    req: TransitionRequest,
    p: dict[str, Any],
    now: datetime,
    actor: Principal,
) -> None:
    case.escalation_level += 1
    case.priority = max(1, case.priority - 1)


def _request(kind: str) -> Any:
    def effect(
        session: Session,
        platform: Platform,
        case: Case,
        req: TransitionRequest,
        p: dict[str, Any],
        now: datetime,
        actor: Principal,
    ) -> None:
        case.pending_request = {
            "kind": kind,
            "note": req.note,
            "hours": req.hours,
            "by": actor.actor,
            "at": now.isoformat(),
        }

    return effect


def _approve_suspend(
    session: Session,
    platform: Platform,
    case: Case,
    req: TransitionRequest,
    p: dict[str, Any],
    now: datetime,
    actor: Principal,
) -> None:
    case.pending_request, case.suspended_at = None, now


def _resume(
    session: Session,
    platform: Platform,
    case: Case,
    req: TransitionRequest,
    p: dict[str, Any],
    now: datetime,
    actor: Principal,
) -> None:
    """The SLA clock stops while a case is suspended: deadlines move by the time it was paused."""
    minor = taxonomy().minor(case.category_code or "")
    cal = working_calendar(session, platform)
    paused_at = case.suspended_at or now
    for field in ("accept_due_at", "resolve_warn_at", "resolve_due_at"):
        due = getattr(case, field)
        if due is not None and due > paused_at:
            left = sla.time_between(cal, minor.calendar, paused_at, due)
            setattr(case, field, sla.add_time(cal, minor.calendar, now, left))
    case.suspended_at = None


def _approve_extension(
    session: Session,
    platform: Platform,
    case: Case,
    req: TransitionRequest,
    p: dict[str, Any],
    now: datetime,
    actor: Principal,
) -> None:
    pending = case.pending_request or {}
    hours = float(req.hours or pending.get("hours") or 24)
    minor = taxonomy().minor(case.category_code or "")
    cal = working_calendar(session, platform)
    extra = timedelta(hours=hours)
    if case.resolve_due_at is not None and case.resolve_warn_at is not None:
        case.resolve_due_at = sla.add_time(cal, minor.calendar, case.resolve_due_at, extra)
        case.resolve_warn_at = sla.add_time(cal, minor.calendar, case.resolve_warn_at, extra)
        case.sla_warned_at = case.sla_breached_at = None  # judged again against the new deadline
    case.pending_request = None


def _reject_request(
    session: Session,
    platform: Platform,
    case: Case,
    req: TransitionRequest,
    p: dict[str, Any],
    now: datetime,
    actor: Principal,
) -> None:
    case.pending_request = None


def _reopen(
    session: Session,
    platform: Platform,
    case: Case,
    req: TransitionRequest,
    p: dict[str, Any],
    now: datetime,
    actor: Principal,
) -> None:
    if req.department_code:
        _require_department(session, req.department_code)
        case.department_code = req.department_code
    case.closed_at = case.verified_at = case.resolved_at = case.accepted_at = None
    case.verification_passed = None
    case.dispatched_at = now
    _set_deadlines(session, platform, case, now)


def _merge(
    session: Session,
    platform: Platform,
    case: Case,
    req: TransitionRequest,
    p: dict[str, Any],
    now: datetime,
    actor: Principal,
) -> None:
    target: Case = p["target"]
    case.merged_into_id = target.id
    session.add(CaseLink(case_id=case.id, other_id=target.id, kind="duplicate_of", at=now))
    session.add(CaseLink(case_id=target.id, other_id=case.id, kind="has_duplicate", at=now))


_EFFECTS: dict[str, Any] = {
    "register": _register,
    "dispatch": _dispatch,
    "accept": _accept,
    "start": _nothing,
    "resolve": _resolve,
    "verify_pass": _verify_pass,
    "verify_fail": _verify_fail,
    "close": _close,
    "return": _return,
    "reassign": _reassign,
    "escalate": _escalate,
    "request_suspend": _request("suspend"),
    "approve_suspend": _approve_suspend,
    "resume": _resume,
    "request_extension": _request("extend"),
    "approve_extension": _approve_extension,
    "reject_request": _reject_request,
    "reopen": _reopen,
    "merge": _merge,
    "cancel": _nothing,
}


def do_add_note(
    session: Session, platform: Platform, actor: Principal, case: Case, note: str, public: bool = True
) -> CaseHistory:
    """A progress note (photos attach to it); the state does not change."""
    lifecycle.RequireOwnDepartment().check(lifecycle.Attempt(case, actor, {}, actor.department_code))
    now = platform.clock.now()
    h = _history(session, case, actor, "note", case.state, note, now, public)
    session.flush()
    record(
        session,
        platform.clock,
        actor,
        action="cases.case.note",
        entity_type="case",
        entity_id=case.id,
        before=None,
        after={"history_id": h.id, "note": note},
        event=events.NOTED,
        payload={"case_id": case.id, "number": case.number},
    )
    return h


def sla_sweep(session: Session, platform: Platform) -> dict[str, int]:
    """Warn at 80% and flag a breach at 100% of each working case's time limit (run every minute).

    The flags are written with plain UPDATEs that leave ``version`` alone: a sweep is bookkeeping, and must not
    make a handler's open form stale."""
    now = platform.clock.now()
    counts = {"warned": 0, "breached": 0}
    working = tuple(lifecycle.WORKING_STATES - {"suspended"})
    for kind, flag, due in (
        ("warned", Case.sla_warned_at, Case.resolve_warn_at),
        ("breached", Case.sla_breached_at, Case.resolve_due_at),
    ):
        cases = session.scalars(select(Case).where(Case.state.in_(working), flag.is_(None), due <= now)).all()
        if not cases:
            continue
        values = (
            {"sla_warned_at": now, "sla_breached_at": now} if kind == "breached" else {"sla_warned_at": now}
        )
        for case in cases:
            session.execute(
                update(Case)
                .where(Case.id == case.id)
                .values(**{k: v for k, v in values.items() if getattr(case, k) is None})
                .execution_options(synchronize_session=False)
            )
            emit(
                session,
                events.SLA_WARNING if kind == "warned" else events.SLA_BREACHED,
                _sla_payload(case),
                now,
            )
        counts[kind] = len(cases)
        session.flush()
        session.expire_all()
    return counts


def _sla_payload(case: Case) -> dict[str, Any]:
    return {
        "case_id": case.id,
        "number": case.number,
        "department_code": case.department_code,
        "resolve_due_at": case.resolve_due_at.isoformat() if case.resolve_due_at else None,
        "category_code": case.category_code,
    }


def do_add_routing_rule(session: Session, platform: Platform, actor: Principal, **values: Any) -> RoutingRule:
    actor.require("cases.routing.write")
    rule = RoutingRule(active=True, **values)
    session.add(rule)
    session.flush()
    record(
        session,
        platform.clock,
        actor,
        action="cases.routing.create",
        entity_type="routing_rule",
        entity_id=rule.id,
        before=None,
        after=snapshot(rule),
        event=events.RULE_CHANGED,
        payload={"id": rule.id},
    )
    return rule


def do_set_calendar_day(
    session: Session, platform: Platform, actor: Principal, day: Any, kind: str, name: str | None
) -> CalendarDay:
    actor.require("cases.calendar.write")
    row = session.get(CalendarDay, day)
    before = snapshot(row) if row else None
    if row is None:
        row = CalendarDay(day=day, kind=kind, name=name)
        session.add(row)
    else:
        row.kind, row.name = kind, name
    session.flush()
    record(
        session,
        platform.clock,
        actor,
        action="cases.calendar.set",
        entity_type="calendar_day",
        entity_id=str(day),
        before=before,
        after=snapshot(row),
    )
    return row


SATISFIED_FROM = 3  # 1-5 stars: 3 or more confirms the fix


def do_reporter_feedback(
    session: Session, platform: Platform, token: str, satisfaction: int, comment: str | None
) -> Case:
    """The reporter's satisfaction callback: their token (given only to them at intake) lets them confirm a
    resolved case or send it back with a reason, as a verifier would."""
    case = session.scalar(select(Case).where(Case.token == token))
    if case is None:
        raise UrbanBrainError("cases.not_found", ref=token[:8] + "…")
    reporter = Principal(
        kind="reporter",
        id=None,
        name=f"reporter-{case.id}",
        role="reporter",
        scope="none",
        permissions=frozenset({"cases.cases.read"}),
    )
    if satisfaction >= SATISFIED_FROM:
        req = TransitionRequest(note=comment, satisfaction=satisfaction)
        return apply_transition(session, platform, reporter, case, "verify_pass", req)
    req = TransitionRequest(
        note=comment or "市民回访不满意 / The reporter is not satisfied", satisfaction=satisfaction
    )
    return apply_transition(session, platform, reporter, case, "verify_fail", req)
