"""Every linkage read: incidents and tasks in the reader's scope, and an incident with its tasks, timeline
and attachments.

Data scope: the command centre (scope ``all``) sees everything; anyone else sees the tasks of their own
department, and the incidents in which their department has a task (the timeline is shared by all who
work the incident)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, func, select, true
from sqlalchemy.orm import Session

from urbanbrain.apps.linkage import lifecycle, plans
from urbanbrain.apps.linkage.models import Attachment, Incident, Task, TimelineEntry
from urbanbrain.core.auth.principal import Principal
from urbanbrain.core.errors import UrbanBrainError


def _department(principal: Principal) -> str:
    return principal.department_code or "-"  # no department: nothing of anyone's


def task_scope(principal: Principal) -> ColumnElement[bool]:
    if principal.scope == "all":
        return true()
    return Task.department_code == _department(principal)


def incident_scope(principal: Principal) -> ColumnElement[bool]:
    if principal.scope == "all":
        return true()
    mine = select(Task.id).where(
        Task.incident_id == Incident.id, Task.department_code == _department(principal)
    )
    return mine.exists()


def _out_of_scope(principal: Principal) -> UrbanBrainError:
    return UrbanBrainError("auth.out_of_scope", scope=f"{principal.scope} {principal.department_code or '-'}")


def get_incident(session: Session, principal: Principal, ref: str) -> Incident:
    """An incident by code (YJ-...) or id, if the principal's department works it."""
    incident = session.scalar(select(Incident).where(Incident.code == ref))
    if incident is None and ref.isdigit():
        incident = session.get(Incident, int(ref))
    if incident is None:
        raise UrbanBrainError("linkage.incident_not_found", ref=ref)
    if not session.scalar(select(incident_scope(principal)).where(Incident.id == incident.id)):
        raise _out_of_scope(principal)
    return incident


def get_task(session: Session, principal: Principal, task_id: int) -> Task:
    """A task by id, if it is the principal's department's (the centre sees all)."""
    task = session.get(Task, task_id)
    if task is None:
        raise UrbanBrainError("linkage.task_not_found", ref=task_id)
    if principal.scope != "all" and task.department_code != _department(principal):
        raise _out_of_scope(principal)
    return task


def incidents_stmt(
    principal: Principal,
    *,
    state: str | None = None,
    incident_type: str | None = None,
    zone: str | None = None,
) -> Select[Any]:
    stmt = select(Incident).where(incident_scope(principal))
    if state == "open":
        stmt = stmt.where(Incident.state == "active")
    elif state == "closed":
        stmt = stmt.where(Incident.state == "stood_down")
    elif state:
        stmt = stmt.where(Incident.state == state)
    if incident_type:
        stmt = stmt.where(Incident.incident_type == incident_type)
    if zone:
        stmt = stmt.where(Incident.zone_code == zone)
    return stmt


def tasks_stmt(
    principal: Principal,
    now: datetime,
    *,
    department: str | None = None,
    state: str | None = None,
    incident_id: int | None = None,
    overdue: bool | None = None,
) -> Select[Any]:
    if department and principal.scope != "all" and department != _department(principal):
        raise _out_of_scope(principal)
    stmt = select(Task).where(task_scope(principal))
    if department:
        stmt = stmt.where(Task.department_code == department)
    if state == "open":
        stmt = stmt.where(Task.state.in_(lifecycle.OPEN_TASK_STATES))
    elif state:
        stmt = stmt.where(Task.state == state)
    if incident_id is not None:
        stmt = stmt.where(Task.incident_id == incident_id)
    if overdue is not None:
        late = (Task.state == "assigned") & (Task.ack_deadline <= now)
        stmt = stmt.where(late if overdue else ~late)
    return stmt


def task_public(task: Task, incident_code: str, now: datetime) -> dict[str, Any]:
    state = lifecycle.TASK_STATES[task.state]
    return {
        "id": task.id,
        "incident_id": task.incident_id,
        "incident_code": incident_code,
        "key": task.key,
        "level": task.level,
        "department_code": task.department_code,
        "text": {"zh-CN": task.text_zh, "en": task.text_en},
        "state": task.state,
        "state_name": {"zh-CN": state.zh, "en": state.en},
        "state_group": state.group,
        "assigned_at": task.assigned_at,
        "ack_deadline": task.ack_deadline,
        "acknowledged_at": task.acknowledged_at,
        "acknowledged_by": task.acknowledged_by,
        "done_at": task.done_at,
        "overdue": lifecycle.is_overdue(task, now) or task.overdue_at is not None,
        "overdue_at": task.overdue_at,
        "version": task.version,
    }


def tasks_public(session: Session, tasks: list[Task], now: datetime) -> list[dict[str, Any]]:
    ids = {t.incident_id for t in tasks}
    codes = (
        {i: c for i, c in session.execute(select(Incident.id, Incident.code).where(Incident.id.in_(ids)))}
        if ids
        else {}
    )
    return [task_public(t, codes[t.incident_id], now) for t in tasks]


def incidents_public(session: Session, incidents: list[Incident], now: datetime) -> list[dict[str, Any]]:
    """Incidents with their task counts, in one query for the counts however many there are."""
    ids = [i.id for i in incidents]
    counts: dict[int, tuple[int, int, int]] = {}
    if ids:
        open_ = Task.state.in_(lifecycle.OPEN_TASK_STATES)
        late = (Task.state == "assigned") & ((Task.ack_deadline <= now) | Task.overdue_at.is_not(None))
        rows = session.execute(
            select(
                Task.incident_id,
                func.count(),
                func.count().filter(open_),
                func.count().filter(late),
            )
            .where(Task.incident_id.in_(ids))
            .group_by(Task.incident_id)
        )
        counts = {r[0]: (r[1], r[2], r[3]) for r in rows}
    out = []
    for i in incidents:
        state = lifecycle.INCIDENT_STATES[i.state]
        total, open_n, late_n = counts.get(i.id, (0, 0, 0))
        out.append(
            {
                "id": i.id,
                "code": i.code,
                "incident_type": i.incident_type,
                "level": i.level,
                "response_level": plans.RESPONSE_NAMES[i.level],
                "first_level": i.first_level,
                "title": i.title,
                "state": i.state,
                "state_name": {"zh-CN": state.zh, "en": state.en},
                "state_group": state.group,
                "lon": i.lon,
                "lat": i.lat,
                "radius_m": i.radius_m,
                "polygon": i.polygon,
                "zone_code": i.zone_code,
                "area_code": i.area_code,
                "alarm_id": i.alarm_id,
                "started_at": i.started_at,
                "started_by": i.started_by,
                "stood_down_at": i.stood_down_at,
                "tasks_total": total,
                "tasks_open": open_n,
                "tasks_overdue": late_n,
                "version": i.version,
            }
        )
    return out


def timeline(session: Session, incident: Incident) -> list[dict[str, Any]]:
    rows = session.scalars(
        select(TimelineEntry).where(TimelineEntry.incident_id == incident.id).order_by(TimelineEntry.id)
    )
    keys = ("at", "actor", "kind", "task_id", "department_code", "level", "attachment_id", "note")
    return [{k: getattr(r, k) for k in keys} for r in rows]


def attachments(session: Session, incident: Incident) -> list[dict[str, Any]]:
    rows = session.scalars(
        select(Attachment).where(Attachment.incident_id == incident.id).order_by(Attachment.id)
    )
    keys = ("id", "kind", "title", "data", "attached_at", "attached_by")
    return [{k: getattr(r, k) for k in keys} for r in rows]


def incident_detail(session: Session, incident: Incident, now: datetime) -> dict[str, Any]:
    body = incidents_public(session, [incident], now)[0]
    tasks = session.scalars(select(Task).where(Task.incident_id == incident.id).order_by(Task.id)).all()
    body["tasks"] = [task_public(t, incident.code, now) for t in tasks]
    body["timeline"] = timeline(session, incident)
    body["attachments"] = attachments(session, incident)
    body["allowed_actions"] = sorted(
        n for n, t in lifecycle.INCIDENT_TRANSITIONS.items() if incident.state in t.sources
    )
    return body
