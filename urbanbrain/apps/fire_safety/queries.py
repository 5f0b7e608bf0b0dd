"""Every fire-safety read: scoped lists and single records with their history. Statistics live in
``statistics.py``.

Data scope follows the registry's: a grid worker (``community``) sees the inspections and hazards of its
community, a street officer (``street``) those of its street, the command centre everything."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, false, or_, select, true
from sqlalchemy.orm import Session

from urbanbrain.apps.fire_safety import hazard_types, lifecycle
from urbanbrain.apps.fire_safety.models import Hazard, HazardHistory, HazardPhoto, Inspection
from urbanbrain.core.auth.principal import Principal
from urbanbrain.core.errors import UrbanBrainError, register_messages

register_messages(
    {
        "fire_safety.hazard_not_found": (404, "找不到隐患 {ref}。", "No hazard {ref}."),
        "fire_safety.inspection_not_found": (404, "找不到检查记录 {ref}。", "No inspection {ref}."),
    }
)


def scope_filter(principal: Principal, model: Any) -> ColumnElement[bool]:
    """A WHERE clause limiting ``model`` (Inspection or Hazard) to the principal's area."""
    if principal.scope == "all":
        return true()
    if principal.scope == "street":
        return model.street_code == principal.area_code  # type: ignore[no-any-return]
    if principal.scope == "community":
        return model.community_code == principal.area_code  # type: ignore[no-any-return]
    return false()  # a department's handlers do not work the grid


def check_scope(principal: Principal, row: Inspection | Hazard) -> None:
    check_area(principal, row.street_code, row.community_code)


def check_area(principal: Principal, street_code: str | None, community_code: str | None) -> None:
    """Refuse anything in a street or community outside the principal's area."""
    ok = {
        "all": True,
        "street": street_code == principal.area_code,
        "community": community_code == principal.area_code,
    }.get(principal.scope, False)
    if not ok:
        raise UrbanBrainError("auth.out_of_scope", scope=f"{principal.scope} {principal.area_code or '-'}")


def _by_ref(session: Session, model: Any, ref: str) -> Any:
    row = session.scalar(select(model).where(model.code == ref))
    if row is None and ref.isdigit():
        row = session.get(model, int(ref))
    return row


def get_hazard(session: Session, principal: Principal, ref: str) -> Hazard:
    """A hazard by code (YH-...) or id, inside the principal's scope."""
    hazard = _by_ref(session, Hazard, ref)
    if hazard is None:
        raise UrbanBrainError("fire_safety.hazard_not_found", ref=ref)
    check_scope(principal, hazard)
    return hazard  # type: ignore[no-any-return]


def get_inspection(session: Session, principal: Principal, ref: str) -> Inspection:
    inspection = _by_ref(session, Inspection, ref)
    if inspection is None:
        raise UrbanBrainError("fire_safety.inspection_not_found", ref=ref)
    check_scope(principal, inspection)
    return inspection  # type: ignore[no-any-return]


def overdue_clause(now: datetime) -> ColumnElement[bool]:
    """The SQL twin of :func:`lifecycle.is_overdue`."""
    return (Hazard.state == "open") & (Hazard.deadline <= now)


def hazards_stmt(
    principal: Principal,
    now: datetime,
    *,
    state: str | None = None,
    type_code: str | None = None,
    severity: str | None = None,
    community_code: str | None = None,
    building_code: str | None = None,
    target_code: str | None = None,
    overdue: bool | None = None,
    escalated: bool | None = None,
) -> Select[Any]:
    stmt = select(Hazard).where(scope_filter(principal, Hazard))
    if type_code:
        hazard_types.get(type_code)  # an unknown type is a mistake, not an empty list
    for column, value in (
        (Hazard.state, state),
        (Hazard.type_code, type_code),
        (Hazard.severity, severity),
        (Hazard.community_code, community_code),
        (Hazard.building_code, building_code),
        (Hazard.target_code, target_code),
    ):
        if value:
            stmt = stmt.where(column == value)
    if overdue is not None:
        stmt = stmt.where(overdue_clause(now) if overdue else ~overdue_clause(now))
    if escalated is not None:
        stmt = stmt.where(Hazard.case_number.is_not(None) if escalated else Hazard.case_number.is_(None))
    return stmt


def inspections_stmt(
    principal: Principal,
    *,
    community_code: str | None = None,
    building_code: str | None = None,
    target_code: str | None = None,
    kind: str | None = None,
    result: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
) -> Select[Any]:
    stmt = select(Inspection).where(scope_filter(principal, Inspection))
    for column, value in (
        (Inspection.community_code, community_code),
        (Inspection.kind, kind),
        (Inspection.result, result),
    ):
        if value:
            stmt = stmt.where(column == value)
    if building_code:  # the building itself and every venue in it
        stmt = stmt.where(
            or_(Inspection.building_code == building_code, Inspection.target_code == building_code)
        )
    if target_code:
        stmt = stmt.where(Inspection.target_code == target_code)
    if start is not None:
        stmt = stmt.where(Inspection.inspected_at >= start)
    if end is not None:
        stmt = stmt.where(Inspection.inspected_at < end)
    return stmt


def hazard_public(hazard: Hazard, now: datetime, utc_offset_hours: int) -> dict[str, Any]:
    t = hazard_types.load().get(hazard.type_code)
    state = lifecycle.STATES[hazard.state]
    zh, en = lifecycle.SEVERITIES[hazard.severity]
    return {
        "id": hazard.id,
        "code": hazard.code,
        "inspection_id": hazard.inspection_id,
        "target_kind": hazard.target_kind,
        "target_code": hazard.target_code,
        "building_code": hazard.building_code,
        "venue_code": hazard.venue_code,
        "street_code": hazard.street_code,
        "community_code": hazard.community_code,
        "lon": hazard.lon,
        "lat": hazard.lat,
        "address": hazard.address,
        # A type retired from the table still shows its code rather than failing the whole list.
        "type": {
            "code": hazard.type_code,
            "name": t.name if t else {"zh-CN": hazard.type_code, "en": hazard.type_code},
        },
        "description": hazard.description,
        "severity": hazard.severity,
        "severity_name": {"zh-CN": zh, "en": en},
        "state": hazard.state,
        "state_name": {"zh-CN": state.zh, "en": state.en},
        "state_group": state.group,
        "found_at": hazard.found_at,
        "deadline": hazard.deadline,
        "deadline_date": hazard_types.last_day(hazard.deadline, utc_offset_hours),
        "overdue": lifecycle.is_overdue(hazard, now),
        "overdue_at": hazard.overdue_at,
        "rectified_at": hazard.rectified_at,
        "closed_at": hazard.closed_at,
        "failures": hazard.failures,
        "case_number": hazard.case_number,
        "escalated_at": hazard.escalated_at,
        "version": hazard.version,
    }


def history(session: Session, hazard: Hazard) -> list[dict[str, Any]]:
    rows = session.execute(
        select(HazardHistory, Inspection.code)
        .outerjoin(Inspection, Inspection.id == HazardHistory.inspection_id)
        .where(HazardHistory.hazard_id == hazard.id)
        .order_by(HazardHistory.id)
    ).all()
    photos: dict[int, list[int]] = {}
    for photo_id, history_id in session.execute(
        select(HazardPhoto.id, HazardPhoto.history_id)
        .where(HazardPhoto.hazard_id == hazard.id)
        .order_by(HazardPhoto.id)
    ):
        photos.setdefault(history_id, []).append(photo_id)
    return [
        {
            "at": h.at,
            "actor": h.actor,
            "transition": h.transition,
            "from_state": h.from_state,
            "to_state": h.to_state,
            "deadline": h.deadline,
            "note": h.note,
            "inspection_code": code,
            "photos": photos.get(h.id, []),
        }
        for h, code in rows
    ]


def hazard_detail(session: Session, hazard: Hazard, now: datetime, utc_offset_hours: int) -> dict[str, Any]:
    body = hazard_public(hazard, now, utc_offset_hours)
    body["inspection_code"] = session.scalar(
        select(Inspection.code).where(Inspection.id == hazard.inspection_id)
    )
    body["history"] = history(session, hazard)
    body["allowed_actions"] = sorted(n for n, t in lifecycle.TRANSITIONS.items() if hazard.state in t.sources)
    return body


def inspection_public(
    session: Session, inspections: list[Inspection], now: datetime, utc_offset_hours: int
) -> list[dict[str, Any]]:
    """Inspections with the hazards each found, in two queries however many there are."""
    ids = [i.id for i in inspections]
    found: dict[int, list[dict[str, Any]]] = {i: [] for i in ids}
    if ids:
        for h in session.scalars(select(Hazard).where(Hazard.inspection_id.in_(ids)).order_by(Hazard.id)):
            found[h.inspection_id].append(hazard_public(h, now, utc_offset_hours))
    return [
        {
            "id": i.id,
            "code": i.code,
            "target_kind": i.target_kind,
            "target_code": i.target_code,
            "building_code": i.building_code,
            "street_code": i.street_code,
            "community_code": i.community_code,
            "inspector": i.inspector,
            "inspected_at": i.inspected_at,
            "kind": i.kind,
            "result": i.result,
            "hazard_code": i.hazard_code,
            "note": i.note,
            "hazards": found[i.id],
        }
        for i in inspections
    ]
