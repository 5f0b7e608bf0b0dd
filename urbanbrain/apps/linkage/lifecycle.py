"""The linkage workflows as data: an incident's and a task's states, each open or closed, and named
transitions, each a source set, a target, a permission and small named rules that must all pass.

    incident:  active --escalate--> active (a higher level: more tasks)      --stand_down--> stood_down
    task:      assigned --acknowledge--> acknowledged --complete--> done
                                         (report: a progress note, state stays)
               any open task --(the incident's stand-down)--> stood_down

Being overdue is not a state: a task still ``assigned`` past its acknowledgement deadline is overdue,
flagged once by the sweep, which tells the command centre and the department.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from urbanbrain.core import workflow
from urbanbrain.core.auth.principal import Principal
from urbanbrain.core.errors import UrbanBrainError, register_messages
from urbanbrain.core.levels import LEVELS
from urbanbrain.core.workflow import Rule, State, Transition

INCIDENT_STATES: dict[str, State] = {
    s.code: s
    for s in [
        State("active", "响应中", "Response under way", "open"),
        State("stood_down", "已终止响应", "Stood down", "closed"),
    ]
}
TASK_STATES: dict[str, State] = {
    s.code: s
    for s in [
        State("assigned", "已下达待签收", "Assigned, awaiting acknowledgement", "open"),
        State("acknowledged", "已签收处置中", "Acknowledged, in hand", "open"),
        State("done", "已完成", "Done", "closed"),
        State("stood_down", "响应终止", "Closed by stand-down", "closed"),
    ]
}
OPEN_TASK_STATES = workflow.open_states(TASK_STATES)
MANAGE = "linkage.incidents.manage"
WORK = "linkage.tasks.work"


def is_overdue(task: Any, now: datetime) -> bool:
    """Not acknowledged by its deadline (a stood-down incident's tasks wait on nobody)."""
    return bool(task.state == "assigned" and task.ack_deadline <= now)


@dataclass
class Attempt:
    """What a rule sees: the incident or task, who acts, when, and the step's parameters."""

    subject: Any
    actor: Principal
    now: datetime
    params: dict[str, Any]


class RequireOwnDepartment(Rule):
    """A department's handler works its own department's tasks; the command centre may work any."""

    code = "require_own_department"

    def check(self, a: Attempt) -> None:
        if a.actor.scope != "all" and a.actor.department_code != a.subject.department_code:
            raise UrbanBrainError(
                "linkage.not_your_task", id=a.subject.id, department=a.subject.department_code
            )


class RequireNote(Rule):
    """A progress report and a stand-down say something."""

    code = "require_note"

    def check(self, a: Attempt) -> None:
        if not (a.params.get("note") or "").strip():
            raise UrbanBrainError("linkage.note_required")


class RequireHigherLevel(Rule):
    """An escalation goes up: the same or a lower level is refused (a response is not stepped down)."""

    code = "require_higher_level"

    def check(self, a: Attempt) -> None:
        new = a.params["level"]
        if LEVELS.index(new) <= LEVELS.index(a.subject.level):
            raise UrbanBrainError("linkage.not_higher", level=new, current=a.subject.level)


INCIDENT_TRANSITIONS: dict[str, Transition] = {
    t.name: t
    for t in [
        Transition(
            "escalate", frozenset({"active"}), None, MANAGE, (RequireHigherLevel(),), "升级响应", "Escalate"
        ),
        Transition("attach", frozenset({"active"}), None, MANAGE, (), "附加结果", "Attach a result"),
        Transition(
            "stand_down",
            frozenset({"active"}),
            "stood_down",
            MANAGE,
            (RequireNote(),),
            "终止响应",
            "Stand down",
        ),
    ]
}
TASK_TRANSITIONS: dict[str, Transition] = {
    t.name: t
    for t in [
        Transition(
            "acknowledge",
            frozenset({"assigned"}),
            "acknowledged",
            WORK,
            (RequireOwnDepartment(),),
            "签收",
            "Acknowledge",
        ),
        Transition(
            "report",
            frozenset({"acknowledged"}),
            None,
            WORK,
            (RequireOwnDepartment(), RequireNote()),
            "报告进展",
            "Report progress",
        ),
        Transition(
            "complete",
            frozenset({"acknowledged"}),
            "done",
            WORK,
            (RequireOwnDepartment(),),
            "完成",
            "Mark done",
        ),
    ]
}


def check_incident(transition: Transition, attempt: Attempt) -> None:
    workflow.check(
        transition, attempt.subject.state, attempt.actor, attempt, "linkage.incident_transition_not_allowed"
    )


def check_task(transition: Transition, attempt: Attempt) -> None:
    workflow.check(
        transition, attempt.subject.state, attempt.actor, attempt, "linkage.task_transition_not_allowed"
    )


register_messages(
    {
        "linkage.incident_transition_not_allowed": (
            409,
            "应急事件当前状态为“{state}”，不能执行“{transition}”（允许的状态：{allowed}）。",
            "An incident in state '{state}' cannot '{transition}' (allowed from: {allowed}).",
        ),
        "linkage.task_transition_not_allowed": (
            409,
            "任务当前状态为“{state}”，不能执行“{transition}”（允许的状态：{allowed}）。",
            "A task in state '{state}' cannot '{transition}' (allowed from: {allowed}).",
        ),
        "linkage.not_your_task": (
            403,
            "任务 {id} 属于部门 {department}，不是您部门的任务。",
            "Task {id} belongs to department {department}, not to yours.",
        ),
        "linkage.note_required": (
            422,
            "此操作需要填写说明。",
            "This step needs a note.",
        ),
        "linkage.not_higher": (
            409,
            "只能升级到更高级别：当前为 {current}，请求的 {level} 不高于它。",
            "An escalation must go up: the incident is at {current}, and {level} is not higher.",
        ),
    }
)
