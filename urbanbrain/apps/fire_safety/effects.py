"""What each hazard transition does to the rows, and the pieces it shares with recording an inspection:
finding the target through the registry, numbering, and writing an inspection (a re-inspection is one)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from urbanbrain.apps.fire_safety import events, hazard_types, lifecycle
from urbanbrain.apps.fire_safety.models import Hazard, Inspection
from urbanbrain.core import sequence
from urbanbrain.core.actions import record, snapshot
from urbanbrain.core.auth.principal import Principal
from urbanbrain.core.context import Platform
from urbanbrain.domains.cases import actions as cases
from urbanbrain.domains.cases.schemas import CaseReport
from urbanbrain.domains.registry import queries as registry


@dataclass(frozen=True)
class Target:
    """The building or venue inspected, as the registry shows it."""

    kind: str
    code: str
    building_code: str | None
    venue_code: str | None
    street_code: str | None
    community_code: str | None
    lon: float
    lat: float
    address: str | None


def find_target(session: Session, platform: Platform, actor: Principal, kind: str, code: str) -> Target:
    """Look the target up through the registry's queries; its scope check refuses another community's."""
    if kind == "building":
        row = registry.get_by_code(session, actor, registry.LAYERS["buildings"], code, "building")
        shown = registry.building_public(platform, actor, row)
        building_code, venue_code = shown["code"], None
    else:
        row = registry.get_by_code(session, actor, registry.LAYERS["venues"], code, "venue")
        shown = registry.venue_public(session, platform, actor, row)
        building_code, venue_code = shown["building_code"], shown["code"]
    place = {k: shown[k] for k in ("street_code", "community_code", "lon", "lat", "address")}
    return Target(kind=kind, code=shown["code"], building_code=building_code, venue_code=venue_code, **place)


def next_code(session: Session, prefix: str, at: datetime, utc_offset_hours: int) -> str:
    """``<prefix>-<local date>-<sequence>``, e.g. YH-20180709-0001: what a grid worker reads out by phone."""
    key = f"{prefix}-{hazard_types.local_day(at, utc_offset_hours):%Y%m%d}"
    return f"{key}-{sequence.next_number(session, 'fire_safety:' + key):04d}"


def new_inspection(
    session: Session, platform: Platform, actor: Principal, target: Target, now: datetime, **values: object
) -> Inspection:
    inspection = Inspection(
        code=next_code(session, "JC", now, platform.settings.utc_offset_hours),
        target_kind=target.kind,
        target_code=target.code,
        building_code=target.building_code,
        street_code=target.street_code,
        community_code=target.community_code,
        inspector=actor.actor,
        inspected_at=now,
        **values,
    )
    session.add(inspection)
    session.flush()
    record(
        session,
        platform.clock,
        actor,
        action="fire_safety.inspection.record",
        entity_type="fire_safety_inspection",
        entity_id=inspection.id,
        before=None,
        after=snapshot(inspection),
        event=events.INSPECTION_RECORDED,
        payload={
            "code": inspection.code,
            "kind": inspection.kind,
            "result": inspection.result,
            "target_code": inspection.target_code,
            "community_code": inspection.community_code,
            "hazard_code": inspection.hazard_code,
        },
    )
    return inspection


@dataclass
class Step:
    """What a transition's effect works on."""

    session: Session
    platform: Platform
    actor: Principal
    hazard: Hazard
    now: datetime
    note: str | None
    deadline_days: int | None = None
    inspection_id: int | None = None  # set by a re-inspection: its history row points to the visit


def _rectify(s: Step) -> None:
    s.hazard.rectified_at = s.now
    if s.now >= s.hazard.deadline:  # fixed, but late: it no longer counts as rectified on time
        s.hazard.was_overdue = True


def _reinspect(passed: bool) -> Callable[[Step], None]:
    def effect(s: Step) -> None:
        h = s.hazard
        # The visit is to the hazard's own target, as recorded when it was found.
        target = Target(
            kind=h.target_kind,
            code=h.target_code,
            building_code=h.building_code,
            venue_code=h.venue_code,
            street_code=h.street_code,
            community_code=h.community_code,
            lon=h.lon,
            lat=h.lat,
            address=h.address,
        )
        result = "pass" if passed else "hazards_found"
        visit = new_inspection(
            s.session,
            s.platform,
            s.actor,
            target,
            s.now,
            kind="re_inspection",
            result=result,
            hazard_code=h.code,
            note=s.note,
        )
        s.inspection_id = visit.id
        if passed:
            h.closed_at = s.now
            return
        days = s.deadline_days or hazard_types.get(h.type_code).deadline_days
        h.failures += 1
        h.deadline = hazard_types.deadline_for(s.now, days, s.platform.settings.utc_offset_hours)
        h.rectified_at = h.overdue_at = None  # judged again against the new deadline

    return effect


def _escalate(s: Step) -> None:
    """File a case in the governance core (source ``grid``, the type's fire class, the target's place)."""
    h = s.hazard
    t = hazard_types.get(h.type_code)
    severity = lifecycle.SEVERITIES[h.severity][0]
    text = f"【{severity}】{t.zh}（隐患编号 {h.code}，{h.target_code}）：{h.description}"
    if s.note:
        text += f"\n{s.note}"
    report = CaseReport(
        title=f"消防隐患 {h.code}：{t.zh}"[:200],
        description=text[:4000],
        source="grid",
        category_code=t.case_category,
        lon=h.lon,
        lat=h.lat,
        address=h.address,
    )
    case = cases.do_report_case(s.session, s.platform, s.actor, report)
    h.case_number, h.escalated_at = case.number or case.token, s.now


EFFECTS: dict[str, Callable[[Step], None]] = {
    "rectify": _rectify,
    "reinspect_pass": _reinspect(True),
    "reinspect_fail": _reinspect(False),
    "escalate": _escalate,
}
