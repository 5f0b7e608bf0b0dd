"""The case lifecycle as data: states (each in the open or closed group) and named transitions, each a
source set, a target, a permission and a list of small named rules that must all pass.

Main path: reported → registered (立案) → dispatched → accepted → in_progress → resolved → verified → closed.
A consultation with a knowledge-base answer goes registered → closed by ``answer`` (答复).
Beside it: returned, reassigned, escalated, suspended (with approval), extended (with approval), reopened,
merged as a duplicate, cancelled.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from urbanbrain.core import workflow
from urbanbrain.core.auth.principal import Principal
from urbanbrain.core.errors import UrbanBrainError, register_messages
from urbanbrain.core.workflow import Rule, State, Transition

STATES: dict[str, State] = {
    s.code: s
    for s in [
        State("reported", "已上报", "Reported", "open"),
        State("registered", "已立案", "Registered", "open"),
        State("dispatched", "已派遣", "Dispatched", "open"),
        State("accepted", "已受理", "Accepted", "open"),
        State("in_progress", "处置中", "In progress", "open"),
        State("resolved", "已处置待核查", "Resolved, awaiting verification", "open"),
        State("verified", "已核查", "Verified", "open"),
        State("returned", "已退回", "Returned for re-routing", "open"),
        State("suspended", "已挂起", "Suspended", "open"),
        State("closed", "已结案", "Closed", "closed"),
        State("cancelled", "已作废", "Cancelled", "closed"),
        State("merged", "已合并", "Merged as a duplicate", "closed"),
    ]
}
OPEN_STATES = workflow.open_states(STATES)
WORKING_STATES = frozenset({"dispatched", "accepted", "in_progress", "suspended"})  # the SLA clock applies
RECLASSIFY = "reclassify"
"""The history step written beside an action that changed a registered case's class (a dispatcher's route
naming another class): not a transition of its own; the classifier's statistics count it as a correction."""


@dataclass
class Attempt:
    """What a rule sees: the case, who acts, and the transition's parameters."""

    case: Any
    actor: Principal
    params: dict[str, Any]
    actor_department: str | None = None


class RequireCategory(Rule):
    code = "require_category"

    def check(self, a: Attempt) -> None:
        if not (a.params.get("category_code") or a.case.category_code):
            raise UrbanBrainError("cases.category_required")


class RequireDepartment(Rule):
    code = "require_department"

    def check(self, a: Attempt) -> None:
        if not (a.params.get("department_code") or a.case.department_code):
            raise UrbanBrainError("cases.department_required")


class RequireOwnDepartment(Rule):
    """Only the assigned department's handlers (or the command centre) work a case."""

    code = "require_own_department"

    def check(self, a: Attempt) -> None:
        if a.actor.can("cases.cases.manage"):
            return
        if a.actor_department is None or a.actor_department != a.case.department_code:
            raise UrbanBrainError("cases.not_your_department", department=a.case.department_code or "-")


class RequireNote(Rule):
    code = "require_note"

    def check(self, a: Attempt) -> None:
        if not (a.params.get("note") or "").strip():
            raise UrbanBrainError("cases.note_required")


class RequireVerifierForClose(Rule):
    """Closing needs a verification pass: by a verifier, or by the reporter's satisfaction callback."""

    code = "require_verified_pass"

    def check(self, a: Attempt) -> None:
        if a.case.verification_passed is not True:
            raise UrbanBrainError("cases.verification_required")


class RequireVerifier(Rule):
    code = "require_verifier"

    def check(self, a: Attempt) -> None:
        if a.params.get("by_reporter"):
            return
        if not a.actor.can("cases.cases.verify"):
            raise UrbanBrainError("auth.forbidden", role=a.actor.role, permission="cases.cases.verify")


class RequirePending(Rule):
    """An approval needs a request of the matching kind waiting for it."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.code = f"require_pending_{kind}"

    def check(self, a: Attempt) -> None:
        pending = a.case.pending_request or {}
        if pending.get("kind") != self.kind:
            raise UrbanBrainError("cases.nothing_to_approve", kind=self.kind)


class RequireAnyPending(Rule):
    code = "require_any_pending"

    def check(self, a: Attempt) -> None:
        if not a.case.pending_request:
            raise UrbanBrainError("cases.nothing_to_approve", kind="suspend/extend")


class RequireNoPending(Rule):
    code = "require_no_pending"

    def check(self, a: Attempt) -> None:
        if a.case.pending_request:
            raise UrbanBrainError("cases.request_pending", kind=a.case.pending_request.get("kind"))


class RequireMergeTarget(Rule):
    code = "require_merge_target"

    def check(self, a: Attempt) -> None:
        target = a.params.get("target")
        if target is None or target.id == a.case.id:
            raise UrbanBrainError("cases.bad_merge_target")
        if target.state not in OPEN_STATES and target.state != "closed":
            raise UrbanBrainError("cases.bad_merge_target")


class RequireDifferentDepartment(Rule):
    code = "require_different_department"

    def check(self, a: Attempt) -> None:
        new = a.params.get("department_code")
        if not new or new == a.case.department_code:
            raise UrbanBrainError("cases.department_required")


def _t(
    name: str,
    sources: set[str] | frozenset[str],
    target: str | None,
    permission: str,
    rules: tuple[Rule, ...],
    zh: str,
    en: str,
) -> Transition:
    return Transition(name, frozenset(sources), target, permission, rules, zh, en)


WORKABLE = {"dispatched", "accepted", "in_progress"}
TRANSITIONS: dict[str, Transition] = {
    t.name: t
    for t in [
        _t(
            "register",
            {"reported"},
            "registered",
            "cases.cases.manage",
            (RequireCategory(),),
            "立案",
            "Register",
        ),
        _t(
            "dispatch",
            {"registered", "returned"},
            "dispatched",
            "cases.cases.manage",
            (RequireCategory(), RequireDepartment()),
            "派遣",
            "Dispatch",
        ),
        _t(
            # A consultation answered from the department's knowledge base (or by a person at the centre):
            # the answer is the note, public, and the case is done; the citizen may still ask again.
            "answer",
            {"registered", "returned"},
            "closed",
            "cases.cases.manage",
            (RequireDepartment(), RequireNote()),
            "答复",
            "Answer",
        ),
        _t(
            "accept",
            {"dispatched"},
            "accepted",
            "cases.cases.handle",
            (RequireOwnDepartment(),),
            "受理",
            "Accept",
        ),
        _t(
            "start",
            {"accepted"},
            "in_progress",
            "cases.cases.handle",
            (RequireOwnDepartment(),),
            "开始处置",
            "Start work",
        ),
        _t(
            "resolve",
            {"accepted", "in_progress"},
            "resolved",
            "cases.cases.handle",
            (RequireOwnDepartment(), RequireNote(), RequireNoPending()),
            "处置完毕",
            "Resolve",
        ),
        _t(
            "verify_pass",
            {"resolved"},
            "verified",
            "cases.cases.read",
            (RequireVerifier(),),
            "核查通过",
            "Verification passed",
        ),
        _t(
            "verify_fail",
            {"resolved"},
            "in_progress",
            "cases.cases.read",
            (RequireVerifier(), RequireNote()),
            "核查不通过",
            "Verification failed",
        ),
        _t(
            "close",
            {"verified"},
            "closed",
            "cases.cases.manage",
            (RequireVerifierForClose(),),
            "结案",
            "Close",
        ),
        _t(
            "return",
            {"dispatched", "accepted"},
            "returned",
            "cases.cases.handle",
            (RequireOwnDepartment(), RequireNote()),
            "退回",
            "Return (not ours)",
        ),
        _t(
            "reassign",
            WORKABLE | {"returned"},
            "dispatched",
            "cases.cases.manage",
            (RequireDifferentDepartment(),),
            "改派",
            "Reassign",
        ),
        _t(
            "escalate",
            OPEN_STATES - {"reported"},
            None,
            "cases.cases.read",
            (RequireNote(),),
            "升级督办",
            "Escalate",
        ),
        _t(
            "request_suspend",
            {"accepted", "in_progress"},
            None,
            "cases.cases.handle",
            (RequireOwnDepartment(), RequireNote(), RequireNoPending()),
            "申请挂起",
            "Request suspension",
        ),
        _t(
            "approve_suspend",
            {"accepted", "in_progress"},
            "suspended",
            "cases.cases.manage",
            (RequirePending("suspend"),),
            "批准挂起",
            "Approve suspension",
        ),
        _t(
            "resume",
            {"suspended"},
            "in_progress",
            "cases.cases.handle",
            (RequireOwnDepartment(),),
            "恢复处置",
            "Resume",
        ),
        _t(
            "request_extension",
            {"accepted", "in_progress"},
            None,
            "cases.cases.handle",
            (RequireOwnDepartment(), RequireNote(), RequireNoPending()),
            "申请延期",
            "Request extension",
        ),
        _t(
            "approve_extension",
            {"accepted", "in_progress"},
            None,
            "cases.cases.manage",
            (RequirePending("extend"),),
            "批准延期",
            "Approve extension",
        ),
        _t(
            "reject_request",
            {"accepted", "in_progress"},
            None,
            "cases.cases.manage",
            (RequireAnyPending(), RequireNote()),
            "驳回申请",
            "Reject request",
        ),
        _t(
            "reopen",
            {"closed"},
            "dispatched",
            "cases.cases.manage",
            (RequireNote(), RequireDepartment()),
            "重新打开",
            "Reopen",
        ),
        _t(
            "merge",
            OPEN_STATES,
            "merged",
            "cases.cases.manage",
            (RequireMergeTarget(),),
            "合并重复",
            "Merge as duplicate",
        ),
        _t(
            "cancel",
            {"reported", "registered", "returned"},
            "cancelled",
            "cases.cases.manage",
            (RequireNote(),),
            "作废",
            "Cancel",
        ),
    ]
}


def check(transition: Transition, attempt: Attempt) -> None:
    workflow.check(transition, attempt.case.state, attempt.actor, attempt, "cases.transition_not_allowed")


register_messages(
    {
        "cases.transition_not_allowed": (
            409,
            "案件当前状态为“{state}”，不能执行“{transition}”（允许的状态：{allowed}）。",
            "A case in state '{state}' cannot '{transition}' (allowed from: {allowed}).",
        ),
        "cases.category_required": (
            422,
            "请先为案件选定分类（小类）。",
            "Choose the case's category (minor class) first.",
        ),
        "cases.department_required": (
            422,
            "请指定一个（不同的）承办部门。",
            "Name a (different) department to handle the case.",
        ),
        "cases.not_your_department": (
            403,
            "此案件由 {department} 承办，您所在部门无权处理。",
            "This case belongs to {department}; your department cannot work on it.",
        ),
        "cases.note_required": (422, "此操作需要填写说明。", "This step needs a note saying why."),
        "cases.verification_required": (
            409,
            "结案前必须经过核查并通过。",
            "A case can be closed only after a verification pass.",
        ),
        "cases.nothing_to_approve": (
            409,
            "没有待审批的{kind}申请。",
            "There is no pending {kind} request to approve.",
        ),
        "cases.request_pending": (
            409,
            "已有待审批的{kind}申请，请先等待审批结果。",
            "A {kind} request is already waiting for approval.",
        ),
        "cases.bad_merge_target": (
            422,
            "合并目标必须是另一个未作废的案件。",
            "Merge into another case that is not cancelled or merged.",
        ),
        "cases.unknown_category": (
            422,
            "未知的案件分类：{code}。",
            "Unknown case category: {code}.",
        ),
        "cases.unknown_transition": (
            404,
            "没有名为 {name} 的操作。",
            "There is no case action named {name}.",
        ),
    }
)
