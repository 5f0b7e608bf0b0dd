"""Who hears what from the linkage app, through the core's notification kit: each department's inbox when
its tasks arrive or the response stands down; the command centre's inbox and the department's duty phone
(its registry phone, by SMS) when a task is not acknowledged in time."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from urbanbrain.apps.linkage.models import Incident, Task
from urbanbrain.core import notify
from urbanbrain.core.context import Platform
from urbanbrain.core.models import Department


def _subject(incident: Incident) -> tuple[str, int]:
    return ("linkage_incident", incident.id)


def tasks_assigned(session: Session, platform: Platform, incident: Incident, tasks: Iterable[Task]) -> int:
    """One inbox row per department, listing all of its new tasks: a department hears once per step."""
    by_department: dict[str, list[Task]] = {}
    for task in tasks:
        by_department.setdefault(task.department_code, []).append(task)
    for department, mine in sorted(by_department.items()):
        lines = "\n".join(f"- {t.text_zh} / {t.text_en}" for t in mine)
        notify.inbox(
            session, platform.clock, recipients=[department], kind="linkage.task.assigned",
            title=f"应急联动任务（{incident.code}，{incident.level}）/ Emergency task ({incident.code})",
            body=f"{incident.title}\n{lines}", subject=_subject(incident),
        )  # fmt: skip
    return len(by_department)


def incident_changed(
    session: Session, platform: Platform, incident: Incident, kind: str, zh: str, en: str, note: str | None
) -> None:
    """The command centre and every department with a task in the incident hear of a level change or the
    stand-down."""
    departments = session.scalars(
        select(Task.department_code).where(Task.incident_id == incident.id).distinct()
    ).all()
    notify.inbox(
        session, platform.clock, recipients=[notify.CENTRE, *sorted(departments)], kind=kind,
        title=f"{zh}（{incident.code}）/ {en} ({incident.code})",
        body=f"{incident.title}: {note or ''}".strip(), subject=_subject(incident),
    )  # fmt: skip


def task_overdue(
    session: Session, platform: Platform, incident: Incident, task: Task, event_id: str, data: dict[str, Any]
) -> None:
    """A task not acknowledged in time: the centre's inbox, the department's inbox, and an SMS to the
    department's duty phone, which its leader answers."""
    title = f"任务超时未签收（{incident.code}）/ Task not acknowledged in time ({incident.code})"
    body = f"{task.department_code}: {task.text_zh} / {task.text_en}"
    notify.inbox(
        session, platform.clock, recipients=[notify.CENTRE, task.department_code],
        kind="linkage.task.overdue", title=title, body=body, subject=_subject(incident),
    )  # fmt: skip
    phone = session.scalar(select(Department.phone).where(Department.code == task.department_code))
    if phone:
        notify.queue_message(
            session, platform, channel="sms", target=phone, event_id=event_id,
            event_type="linkage.task.overdue", data=data,
            text=f"【应急联动】{incident.code} {incident.title}：贵部门任务超时未签收，请立即处置。{task.text_zh}",
        )  # fmt: skip
