"""Event types the crowd domain emits, ``crowd.<noun>.<verb>``; must equal the manifest's list. Its warnings
are sensing alarms (``sensing.alarm.raised`` with ``alarm_type`` ``crowd.*``), not events of its own."""

ZONE_SAVED = "crowd.zone.saved"
WHAT_IF_REQUESTED = "crowd.what_if.requested"
WHAT_IF_FINISHED = "crowd.what_if.finished"

EVENT_TYPES = frozenset({ZONE_SAVED, WHAT_IF_REQUESTED, WHAT_IF_FINISHED})
