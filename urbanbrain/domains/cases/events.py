"""Event types the cases domain emits, ``cases.<noun>.<verb>``; must equal the manifest's list."""

# Transition name -> the event it emits (past tense, as the bus reads).
TRANSITION_EVENTS: dict[str, str] = {
    "register": "cases.case.registered",
    "dispatch": "cases.case.dispatched",
    "answer": "cases.case.answered",
    "accept": "cases.case.accepted",
    "start": "cases.case.started",
    "resolve": "cases.case.resolved",
    "verify_pass": "cases.case.verified",
    "verify_fail": "cases.case.verification_failed",
    "close": "cases.case.closed",
    "return": "cases.case.returned",
    "reassign": "cases.case.reassigned",
    "escalate": "cases.case.escalated",
    "request_suspend": "cases.case.suspension_requested",
    "approve_suspend": "cases.case.suspended",
    "resume": "cases.case.resumed",
    "request_extension": "cases.case.extension_requested",
    "approve_extension": "cases.case.extended",
    "reject_request": "cases.case.request_rejected",
    "reopen": "cases.case.reopened",
    "merge": "cases.case.merged",
    "cancel": "cases.case.cancelled",
}
REPORTED = "cases.case.reported"
TRIAGED = "cases.case.triaged"
# A report that needs 110/119/120 now: the command centre is told at once, whatever the case's route.
EMERGENCY = "cases.case.emergency"
NOTED = "cases.case.noted"
SLA_WARNING = "cases.case.sla_warning"
SLA_BREACHED = "cases.case.sla_breached"
RULE_CHANGED = "cases.routing.changed"
# The type of the message that sends a reporter their feedback key: a message, never an event on the bus
# (an event reaches subscribers, and the key is the reporter's alone).
FEEDBACK_ASKED = "cases.case.feedback_asked"

EVENT_TYPES = frozenset(TRANSITION_EVENTS.values()) | {
    REPORTED,
    TRIAGED,
    EMERGENCY,
    NOTED,
    SLA_WARNING,
    SLA_BREACHED,
    RULE_CHANGED,
}
