"""Event types the fire-safety app emits, ``fire_safety.<noun>.<verb>``; must equal the manifest's list."""

INSPECTION_RECORDED = "fire_safety.inspection.recorded"
HAZARD_FOUND = "fire_safety.hazard.found"
HAZARD_OVERDUE = "fire_safety.hazard.overdue"
HAZARD_PHOTOGRAPHED = "fire_safety.hazard.photographed"

# Transition name -> the event it emits (past tense, as the bus reads).
TRANSITION_EVENTS: dict[str, str] = {
    "rectify": "fire_safety.hazard.rectified",
    "reinspect_pass": "fire_safety.hazard.closed",
    "reinspect_fail": "fire_safety.hazard.reopened",
    "escalate": "fire_safety.hazard.escalated",
}

EVENT_TYPES = frozenset(TRANSITION_EVENTS.values()) | {
    INSPECTION_RECORDED,
    HAZARD_FOUND,
    HAZARD_OVERDUE,
    HAZARD_PHOTOGRAPHED,
}
