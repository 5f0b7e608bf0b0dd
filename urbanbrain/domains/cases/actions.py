"""Every case write: intake (classify, locate, find duplicates, route, dispatch), the named transitions,
progress notes with photos, and the SLA sweep. Each changes rows, writes history and audit rows and queues
events in the caller's transaction.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from urbanbrain.core.actions import check_version, record, snapshot
from urbanbrain.core.auth.principal import Principal
from urbanbrain.core.bus.outbox import emit
from urbanbrain.core.context import Platform
from urbanbrain.core.errors import UrbanBrainError, register_messages
from urbanbrain.core.geodesy import haversine_m
from urbanbrain.domains.cases import events, feedback, knowledge, lifecycle, routing
from urbanbrain.domains.cases.effects import EFFECTS, Step
from urbanbrain.domains.cases.models import CalendarDay, Case, CaseHistory, RoutingRule
from urbanbrain.domains.cases.schemas import CaseReport, TransitionRequest
from urbanbrain.domains.cases.taxonomy import load as taxonomy
from urbanbrain.domains.cases.understand import understand_many
from urbanbrain.domains.registry import queries as registry

register_messages(
    {
        "cases.location_required": (
            422,
            "请提供位置：经纬度、地址文字或设施二维码编号。",
            "Give a location: lon and lat, an address in words, or a facility's QR code.",
        ),
        "cases.unknown_facility": (404, "找不到设施 {code}。", "No facility has the code {code}."),
        "cases.not_found": (404, "找不到案件 {ref}。", "No case {ref}."),
    }
)

CASE_PROTECTED = ("reporter_contact", "feedback_digest")
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
        "lon": case.lon,  # where it is: the centre's map places it as the event arrives
        "lat": case.lat,
    }
    if case.source_ref:  # what opened it, for the domain that waits for its case (an alarm)
        payload["source_ref"] = case.source_ref
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


@dataclass(frozen=True)
class Intake:
    """A report that passed intake's checks: where it is, and its class when known without the classifier
    (given by the reporter, or the class of the facility whose QR page it came from).

    ``located_by`` says how the position was found: the reporter's ``position``, the ``facility``, or the
    ``address`` in words (geocoded through the registry). Words that name no place leave the position empty
    and ``unlocated`` true: the case waits in triage with the reason, never placed at a default point."""

    facility: dict[str, Any] | None
    lon: float | None
    lat: float | None
    where: dict[str, Any]
    category: str | None
    located_by: str | None = "position"

    @property
    def unlocated(self) -> bool:
        return self.lon is None


NOWHERE = {"street_code": None, "community_code": None, "grid_code": None}


def check_report(session: Session, platform: Platform, actor: Principal, data: CaseReport) -> Intake:
    """Intake's checks, shared by the one-at-a-time path and batch intake: permission, facility, location
    (NaN, swapped, outside the district, or words to geocode), class code."""
    if not (actor.can("cases.cases.report") or actor.can("cases.requests.write")):
        raise UrbanBrainError("auth.forbidden", role=actor.role, permission="cases.cases.report")
    facility = registry.public_facility(session, data.facility_code) if data.facility_code else None
    if data.facility_code and facility is None:
        raise UrbanBrainError("cases.unknown_facility", code=data.facility_code)
    lon, lat = data.lon, data.lat
    located_by: str | None = "position"
    if (lon is None or lat is None) and facility is not None:
        lon, lat, located_by = facility["lon"], facility["lat"], "facility"
    where: dict[str, Any] = NOWHERE
    if lon is None or lat is None:
        if not (data.address or "").strip():
            raise UrbanBrainError("cases.location_required")
        found = registry.geocode(platform, session, data.address or "")
        if found is None and data.source == "hotline":
            found = registry.geocode(platform, session, data.description)  # "水围村口那家小饭店..."
        if found is None:
            lon = lat = None
            located_by = None
        else:
            lon, lat, located_by = found.lon, found.lat, "address"
    if lon is not None and lat is not None:
        where = registry.locate(platform, session, lon, lat)
    category = data.category_code
    if category:
        taxonomy().minor(category)  # refuse unknown codes
    elif facility is not None and (fm := taxonomy().for_facility_kind(facility["kind"])) is not None:
        category = fm.code  # a report from a facility's QR page is about that facility
    return Intake(facility, lon, lat, where, category, located_by)


def new_case_values(
    platform: Platform,
    actor: Principal,
    data: CaseReport,
    checked: Intake,
    now: datetime,
    source_ref: str | None = None,
) -> dict[str, Any]:
    """The columns of a new ``reported`` case (its class, title and triage come after classification)."""
    return {
        "token": str(uuid.uuid4()),
        "state": "reported",
        "source": data.source,
        "description": data.description,
        "lon": checked.lon,
        "lat": checked.lat,
        "located_by": checked.located_by,
        "address": data.address,
        "street_code": checked.where["street_code"],
        "community_code": checked.where["community_code"],
        "grid_code": checked.where["grid_code"],
        "facility_code": data.facility_code,
        "media_url": data.media_url,
        "reporter_name": data.reporter_name,
        "reporter_contact": platform.protector.seal(data.reporter_contact),
        "reporter_user": actor.actor,
        "duplicate_candidates": [],
        "reported_at": now,
        "updated_at": now,
        "escalation_level": 0,
        "source_ref": source_ref,
    }


def class_values(
    category: str | None, title: str | None, description: str, *, emergency: bool = False
) -> dict[str, Any]:
    """Class-dependent columns: major class, priority (1 for an emergency) and the title (the class's name
    by default)."""
    minor = taxonomy().minors.get(category) if category else None
    return {
        "category_code": category,
        "major_code": minor.major if minor else None,
        "priority": 1 if emergency else (minor.priority if minor else 3),
        "title": title or (minor.name if minor else description[:40]),
    }


def do_report_case(
    session: Session,
    platform: Platform,
    actor: Principal,
    data: CaseReport,
    *,
    auto_dispatch: bool = True,
    source_ref: str | None = None,
) -> Case:
    """Intake from any channel: locate, classify, register, route and dispatch when confident; otherwise the
    case waits in the triage queue with the reason. ``source_ref`` names what opened it when that is not a
    person (``sensing.alarm:17``): one case per source."""
    checked = check_report(session, platform, actor, data)
    now = platform.clock.now()
    u = understand_many(platform, [data.description], [checked.category], [data.source])[0]
    triage = u.triage or ("location_unknown" if checked.unlocated and u.answer is None else None)
    case = Case(
        **new_case_values(platform, actor, data, checked, now, source_ref),
        **class_values(u.category, data.title, data.description, emergency=u.emergency),
        classified_as=u.classified_as,
        classification_confidence=u.confidence,
        triage_reason=triage,
        request_kind=u.kind,
        emergency=u.emergency,
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
        {"source": case.source, "confidence": u.confidence},
    )
    if u.emergency:
        emit(session, events.EMERGENCY, emergency_payload(case, u.call_now), now)
    if triage is None and auto_dispatch:
        if u.answer is not None and u.answer.department in registry.department_codes(session):
            _auto_answer(session, platform, case, u.answer)
        else:
            _auto_register_and_dispatch(session, platform, case, checked.facility)
    elif triage is not None:
        emit(session, events.TRIAGED, {"case_id": case.id, "reason": triage, "token": case.token}, now)
    return case


def emergency_payload(case: Any, call_now: str | None) -> dict[str, Any]:
    """What the command centre is told of an emergency report, the moment it is filed."""
    return {
        "case_id": case.id,
        "token": case.token,
        "category_code": case.category_code or case.classified_as,
        "call_now": call_now,
        "street_code": case.street_code,
        "lon": case.lon,
        "lat": case.lat,
        "note": (case.description or "")[:200],
    }


def _auto_answer(session: Session, platform: Platform, case: Case, answer: knowledge.Answer) -> None:
    """A consultation with a good knowledge-base answer: registered and answered at once, by its department."""
    apply_transition(session, platform, DISPATCHER, case, "register", TransitionRequest())
    request = TransitionRequest(
        department_code=answer.department, note=answer.answer, answer_code=answer.code
    )
    apply_transition(session, platform, DISPATCHER, case, "answer", request)


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
    from_state, from_class = case.state, case.category_code
    now = platform.clock.now()
    EFFECTS[name](Step(session, platform, case, req, params, now, actor))
    if transition.target is not None:
        case.state = transition.target
    case.updated_at = now
    session.flush()  # the mapper's version check: a concurrent change to this case fails here
    extra: dict[str, Any] = {"from_state": from_state, "note": req.note}
    if from_class is not None and case.category_code != from_class:
        _reclassified(session, case, actor, from_class, now)
        extra["previous_category_code"] = from_class
    _history(session, case, actor, name, from_state, req.note, now, public=name not in INTERNAL_TRANSITIONS)
    _announce(
        session, platform, actor, case, f"cases.case.{name}", before, events.TRANSITION_EVENTS[name], extra
    )
    return case


def _reclassified(session: Session, case: Case, actor: Principal, from_class: str, at: datetime) -> None:
    """The class change as a step of its own, written before the action's: its note is ``E0101 → C0201`` (the
    codes, which the timeline reads back: the history has no class column). Staff only; it moves no state
    (the action's step shows the move)."""
    note = f"{from_class} → {case.category_code}"
    _history(session, case, actor, lifecycle.RECLASSIFY, case.state, note, at, public=False)


def _case_by_ref(session: Session, ref: str) -> Case:
    case = session.scalar(select(Case).where((Case.number == ref) | (Case.token == ref)))
    if case is None and ref.isdigit():
        case = session.get(Case, int(ref))
    if case is None:
        raise UrbanBrainError("cases.not_found", ref=ref)
    return case


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

    Each flag is claimed by one set-based ``UPDATE ... RETURNING``: of several server processes sweeping at
    once, only the one whose UPDATE set the flag announces it. The UPDATE leaves ``version`` alone: a sweep is
    bookkeeping, and must not make a handler's open form stale."""
    now = platform.clock.now()
    counts = {"warned": 0, "breached": 0}
    working = tuple(lifecycle.WORKING_STATES - {"suspended"})
    claims = (
        ("warned", Case.sla_warned_at, Case.resolve_warn_at, {"sla_warned_at": now}, events.SLA_WARNING),
        (
            "breached",
            Case.sla_breached_at,
            Case.resolve_due_at,
            {"sla_breached_at": now, "sla_warned_at": func.coalesce(Case.sla_warned_at, now)},
            events.SLA_BREACHED,
        ),
    )
    for kind, flag, due, values, event_type in claims:
        rows = session.execute(
            update(Case)
            .where(Case.state.in_(working), flag.is_(None), due <= now)
            .values(**values)
            .returning(Case.id, Case.number, Case.department_code, Case.resolve_due_at, Case.category_code)
            .execution_options(synchronize_session=False)
        ).all()
        for row in rows:
            payload = {
                "case_id": row.id,
                "number": row.number,
                "department_code": row.department_code,
                "resolve_due_at": row.resolve_due_at.isoformat() if row.resolve_due_at else None,
                "category_code": row.category_code,
            }
            emit(session, event_type, payload, now)
        counts[kind] = len(rows)
    session.expire_all()
    return counts


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
    session: Session, platform: Platform, key: str, satisfaction: int, comment: str | None
) -> Case:
    """The reporter's satisfaction callback: the key sent to them alone when the case was resolved (see
    feedback.py) lets them confirm the fix or send the case back with a reason, as a verifier would."""
    case = feedback.case_for_key(session, key)
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
