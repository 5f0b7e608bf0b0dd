"""What each named transition does to a case, once its rules have passed: one small function per transition,
all taking the same :class:`Step`. The lifecycle (``lifecycle.py``) says *whether*; this says *what*."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from urbanbrain.core import sequence
from urbanbrain.core.auth.principal import Principal
from urbanbrain.core.context import Platform
from urbanbrain.core.errors import UrbanBrainError
from urbanbrain.domains.cases import feedback, knowledge, sla
from urbanbrain.domains.cases.models import CalendarDay, Case, CaseLink
from urbanbrain.domains.cases.schemas import TransitionRequest
from urbanbrain.domains.cases.taxonomy import load as taxonomy
from urbanbrain.domains.registry import queries as registry

COUNTER = "cases:"  # case numbers' counters in core_sequence: cases:<district>-<class>


@dataclass
class Step:
    """One transition being applied: where, to what, asked for how, when and by whom."""

    session: Session
    platform: Platform
    case: Case
    req: TransitionRequest
    params: dict[str, Any]
    now: datetime
    actor: Principal


def working_calendar(session: Session, platform: Platform) -> sla.WorkingCalendar:
    s = platform.settings
    days = [(row.day, row.kind) for row in session.execute(select(CalendarDay.day, CalendarDay.kind))]
    return sla.WorkingCalendar.from_settings(s.work_periods, s.work_weekdays, days, s.utc_offset_hours)


def next_number(session: Session, district: str, category: str) -> str:
    """``<district>-<minor class>-<sequence>``, e.g. 440304-C0101-000017."""
    key = f"{district}-{category}"
    return f"{key}-{sequence.next_number(session, COUNTER + key):06d}"


def set_deadlines(session: Session, platform: Platform, case: Case, start: datetime) -> None:
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


def _require_department(session: Session, code: str) -> None:
    if code not in registry.department_codes(session):
        raise UrbanBrainError("not_found", what=f"department {code}")


def set_class(case: Case, code: str) -> None:
    """File the case under minor class ``code`` (an unknown code is refused) with what follows from the class:
    its major class, its priority (1 for an emergency, less each time it was escalated) and the title when
    the title was the old class's name. The number keeps the class the case was registered with."""
    minor = taxonomy().minor(code)
    old = taxonomy().minors.get(case.category_code or "")
    if old is not None and case.title == old.name:
        case.title = minor.name
    case.category_code, case.major_code = minor.code, minor.major
    case.priority = 1 if case.emergency else max(1, minor.priority - (case.escalation_level or 0))


def _reclassify(s: Step) -> bool:
    """A route is a class and a department: the class named with a dispatch or reassignment, when it is not
    the case's own, replaces it. True when the class changed (the time limits then follow the new class)."""
    code = s.req.category_code
    if not code or code == s.case.category_code:
        return False
    set_class(s.case, code)
    return True


def _register(s: Step) -> None:
    case = s.case
    set_class(case, s.req.category_code or case.category_code or "")
    case.number = next_number(s.session, s.platform.settings.district_code, case.category_code or "")
    case.registered_at, case.triage_reason = s.now, None


def _dispatch(s: Step) -> None:
    _reclassify(s)
    if s.req.department_code:
        _require_department(s.session, s.req.department_code)
        s.case.department_code = s.req.department_code
    s.case.dispatched_at, s.case.triage_reason = s.now, None
    set_deadlines(s.session, s.platform, s.case, s.now)


def _answer(s: Step) -> None:
    if s.req.answer_code:
        if knowledge.load().by_code(s.req.answer_code) is None:
            raise UrbanBrainError("not_found", what=f"answer {s.req.answer_code}")
        s.case.answer_code = s.req.answer_code
    if s.req.department_code:
        _require_department(s.session, s.req.department_code)
        s.case.department_code = s.req.department_code
    s.case.closed_at, s.case.triage_reason = s.now, None


def _accept(s: Step) -> None:
    s.case.accepted_at = s.now


def _nothing(s: Step) -> None:
    return None


def _resolve(s: Step) -> None:
    s.case.resolved_at, s.case.verification_passed = s.now, None
    feedback.send_feedback_key(s.session, s.platform, s.case)  # to the reporter, and to nobody else


def _verify(passed: bool) -> Callable[[Step], None]:
    def effect(s: Step) -> None:
        s.case.verification_passed = passed
        s.case.feedback_digest = None  # verified, by the reporter or the centre: the key is used up
        if passed:
            s.case.verified_at = s.now
        else:
            s.case.resolved_at = None
        if s.req.satisfaction is not None:
            s.case.satisfaction = s.req.satisfaction

    return effect


def _close(s: Step) -> None:
    s.case.closed_at = s.now


def _return(s: Step) -> None:
    case = s.case
    case.department_code, case.triage_reason = None, "returned"
    case.accept_due_at = case.resolve_warn_at = case.resolve_due_at = None


def _reassign(s: Step) -> None:
    case = s.case
    reclassified = _reclassify(s)
    _require_department(s.session, s.req.department_code or "")
    case.department_code, case.triage_reason = s.req.department_code, None
    case.accepted_at = None
    case.dispatched_at = s.now
    # The old class's limits were the wrong ones: a new class brings its own, counted from now.
    if case.resolve_due_at is None or reclassified:
        set_deadlines(s.session, s.platform, case, s.now)
    else:  # a new department gets a fresh time to accept; the time to resolve keeps running
        minor = taxonomy().minor(case.category_code or "")
        cal = working_calendar(s.session, s.platform)
        case.accept_due_at = sla.add_time(cal, minor.calendar, s.now, timedelta(minutes=minor.accept_minutes))


def _escalate(s: Step) -> None:
    s.case.escalation_level += 1
    s.case.priority = max(1, s.case.priority - 1)


def _request(kind: str) -> Callable[[Step], None]:
    def effect(s: Step) -> None:
        s.case.pending_request = {
            "kind": kind,
            "note": s.req.note,
            "hours": s.req.hours,
            "by": s.actor.actor,
            "at": s.now.isoformat(),
        }

    return effect


def _approve_suspend(s: Step) -> None:
    s.case.pending_request, s.case.suspended_at = None, s.now


def _resume(s: Step) -> None:
    """The SLA clock stops while a case is suspended: deadlines move by the time it was paused."""
    case = s.case
    minor = taxonomy().minor(case.category_code or "")
    cal = working_calendar(s.session, s.platform)
    paused_at = case.suspended_at or s.now
    for field in ("accept_due_at", "resolve_warn_at", "resolve_due_at"):
        due = getattr(case, field)
        if due is not None and due > paused_at:
            left = sla.time_between(cal, minor.calendar, paused_at, due)
            setattr(case, field, sla.add_time(cal, minor.calendar, s.now, left))
    case.suspended_at = None


def _approve_extension(s: Step) -> None:
    case = s.case
    pending = case.pending_request or {}
    hours = float(s.req.hours or pending.get("hours") or 24)
    minor = taxonomy().minor(case.category_code or "")
    cal = working_calendar(s.session, s.platform)
    extra = timedelta(hours=hours)
    if case.resolve_due_at is not None and case.resolve_warn_at is not None:
        case.resolve_due_at = sla.add_time(cal, minor.calendar, case.resolve_due_at, extra)
        case.resolve_warn_at = sla.add_time(cal, minor.calendar, case.resolve_warn_at, extra)
        case.sla_warned_at = case.sla_breached_at = None  # judged again against the new deadline
    case.pending_request = None


def _reject_request(s: Step) -> None:
    s.case.pending_request = None


def _reopen(s: Step) -> None:
    case = s.case
    if s.req.department_code:
        _require_department(s.session, s.req.department_code)
        case.department_code = s.req.department_code
    case.closed_at = case.verified_at = case.resolved_at = case.accepted_at = None
    case.verification_passed = None
    case.dispatched_at = s.now
    set_deadlines(s.session, s.platform, case, s.now)


def _merge(s: Step) -> None:
    target: Case = s.params["target"]
    s.case.merged_into_id = target.id
    s.session.add(CaseLink(case_id=s.case.id, other_id=target.id, kind="duplicate_of", at=s.now))
    s.session.add(CaseLink(case_id=target.id, other_id=s.case.id, kind="has_duplicate", at=s.now))


EFFECTS: dict[str, Callable[[Step], None]] = {
    "register": _register,
    "dispatch": _dispatch,
    "answer": _answer,
    "accept": _accept,
    "start": _nothing,
    "resolve": _resolve,
    "verify_pass": _verify(True),
    "verify_fail": _verify(False),
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
