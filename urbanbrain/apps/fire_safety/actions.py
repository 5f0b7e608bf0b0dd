"""Every fire-safety write: record an inspection with its hazards, the hazard loop's named transitions
(rectify, re-inspect, escalate to a case) and the overdue sweep. Each changes rows, writes history and audit
rows and queues events in the caller's transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from urbanbrain.apps.fire_safety import events, hazard_types, lifecycle
from urbanbrain.apps.fire_safety.effects import EFFECTS, Step, Target, find_target, new_inspection, next_code
from urbanbrain.apps.fire_safety.models import Hazard, HazardHistory, Inspection
from urbanbrain.apps.fire_safety.schemas import HazardCreate, InspectionCreate
from urbanbrain.core.actions import check_version, record, snapshot
from urbanbrain.core.auth.principal import Principal
from urbanbrain.core.bus.outbox import emit
from urbanbrain.core.context import Platform

# The sweep acts with exactly the rights it needs: file a case and mark it on the hazard.
SWEEPER = Principal(
    kind="system",
    id=None,
    name="fire_safety",
    role="system",
    scope="all",
    permissions=frozenset({"cases.cases.report", "fire_safety.hazards.escalate"}),
)
AUTO_ESCALATION_NOTE = "重大隐患逾期未整改，自动升级 / Major hazard overdue: escalated automatically"


def _history(
    session: Session,
    hazard: Hazard,
    actor: Principal,
    transition: str,
    from_state: str | None,
    now: datetime,
    note: str | None = None,
    inspection_id: int | None = None,
) -> None:
    session.add(
        HazardHistory(
            hazard_id=hazard.id,
            inspection_id=inspection_id,
            at=now,
            actor=actor.actor,
            transition=transition,
            from_state=from_state,
            to_state=hazard.state,
            deadline=hazard.deadline,
            note=note,
        )
    )


def _payload(hazard: Hazard) -> dict[str, Any]:
    return {
        "code": hazard.code,
        "state": hazard.state,
        "type_code": hazard.type_code,
        "severity": hazard.severity,
        "target_code": hazard.target_code,
        "building_code": hazard.building_code,
        "community_code": hazard.community_code,
        "deadline": hazard.deadline.isoformat(),
        "case_number": hazard.case_number,
    }


def do_record_inspection(
    session: Session, platform: Platform, actor: Principal, data: InspectionCreate
) -> Inspection:
    """A grid worker's routine inspection of a building or venue, with the hazards it found; each hazard
    opens with the deadline of its type."""
    actor.require("fire_safety.inspections.write")
    types = [hazard_types.get(h.type_code) for h in data.hazards]  # refuse an unknown type before writing
    target = find_target(session, platform, actor, data.target_kind, data.target_code)
    now = platform.clock.now()
    inspection = new_inspection(
        session,
        platform,
        actor,
        target,
        now,
        kind="routine",
        result="hazards_found" if data.hazards else "pass",
        note=data.note,
    )
    for item, hazard_type in zip(data.hazards, types, strict=True):
        _open_hazard(session, platform, actor, inspection, target, item, hazard_type, now)
    return inspection


def _open_hazard(
    session: Session,
    platform: Platform,
    actor: Principal,
    inspection: Inspection,
    target: Target,
    item: HazardCreate,
    hazard_type: hazard_types.HazardType,
    now: datetime,
) -> Hazard:
    offset = platform.settings.utc_offset_hours
    hazard = Hazard(
        code=next_code(session, "YH", now, offset),
        inspection_id=inspection.id,
        target_kind=target.kind,
        target_code=target.code,
        building_code=target.building_code,
        venue_code=target.venue_code,
        street_code=target.street_code,
        community_code=target.community_code,
        lon=target.lon,
        lat=target.lat,
        address=target.address,
        type_code=hazard_type.code,
        description=item.description,
        severity=item.severity,
        state="open",
        found_at=now,
        deadline=hazard_types.deadline_for(now, hazard_type.deadline_days, offset),
        was_overdue=False,
        failures=0,
        updated_at=now,
    )
    session.add(hazard)
    session.flush()
    _history(session, hazard, actor, "found", None, now, item.description, inspection.id)
    record(
        session,
        platform.clock,
        actor,
        action="fire_safety.hazard.find",
        entity_type="fire_safety_hazard",
        entity_id=hazard.id,
        before=None,
        after=snapshot(hazard),
        event=events.HAZARD_FOUND,
        payload=_payload(hazard),
    )
    return hazard


def apply_transition(
    session: Session,
    platform: Platform,
    actor: Principal,
    hazard: Hazard,
    name: str,
    *,
    note: str | None = None,
    version: int | None = None,
    deadline_days: int | None = None,
) -> Hazard:
    """Run one named transition: check state, permission and rules, apply its effect, record it."""
    transition = lifecycle.TRANSITIONS[name]
    check_version(hazard, version)
    now = platform.clock.now()
    lifecycle.check(transition, lifecycle.Attempt(hazard, actor, now, {"note": note}))
    before = snapshot(hazard)
    from_state = hazard.state
    step = Step(session, platform, actor, hazard, now, note, deadline_days)
    EFFECTS[name](step)
    if transition.target is not None:
        hazard.state = transition.target
    hazard.updated_at = now
    session.flush()  # the mapper's version check: a concurrent change to this hazard fails here
    _history(session, hazard, actor, name, from_state, now, note, step.inspection_id)
    record(
        session,
        platform.clock,
        actor,
        action=f"fire_safety.hazard.{name}",
        entity_type="fire_safety_hazard",
        entity_id=hazard.id,
        before=before,
        after=snapshot(hazard),
        event=events.TRANSITION_EVENTS[name],
        payload={**_payload(hazard), "from_state": from_state, "note": note},
    )
    return hazard


def do_report_rectification(
    session: Session,
    platform: Platform,
    actor: Principal,
    hazard: Hazard,
    note: str,
    version: int | None = None,
) -> Hazard:
    """The owner has fixed it (reported by the grid worker): the hazard waits for re-inspection."""
    return apply_transition(session, platform, actor, hazard, "rectify", note=note, version=version)


def do_reinspect_hazard(
    session: Session,
    platform: Platform,
    actor: Principal,
    hazard: Hazard,
    passed: bool,
    note: str | None = None,
    deadline_days: int | None = None,
    version: int | None = None,
) -> Hazard:
    """Re-inspection (复查): passed closes the hazard (销号); failed counts a failure and reopens it with a
    new deadline."""
    name = "reinspect_pass" if passed else "reinspect_fail"
    return apply_transition(
        session, platform, actor, hazard, name, note=note, version=version, deadline_days=deadline_days
    )


def do_escalate_hazard(
    session: Session,
    platform: Platform,
    actor: Principal,
    hazard: Hazard,
    note: str | None = None,
    version: int | None = None,
) -> Hazard:
    """Send a major or overdue hazard to the governance core as a case; its number is kept on the hazard."""
    return apply_transition(session, platform, actor, hazard, "escalate", note=note, version=version)


def overdue_sweep(session: Session, platform: Platform) -> dict[str, int]:
    """Flag each open hazard past its deadline once (history row and event), and escalate the major ones.

    Each flag is claimed by one set-based ``UPDATE ... RETURNING``, as in the cases SLA sweep: of several
    processes sweeping at once, only the one whose UPDATE set the flag announces it. The UPDATE leaves
    ``version`` alone: bookkeeping must not make a grid worker's open form stale."""
    now = platform.clock.now()
    claimed = session.scalars(
        update(Hazard)
        .where(Hazard.state == "open", Hazard.overdue_at.is_(None), Hazard.deadline <= now)
        .values(overdue_at=now, was_overdue=True)
        .returning(Hazard.id)
        .execution_options(synchronize_session=False)
    ).all()
    session.expire_all()  # the UPDATE went around the ORM: reload what it changed
    escalated = 0
    hazards = session.scalars(select(Hazard).where(Hazard.id.in_(claimed)).order_by(Hazard.id)).all()
    for hazard in hazards:
        _history(session, hazard, SWEEPER, "overdue", "open", now)
        emit(session, events.HAZARD_OVERDUE, {**_payload(hazard), "overdue_at": now.isoformat()}, now)
        if hazard.severity == "major" and hazard.case_number is None:
            do_escalate_hazard(session, platform, SWEEPER, hazard, note=AUTO_ESCALATION_NOTE)
            escalated += 1
    return {"overdue": len(claimed), "escalated": escalated}
