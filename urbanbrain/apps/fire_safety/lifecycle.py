"""The hazard loop as data (隐患整改闭环): three states, each in the open or closed group, and named
transitions, each a source set, a target, a permission and small named rules that must all pass.

    open --rectify--> rectified --reinspect_pass--> closed (销号)
      ^                   |
      +--reinspect_fail---+   (a failure is counted and a new deadline set)

``escalate`` keeps the state: it files a case in the governance core for a major or overdue hazard.
Being overdue is not a state: an open hazard past its deadline is overdue, flagged once by the sweep.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from urbanbrain.core import workflow
from urbanbrain.core.auth.principal import Principal
from urbanbrain.core.errors import UrbanBrainError, register_messages
from urbanbrain.core.workflow import Rule, State, Transition

STATES: dict[str, State] = {
    s.code: s
    for s in [
        State("open", "待整改", "Awaiting rectification", "open"),
        State("rectified", "已整改待复查", "Rectified, awaiting re-inspection", "open"),
        State("closed", "已销号", "Closed (re-inspection passed)", "closed"),
    ]
}
OPEN_STATES = workflow.open_states(STATES)
SEVERITIES = {"general": ("一般隐患", "General"), "major": ("重大隐患", "Major")}


def is_overdue(hazard: Any, now: datetime) -> bool:
    """Open past its deadline. A rectified hazard waits on the inspector, not on the owner: not overdue."""
    return bool(hazard.state == "open" and hazard.deadline <= now)


@dataclass
class Attempt:
    """What a rule sees: the hazard, who acts, when, and the step's parameters."""

    hazard: Any
    actor: Principal
    now: datetime
    params: dict[str, Any]


class RequireNote(Rule):
    """A rectification says what was done; a failed re-inspection says what is still wrong."""

    code = "require_note"

    def check(self, a: Attempt) -> None:
        if not (a.params.get("note") or "").strip():
            raise UrbanBrainError("fire_safety.note_required")


class RequireMajorOrOverdue(Rule):
    """Only a major hazard, or one its owner let run past the deadline, goes to the governance core."""

    code = "require_major_or_overdue"

    def check(self, a: Attempt) -> None:
        h = a.hazard
        if h.severity != "major" and not (h.overdue_at or is_overdue(h, a.now)):
            raise UrbanBrainError("fire_safety.not_escalatable", code=h.code)


class RequireNotEscalated(Rule):
    """One case per hazard: a second escalation would file a duplicate."""

    code = "require_not_escalated"

    def check(self, a: Attempt) -> None:
        if a.hazard.case_number:
            raise UrbanBrainError(
                "fire_safety.already_escalated", code=a.hazard.code, case=a.hazard.case_number
            )


TRANSITIONS: dict[str, Transition] = {
    t.name: t
    for t in [
        Transition(
            "rectify",
            frozenset({"open"}),
            "rectified",
            "fire_safety.hazards.rectify",
            (RequireNote(),),
            "报告整改",
            "Report rectification",
        ),
        Transition(
            "reinspect_pass",
            frozenset({"rectified"}),
            "closed",
            "fire_safety.hazards.reinspect",
            (),
            "复查通过（销号）",
            "Re-inspection passed (close)",
        ),
        Transition(
            "reinspect_fail",
            frozenset({"rectified"}),
            "open",
            "fire_safety.hazards.reinspect",
            (RequireNote(),),
            "复查不通过",
            "Re-inspection failed",
        ),
        Transition(
            "escalate",
            OPEN_STATES,
            None,
            "fire_safety.hazards.escalate",
            (RequireNotEscalated(), RequireMajorOrOverdue()),
            "升级为案件",
            "Escalate to a case",
        ),
    ]
}


def check(transition: Transition, attempt: Attempt) -> None:
    workflow.check(
        transition, attempt.hazard.state, attempt.actor, attempt, "fire_safety.transition_not_allowed"
    )


register_messages(
    {
        "fire_safety.transition_not_allowed": (
            409,
            "隐患当前状态为“{state}”，不能执行“{transition}”（允许的状态：{allowed}）。",
            "A hazard in state '{state}' cannot '{transition}' (allowed from: {allowed}).",
        ),
        "fire_safety.note_required": (
            422,
            "此操作需要填写说明（整改了什么，或复查发现什么问题）。",
            "This step needs a note (what was rectified, or what is still wrong).",
        ),
        "fire_safety.not_escalatable": (
            409,
            "隐患 {code} 既非重大隐患也未逾期，不能升级为案件。",
            "Hazard {code} is neither major nor overdue, so it cannot be escalated to a case.",
        ),
        "fire_safety.already_escalated": (
            409,
            "隐患 {code} 已升级为案件 {case}。",
            "Hazard {code} was already escalated as case {case}.",
        ),
    }
)
