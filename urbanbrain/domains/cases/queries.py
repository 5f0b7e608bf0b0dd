"""Every case read: scoped lists, the department inbox, the centre's triage / overdue / by-area views, history
and the statistics (on time, verification)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, Select, and_, func, or_, select, true
from sqlalchemy import case as sql_case
from sqlalchemy.orm import Session

from urbanbrain.core.auth.principal import Principal
from urbanbrain.core.context import Platform
from urbanbrain.core.errors import UrbanBrainError
from urbanbrain.core.protect import mask_name, mask_phone
from urbanbrain.domains.cases import knowledge, lifecycle
from urbanbrain.domains.cases.models import Case, CaseHistory, CaseLink, CasePhoto
from urbanbrain.domains.cases.taxonomy import load as taxonomy

INBOX_STATES = ("dispatched", "accepted", "in_progress", "suspended")


def scope_filter(principal: Principal) -> ColumnElement[bool]:
    """A department handler sees its department's cases; street and community roles their area's."""
    if principal.scope == "department":
        return Case.department_code == (principal.department_code or "-")
    if principal.scope == "street":
        return Case.street_code == principal.area_code
    if principal.scope == "community":
        return Case.community_code == principal.area_code
    return true()


def check_scope(principal: Principal, case: Case) -> None:
    ok = {
        "department": case.department_code == principal.department_code,
        "street": case.street_code == principal.area_code,
        "community": case.community_code == principal.area_code,
    }.get(principal.scope, True)
    if not ok:
        raise UrbanBrainError("auth.out_of_scope", scope=principal.scope)


def get_case(session: Session, principal: Principal, ref: str, *, for_update: bool = False) -> Case:
    stmt = select(Case).where(or_(Case.number == ref, Case.token == ref))
    case = session.scalar(stmt)
    if case is None and ref.isdigit():
        case = session.get(Case, int(ref))
    if case is None:
        raise UrbanBrainError("cases.not_found", ref=ref)
    check_scope(principal, case)
    return case


def overdue_clause(now: datetime) -> ColumnElement[bool]:
    return or_(
        and_(Case.state.in_(("accepted", "in_progress", "dispatched")), Case.resolve_due_at < now),
        and_(Case.state == "dispatched", Case.accept_due_at < now),
    )


def list_stmt(
    principal: Principal,
    now: datetime,
    *,
    state: str | None = None,
    group: str | None = None,
    department_code: str | None = None,
    category_code: str | None = None,
    street_code: str | None = None,
    community_code: str | None = None,
    source: str | None = None,
    triage: bool | None = None,
    overdue: bool | None = None,
    q: str | None = None,
    request_kind: str | None = None,
    emergency: bool | None = None,
) -> Select[Any]:
    stmt = select(Case).where(scope_filter(principal))
    if state:
        stmt = stmt.where(Case.state == state)
    if group == "open":
        stmt = stmt.where(Case.state.in_(lifecycle.OPEN_STATES))
    elif group == "closed":
        stmt = stmt.where(Case.state.not_in(lifecycle.OPEN_STATES))
    for column, value in (
        (Case.department_code, department_code),
        (Case.street_code, street_code),
        (Case.community_code, community_code),
        (Case.source, source),
        (Case.request_kind, request_kind),  # a department's consultation queue: request_kind=consultation
    ):
        if value:
            stmt = stmt.where(column == value)
    if emergency is not None:
        stmt = stmt.where(Case.emergency.is_(emergency))
    if category_code:
        stmt = stmt.where(or_(Case.category_code == category_code, Case.major_code == category_code))
    if triage:
        stmt = stmt.where(
            Case.triage_reason.is_not(None), Case.state.in_(("reported", "registered", "returned"))
        )
    if overdue:
        stmt = stmt.where(overdue_clause(now))
    if q:
        stmt = stmt.where(or_(Case.description.contains(q), Case.title.contains(q), Case.number.contains(q)))
    return stmt


def answer_public(code: str | None) -> dict[str, Any] | None:
    """The knowledge-base answer a consultation was given (public: it was given to the citizen)."""
    found = knowledge.load().by_code(code) if code else None
    if found is None:
        return None
    return {
        "code": found.code,
        "department": found.department,
        "title": found.title,
        "answer": found.answer,
        "answer_en": found.answer_en,
    }


def case_public(session: Session, platform: Platform, principal: Principal, case: Case) -> dict[str, Any]:
    now = platform.clock.now()
    minor = taxonomy().minors.get(case.category_code or "")
    state = lifecycle.STATES[case.state]
    contact = platform.protector.open(case.reporter_contact)
    if not principal.can("registry.pii.read"):
        contact = mask_phone(contact)
    merged_into = (
        session.scalar(select(Case.number).where(Case.id == case.merged_into_id))
        if case.merged_into_id
        else None
    )
    dup_numbers = [
        n or ""
        for n in session.scalars(select(Case.number).where(Case.id.in_(case.duplicate_candidates or [])))
    ]
    overdue = bool(
        (
            case.state in ("dispatched", "accepted", "in_progress")
            and case.resolve_due_at
            and case.resolve_due_at < now
        )
        or (case.state == "dispatched" and case.accept_due_at and case.accept_due_at < now)
    )
    return {
        "id": case.id,
        "number": case.number,
        "token": case.token,
        "state": case.state,
        "state_name": {"zh-CN": state.zh, "en": state.en},
        "state_group": state.group,
        "source": case.source,
        "category_code": case.category_code,
        "category_name": {"zh-CN": minor.name, "en": minor.name_en} if minor else None,
        "priority": case.priority,
        "title": case.title,
        "description": case.description,
        "lon": case.lon,
        "lat": case.lat,
        "address": case.address,
        "street_code": case.street_code,
        "community_code": case.community_code,
        "grid_code": case.grid_code,
        "facility_code": case.facility_code,
        "reporter_name": case.reporter_name
        if principal.can("registry.pii.read")
        else mask_name(case.reporter_name),
        "reporter_contact": contact,
        "department_code": case.department_code,
        "classified_as": case.classified_as,
        "classification_confidence": case.classification_confidence,
        "triage_reason": case.triage_reason,
        "request_kind": case.request_kind,
        "emergency": bool(case.emergency),
        "answer": answer_public(case.answer_code),
        "located_by": case.located_by,
        "duplicate_candidates": dup_numbers,
        "merged_into": merged_into,
        "escalation_level": case.escalation_level,
        "pending_request": case.pending_request,
        "reported_at": case.reported_at,
        "dispatched_at": case.dispatched_at,
        "accepted_at": case.accepted_at,
        "resolved_at": case.resolved_at,
        "closed_at": case.closed_at,
        "accept_due_at": case.accept_due_at,
        "resolve_due_at": case.resolve_due_at,
        "resolve_warn_at": case.resolve_warn_at,
        "sla": sla_at(case, now) if case.state in ("dispatched", "accepted", "in_progress") else None,
        "overdue": overdue,
        "verification_passed": case.verification_passed,
        "satisfaction": case.satisfaction,
        "version": case.version,
    }


def history(session: Session, case: Case, *, public_only: bool = False) -> list[dict[str, Any]]:
    stmt = select(CaseHistory).where(CaseHistory.case_id == case.id)
    if public_only:
        stmt = stmt.where(CaseHistory.public.is_(True))
    rows = session.scalars(stmt.order_by(CaseHistory.id)).all()
    photos: dict[int, list[int]] = {}
    for p in session.scalars(select(CasePhoto).where(CasePhoto.case_id == case.id)):
        if p.history_id is not None:
            photos.setdefault(p.history_id, []).append(p.id)
    return [
        {
            "id": h.id,
            "at": h.at,
            "actor": h.actor,
            "transition": h.transition,
            "from_state": h.from_state,
            "to_state": h.to_state,
            "department_code": h.department_code,
            "note": h.note,
            "public": bool(h.public),
            "photos": photos.get(h.id, []),
        }
        for h in rows
    ]


def links(session: Session, case: Case) -> list[dict[str, Any]]:
    rows = session.execute(
        select(CaseLink.kind, Case.number)
        .join(Case, Case.id == CaseLink.other_id)
        .where(CaseLink.case_id == case.id)
    ).all()
    return [{"kind": kind, "number": number} for kind, number in rows]


def by_area(session: Session, principal: Principal, now: datetime) -> list[dict[str, Any]]:
    """Open, overdue and closed counts per street: the big screen's district view."""
    is_open = Case.state.in_(lifecycle.OPEN_STATES)
    rows = session.execute(
        select(
            Case.street_code,
            func.sum(sql_case((is_open, 1), else_=0)),
            func.sum(sql_case((overdue_clause(now), 1), else_=0)),
            func.sum(sql_case((Case.state == "closed", 1), else_=0)),
        )
        .where(scope_filter(principal))
        .group_by(Case.street_code)
        .order_by(Case.street_code)
    ).all()
    return [
        {"street_code": s, "open": int(o or 0), "overdue": int(d or 0), "closed": int(c or 0)}
        for s, o, d, c in rows
    ]


def statistics(
    session: Session, principal: Principal, start: datetime, end: datetime, group_by: str = "department"
) -> dict[str, Any]:
    """On-time and verification statistics for cases dispatched in [start, end)."""
    column = {"department": Case.department_code, "category": Case.category_code, "street": Case.street_code}[
        group_by
    ]
    resolved = Case.resolved_at.is_not(None) | Case.state.in_(("verified", "closed"))
    on_time = and_(Case.resolved_at.is_not(None), Case.resolved_at <= Case.resolve_due_at)
    rows = session.execute(
        select(
            column,
            func.count(Case.id),
            func.sum(sql_case((resolved, 1), else_=0)),
            func.sum(sql_case((on_time, 1), else_=0)),
            func.sum(sql_case((Case.state == "closed", 1), else_=0)),
            func.sum(sql_case((Case.sla_breached_at.is_not(None), 1), else_=0)),
        )
        .where(scope_filter(principal), Case.dispatched_at >= start, Case.dispatched_at < end)
        .group_by(column)
        .order_by(column)
    ).all()
    checks = dict(
        session.execute(
            select(CaseHistory.transition, func.count(CaseHistory.id))
            .join(Case, Case.id == CaseHistory.case_id)
            .where(
                scope_filter(principal),
                CaseHistory.transition.in_(("verify_pass", "verify_fail")),
                CaseHistory.at >= start,
                CaseHistory.at < end,
            )
            .group_by(CaseHistory.transition)
        ).all()
    )
    groups = []
    totals = {"dispatched": 0, "resolved": 0, "on_time": 0, "closed": 0, "breached": 0}
    for key, n, res, ok, closed, breached in rows:
        item = {
            "key": key,
            "dispatched": n,
            "resolved": int(res or 0),
            "on_time": int(ok or 0),
            "closed": int(closed or 0),
            "breached": int(breached or 0),
        }
        item["on_time_rate"] = round(item["on_time"] / item["resolved"], 4) if item["resolved"] else None
        groups.append(item)
        for k in totals:
            totals[k] += item[k]
    passes, fails = int(checks.get("verify_pass", 0)), int(checks.get("verify_fail", 0))
    return {
        "from": start,
        "to": end,
        "group_by": group_by,
        "groups": groups,
        "totals": totals,
        "on_time_rate": round(totals["on_time"] / totals["resolved"], 4) if totals["resolved"] else None,
        "verification": {
            "passed": passes,
            "failed": fails,
            "pass_rate": round(passes / (passes + fails), 4) if passes + fails else None,
        },
    }


def feedback_case(session: Session, case: Case) -> dict[str, Any]:
    """The reporter's view of the case they are asked to judge (see feedback.py)."""
    state = lifecycle.STATES[case.state]
    note = session.scalar(
        select(CaseHistory.note)
        .where(CaseHistory.case_id == case.id, CaseHistory.transition == "resolve", CaseHistory.public)
        .order_by(CaseHistory.id.desc())
        .limit(1)
    )
    return {
        "number": case.number,
        "title": case.title,
        "state": case.state,
        "state_name": {"zh-CN": state.zh, "en": state.en},
        "reported_at": case.reported_at,
        "resolved_at": case.resolved_at,
        "resolution": note,
    }


# --- the map's compact layer ---------------------------------------------------------------------------------

MAP_LIMIT = 20_000


def sla_at(case: Case | _Milestones, at: datetime) -> str:
    """ok, warning (past 80% of the time to resolve) or breached, as it stood at ``at``."""
    done = case.resolved_at is not None and case.resolved_at <= at
    if done or case.resolve_due_at is None:
        return "ok"
    if case.resolve_due_at <= at:
        return "breached"
    return "warning" if case.resolve_warn_at is not None and case.resolve_warn_at <= at else "ok"


def state_at(case: Case | _Milestones, at: datetime) -> str:
    """The case's state at ``at`` from its milestones (the full history is in case_history; the milestones
    are enough to colour a map)."""
    if case.closed_at is not None and case.closed_at <= at:
        return "closed"
    for state, when in (("verified", case.verified_at), ("resolved", case.resolved_at),
                        ("accepted", case.accepted_at), ("dispatched", case.dispatched_at),
                        ("registered", case.registered_at)):  # fmt: skip
        if when is not None and when <= at:
            return state
    return "reported"


def case_map(session: Session, principal: Principal, now: datetime, at: datetime | None) -> dict[str, Any]:
    """Located cases open at ``at`` (default now) within the reader's scope, one short row each. Read as
    plain columns, not case objects: 5,000 open cases are the big screen's first draw."""
    cols = (Case.lon, Case.lat, Case.number, Case.token, Case.category_code, Case.state, Case.department_code,
            Case.registered_at, Case.dispatched_at, Case.accepted_at, Case.resolved_at, Case.verified_at,
            Case.closed_at, Case.resolve_warn_at, Case.resolve_due_at)  # fmt: skip
    stmt = select(*cols).where(scope_filter(principal), Case.lon.is_not(None))
    open_states = tuple(lifecycle.OPEN_STATES)
    if at is None:
        stmt = stmt.where(Case.state.in_(open_states))
    else:
        stmt = stmt.where(Case.reported_at <= at, or_(Case.closed_at.is_(None), Case.closed_at > at))
        stmt = stmt.where(or_(Case.state.not_in(("cancelled", "merged")), Case.updated_at > at))
    when = at or now
    rows = []
    for r in session.execute(stmt.order_by(Case.reported_at.desc()).limit(MAP_LIMIT)):
        c = _Milestones._make(r[5:])
        state = c.state if at is None else state_at(c, when)
        if state in ("closed", "cancelled", "merged"):
            continue
        rows.append([round(r.lon or 0.0, 6), round(r.lat or 0.0, 6), r.number or r.token, r.category_code, state,
                     sla_at(c, when), r.department_code])  # fmt: skip
    return {"as_of": when, "columns": ["lon", "lat", "number", "category", "state", "sla", "department"],
            "rows": rows}  # fmt: skip


class _Milestones(NamedTuple):
    """The columns of a case that its state and time limit at a moment are read from."""

    state: str
    department_code: str | None
    registered_at: datetime | None
    dispatched_at: datetime | None
    accepted_at: datetime | None
    resolved_at: datetime | None
    verified_at: datetime | None
    closed_at: datetime | None
    resolve_warn_at: datetime | None
    resolve_due_at: datetime | None


def cases_by_id(
    session: Session, ids: list[int] | None = None, *, after_id: int = 0, limit: int = 1000
) -> list[dict[str, Any]]:
    """Whole case rows as column dicts in id order, for bulk readers (the data hub's lake): the cases of ``ids``
    that exist, or without ``ids`` the next ``limit`` after ``after_id``. ``reporter_contact`` stays sealed."""
    table = Case.__table__
    stmt = select(table).order_by(table.c.id)
    if ids is not None:
        stmt = stmt.where(table.c.id.in_(ids))
    else:
        stmt = stmt.where(table.c.id > after_id).limit(limit)
    return [dict(r._mapping) for r in session.execute(stmt)]
