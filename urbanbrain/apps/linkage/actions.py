"""Every linkage write: edit a plan; start an incident (all its departments' tasks at one instant),
escalate it, attach a result, stand it down; a department's steps on its task; the acknowledgement sweep;
and the automatic start from a crowd alarm. Each changes rows, writes timeline and audit rows and queues
events in the caller's transaction."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from urbanbrain.apps.linkage import events, lifecycle, notices, plans
from urbanbrain.apps.linkage.models import Attachment, Incident, Plan, Task, TimelineEntry
from urbanbrain.apps.linkage.schemas import AttachmentCreate, IncidentCreate, PlanBody, PlanPut
from urbanbrain.core import notify, sequence
from urbanbrain.core.actions import check_version, record, snapshot
from urbanbrain.core.auth.principal import Principal
from urbanbrain.core.bus.outbox import emit
from urbanbrain.core.context import Platform
from urbanbrain.core.errors import UrbanBrainError, register_messages
from urbanbrain.core.levels import at_least
from urbanbrain.core.models import Department

# The sweep and the alarm consumer act with exactly the rights they need.
SYSTEM = Principal(
    kind="system",
    id=None,
    name="linkage",
    role="system",
    scope="all",
    permissions=frozenset({lifecycle.MANAGE}),
)

register_messages(
    {
        "linkage.zone_has_open_incident": (
            409,
            "区域 {zone} 已有进行中的应急事件 {code}：请升级该事件，而不是再启动一个。",
            "Zone {zone} already has incident {code} under way: escalate it rather than start another.",
        ),
        "linkage.incident_not_found": (404, "找不到应急事件 {ref}。", "No incident {ref}."),
        "linkage.task_not_found": (404, "找不到任务 {ref}。", "No task {ref}."),
    }
)


def _timeline(
    session: Session, incident: Incident, actor: Principal, kind: str, now: datetime, **values: Any
) -> None:
    session.add(TimelineEntry(incident_id=incident.id, at=now, actor=actor.actor, kind=kind, **values))


def incident_payload(incident: Incident) -> dict[str, Any]:
    return {
        "incident_id": incident.id,
        "code": incident.code,
        "incident_type": incident.incident_type,
        "level": incident.level,
        "state": incident.state,
        "title": incident.title,
        "zone_code": incident.zone_code,
        "area_code": incident.area_code,
        "lon": incident.lon,
        "lat": incident.lat,
        "alarm_id": incident.alarm_id,
    }


def task_payload(task: Task, incident: Incident) -> dict[str, Any]:
    return {
        "task_id": task.id,
        "incident_id": incident.id,
        "incident_code": incident.code,
        "key": task.key,
        "department_code": task.department_code,
        "state": task.state,
        "ack_deadline": task.ack_deadline.isoformat(),
    }


# --- plans ---------------------------------------------------------------------------------------------------


def do_put_plan(
    session: Session, platform: Platform, actor: Principal, code: str, data: PlanPut
) -> tuple[PlanBody, Plan]:
    """Create or replace a plan (预案); running incidents keep the tasks they were given."""
    actor.require("linkage.plans.write")
    named = {t.department for t in data.tasks} - {plans.STREET}
    known = set(
        session.scalars(select(Department.code).where(Department.code.in_(named), Department.active)).all()
    )
    for missing in sorted(named - known):
        raise UrbanBrainError("linkage.unknown_department", code=missing)
    body = PlanBody.model_validate(data.model_dump(exclude={"version"}))
    now = platform.clock.now()
    row = session.scalar(select(Plan).where(Plan.code == code))
    before = snapshot(row) if row is not None else None
    if row is None:
        row = Plan(code=code, body=body.model_dump(mode="json"), updated_at=now, updated_by=actor.actor)
        session.add(row)
    else:
        check_version(row, data.version)
        row.body, row.updated_at, row.updated_by = body.model_dump(mode="json"), now, actor.actor
    session.flush()
    record(
        session, platform.clock, actor, action="linkage.plan.put", entity_type="linkage_plan",
        entity_id=row.id, before=before, after=snapshot(row), event=events.PLAN_CHANGED,
        payload={"code": code, "version": row.version},
    )  # fmt: skip
    return body, row


# --- incidents -----------------------------------------------------------------------------------------------


def _next_code(session: Session, at: datetime, utc_offset_hours: int) -> str:
    """``YJ-<local date>-<sequence>``: what the centre reads out on the radio."""
    key = f"YJ-{(at + timedelta(hours=utc_offset_hours)).date():%Y%m%d}"
    return f"{key}-{sequence.next_number(session, 'linkage:' + key):04d}"


def _street_office(session: Session, area_code: str | None) -> str:
    """The street office whose area holds ``area_code`` (a street or community code); without one, the
    command centre takes the task and passes it on."""
    if area_code:
        offices = session.execute(
            select(Department.code, Department.area_code).where(
                Department.kind == "street_office", Department.active
            )
        ).all()
        for code, office_area in offices:
            if office_area and area_code.startswith(office_area):
                return str(code)
    return notify.CENTRE


def _assign(
    session: Session,
    platform: Platform,
    actor: Principal,
    incident: Incident,
    plan: PlanBody,
    above: str | None,
    now: datetime,
) -> list[Task]:
    """Give every department the plan's tasks of the levels after ``above`` up to the incident's level, all
    at the same instant ``now``, and tell each department's inbox once. A task already given is skipped."""
    have: set[tuple[str, str]] = {
        (k, d)
        for k, d in session.execute(
            select(Task.key, Task.department_code).where(Task.incident_id == incident.id)
        )
    }
    street = _street_office(session, incident.area_code)
    tasks: list[Task] = []
    for item in plans.tasks_between(plan, above, incident.level):
        department = street if item.department == plans.STREET else item.department
        if (item.key, department) in have:
            continue
        have.add((item.key, department))
        tasks.append(
            Task(
                incident_id=incident.id, key=item.key, level=item.level, department_code=department,
                text_zh=item.text.zh, text_en=item.text.en, state="assigned", assigned_at=now,
                ack_deadline=now + timedelta(minutes=item.ack_minutes),
            )
        )  # fmt: skip
    session.add_all(tasks)
    session.flush()
    for task in tasks:
        _timeline(session, incident, actor, "task_assigned", now, task_id=task.id,
                  department_code=task.department_code, level=task.level, note=task.text_zh)  # fmt: skip
        record(
            session, platform.clock, actor, action="linkage.task.assign", entity_type="linkage_task",
            entity_id=task.id, before=None, after=snapshot(task), event=events.TASK_ASSIGNED,
            payload=task_payload(task, incident),
        )  # fmt: skip
    notices.tasks_assigned(session, platform, incident, tasks)
    return tasks


def do_start_incident(
    session: Session, platform: Platform, actor: Principal, data: IncidentCreate
) -> Incident:
    """Start a plan at a level for a place: one incident, and every department's tasks at one instant."""
    actor.require(lifecycle.MANAGE)
    plan, _ = plans.get(session, data.incident_type)
    open_key = f"{data.incident_type}:{data.zone_code}" if data.zone_code else None
    if open_key is not None:
        _refuse_second(session, open_key, data.zone_code)
    now = platform.clock.now()
    polygon = [list(p) for p in data.polygon] if data.polygon else None
    if polygon and polygon[0] != polygon[-1]:
        polygon.append(polygon[0])
    incident = Incident(
        code=_next_code(session, now, platform.settings.utc_offset_hours),
        incident_type=data.incident_type, level=data.level, first_level=data.level, title=data.title,
        state="active", lon=data.lon, lat=data.lat, radius_m=plan.radius_m, polygon=polygon,
        zone_code=data.zone_code, area_code=data.area_code, alarm_id=data.alarm_id, open_key=open_key,
        started_at=now, started_by=actor.actor, changed_at=now, messages=1,
    )  # fmt: skip
    try:
        with session.begin_nested():  # a start racing this one for the same zone got there first
            session.add(incident)
            session.flush()
    except IntegrityError:
        _refuse_second(session, open_key or "", data.zone_code)
        raise
    _timeline(session, incident, actor, "started", now, level=data.level, note=data.note)
    record(
        session, platform.clock, actor, action="linkage.incident.start", entity_type="linkage_incident",
        entity_id=incident.id, before=None, after=snapshot(incident), event=events.INCIDENT_STARTED,
        payload={**incident_payload(incident), "note": data.note},
    )  # fmt: skip
    _assign(session, platform, actor, incident, plan, None, now)
    return incident


def _refuse_second(session: Session, open_key: str, zone: str | None) -> None:
    code = session.scalar(select(Incident.code).where(Incident.open_key == open_key))
    if code is not None:
        raise UrbanBrainError("linkage.zone_has_open_incident", zone=zone, code=code)


def _incident_step(
    session: Session,
    platform: Platform,
    actor: Principal,
    incident: Incident,
    name: str,
    params: dict[str, Any],
) -> datetime:
    check_version(incident, params.get("version"))
    now = platform.clock.now()
    transition = lifecycle.INCIDENT_TRANSITIONS[name]
    lifecycle.check_incident(transition, lifecycle.Attempt(incident, actor, now, params))
    return now


def do_escalate_incident(
    session: Session,
    platform: Platform,
    actor: Principal,
    incident: Incident,
    level: str,
    note: str | None = None,
    version: int | None = None,
) -> list[Task]:
    """Raise the response to a higher level: the higher levels' tasks not yet given go out, at one instant."""
    now = _incident_step(session, platform, actor, incident, "escalate", {"level": level, "version": version})
    plan, _ = plans.get(session, incident.incident_type)
    before, old = snapshot(incident), incident.level
    incident.level, incident.changed_at, incident.messages = level, now, incident.messages + 1
    session.flush()
    _timeline(session, incident, actor, "level_changed", now, level=level, note=note or f"{old} -> {level}")
    record(
        session, platform.clock, actor, action="linkage.incident.escalate", entity_type="linkage_incident",
        entity_id=incident.id, before=before, after=snapshot(incident), event=events.INCIDENT_ESCALATED,
        payload={**incident_payload(incident), "from_level": old, "note": note},
    )  # fmt: skip
    notices.incident_changed(
        session, platform, incident, events.INCIDENT_ESCALATED, "应急响应升级", "Response escalated",
        f"{old} -> {level}. {note or ''}".strip(),
    )  # fmt: skip
    return _assign(session, platform, actor, incident, plan, old, now)


def do_stand_down_incident(
    session: Session,
    platform: Platform,
    actor: Principal,
    incident: Incident,
    note: str,
    version: int | None = None,
) -> Incident:
    """End the response (终止响应): every open task closes, the zone may have a new incident later."""
    now = _incident_step(session, platform, actor, incident, "stand_down", {"note": note, "version": version})
    before = snapshot(incident)
    closed = session.scalars(
        select(Task).where(Task.incident_id == incident.id, Task.state.in_(lifecycle.OPEN_TASK_STATES))
    ).all()
    for task in closed:
        task.state = "stood_down"
    incident.state, incident.stood_down_at, incident.open_key = "stood_down", now, None
    incident.changed_at, incident.messages = now, incident.messages + 1
    session.flush()
    _timeline(session, incident, actor, "stood_down", now, level=incident.level, note=note)
    record(
        session, platform.clock, actor, action="linkage.incident.stand_down", entity_type="linkage_incident",
        entity_id=incident.id, before=before, after=snapshot(incident), event=events.INCIDENT_STOOD_DOWN,
        payload={**incident_payload(incident), "note": note, "closed_tasks": [t.id for t in closed]},
    )  # fmt: skip
    notices.incident_changed(
        session, platform, incident, events.INCIDENT_STOOD_DOWN, "应急响应终止", "Response stood down", note
    )
    return incident


def do_attach_result(
    session: Session, platform: Platform, actor: Principal, incident: Incident, data: AttachmentCreate
) -> Attachment:
    """Attach a JSON result to the incident (a crowd what-if: the peak density with and without a measure)."""
    now = _incident_step(session, platform, actor, incident, "attach", {})
    attachment = Attachment(
        incident_id=incident.id, kind=data.kind, title=data.title, data=data.data, attached_at=now,
        attached_by=actor.actor,
    )  # fmt: skip
    session.add(attachment)
    session.flush()
    _timeline(session, incident, actor, "attachment", now, attachment_id=attachment.id, note=data.title)
    record(
        session, platform.clock, actor, action="linkage.incident.attach", entity_type="linkage_attachment",
        entity_id=attachment.id, before=None, after={"kind": data.kind, "title": data.title},
        event=events.INCIDENT_ATTACHED,
        payload={**incident_payload(incident), "attachment_id": attachment.id, "kind": data.kind},
    )  # fmt: skip
    return attachment


# --- tasks ---------------------------------------------------------------------------------------------------

TIMELINE_KINDS = {"acknowledge": "acknowledged", "report": "note", "complete": "done"}


def apply_task_transition(
    session: Session,
    platform: Platform,
    actor: Principal,
    task: Task,
    name: str,
    *,
    note: str | None = None,
    version: int | None = None,
) -> Task:
    """Run one named task step (acknowledge, report, complete): check, apply, put it on the timeline."""
    transition = lifecycle.TASK_TRANSITIONS[name]
    check_version(task, version)
    now = platform.clock.now()
    lifecycle.check_task(transition, lifecycle.Attempt(task, actor, now, {"note": note}))
    incident = session.get_one(Incident, task.incident_id)
    before = snapshot(task)
    if name == "acknowledge":
        task.acknowledged_at, task.acknowledged_by = now, actor.actor
    elif name == "complete":
        task.done_at = now
    if transition.target is not None:
        task.state = transition.target
    session.flush()
    _timeline(session, incident, actor, TIMELINE_KINDS[name], now, task_id=task.id,
              department_code=task.department_code, note=note)  # fmt: skip
    record(
        session, platform.clock, actor, action=f"linkage.task.{name}", entity_type="linkage_task",
        entity_id=task.id, before=before, after=snapshot(task), event=events.TASK_EVENTS[name],
        payload={**task_payload(task, incident), "note": note},
    )  # fmt: skip
    return task


def acknowledge_sweep(session: Session, platform: Platform) -> dict[str, int]:
    """Flag each task not acknowledged by its deadline, once: the timeline, an event, the centre's and the
    department's inboxes and an SMS to the department's duty phone.

    Each flag is claimed by one set-based ``UPDATE ... RETURNING``, as in the fire-safety sweep: of several
    processes sweeping at once, only the one whose UPDATE set the flag announces it. ``version`` is left
    alone so a handler's open form does not go stale."""
    now = platform.clock.now()
    claimed = session.scalars(
        update(Task)
        .where(Task.state == "assigned", Task.overdue_at.is_(None), Task.ack_deadline <= now)
        .values(overdue_at=now)
        .returning(Task.id)
        .execution_options(synchronize_session=False)
    ).all()
    session.expire_all()  # the UPDATE went around the ORM: reload what it changed
    for task in session.scalars(select(Task).where(Task.id.in_(claimed)).order_by(Task.id)):
        incident = session.get_one(Incident, task.incident_id)
        minutes = int((now - task.assigned_at).total_seconds() // 60)
        _timeline(session, incident, SYSTEM, "task_overdue", now, task_id=task.id,
                  department_code=task.department_code, note=f"{minutes} min")  # fmt: skip
        data = {**task_payload(task, incident), "overdue_at": now.isoformat()}
        event_id = emit(session, events.TASK_OVERDUE, data, now)
        notices.task_overdue(session, platform, incident, task, event_id, data)
    return {"overdue": len(claimed)}


# --- the automatic start -------------------------------------------------------------------------------------


def alarm_zone(payload: dict[str, Any]) -> str | None:
    """The zone an alarm is about: a crowd warning's ``detail.zone_code``, else its origin (``crowd:<zone>``
    names the zone after the colon)."""
    detail = payload.get("detail") or {}
    zone = detail.get("zone_code") if isinstance(detail, dict) else None
    if not zone:
        zone = str(payload.get("origin") or "").rpartition(":")[2]
    return str(zone) or None


def do_answer_alarm(session: Session, platform: Platform, payload: dict[str, Any]) -> Incident | None:
    """An alarm of type ``<plan>.*`` at the plan's auto-start level or above starts the plan for its zone,
    once: while that zone's incident is open, a higher alarm raises its level and a lower one changes
    nothing. Returns the incident started or escalated, if any."""
    code = str(payload.get("alarm_type") or "").partition(".")[0]
    level, zone = str(payload.get("level") or ""), alarm_zone(payload)
    try:
        plan, _ = plans.get(session, code)
    except UrbanBrainError:
        return None
    if plan.auto_start_level is None or not at_least(level, plan.auto_start_level) or zone is None:
        return None
    incident = session.scalar(select(Incident).where(Incident.open_key == f"{code}:{zone}"))
    note = f"告警 {payload.get('alarm_id')}（{payload.get('alarm_type')}，{level}）"
    if incident is not None:
        if plans.rank(level) <= plans.rank(incident.level):
            return None
        do_escalate_incident(session, platform, SYSTEM, incident, level, note=note)
        return incident
    if payload.get("lon") is None or payload.get("lat") is None:
        return None  # no place to send anyone to; the alarm still reaches the centre by its own path
    data = IncidentCreate(
        incident_type=code, level=level, title=f"{plan.name.zh}：{zone}"[:200], lon=payload["lon"],  # type: ignore[arg-type]
        lat=payload["lat"], zone_code=zone, area_code=payload.get("community_code"),
        alarm_id=payload.get("alarm_id"), note=note,
    )  # fmt: skip
    return do_start_incident(session, platform, SYSTEM, data)
