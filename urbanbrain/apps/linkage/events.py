"""Event types the linkage app emits, ``linkage.<noun>.<verb>``; must equal the manifest's list."""

PLAN_CHANGED = "linkage.plan.changed"
INCIDENT_STARTED = "linkage.incident.started"
INCIDENT_ESCALATED = "linkage.incident.escalated"
INCIDENT_STOOD_DOWN = "linkage.incident.stood_down"
INCIDENT_ATTACHED = "linkage.incident.attached"
TASK_ASSIGNED = "linkage.task.assigned"
TASK_OVERDUE = "linkage.task.overdue"

# Task transition name -> the event it emits (past tense, as the bus reads).
TASK_EVENTS: dict[str, str] = {
    "acknowledge": "linkage.task.acknowledged",
    "report": "linkage.task.reported",
    "complete": "linkage.task.completed",
}

EVENT_TYPES = frozenset(TASK_EVENTS.values()) | {
    PLAN_CHANGED,
    INCIDENT_STARTED,
    INCIDENT_ESCALATED,
    INCIDENT_STOOD_DOWN,
    INCIDENT_ATTACHED,
    TASK_ASSIGNED,
    TASK_OVERDUE,
}
