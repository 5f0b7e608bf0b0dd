"""Event types the sensing domain emits, ``sensing.<noun>.<verb>``; must equal the manifest's list."""

ALARM_RAISED = "sensing.alarm.raised"
ALARM_ACKNOWLEDGED = "sensing.alarm.acknowledged"
ALARM_CLEARED = "sensing.alarm.cleared"
ALARM_CASE_OPENED = "sensing.alarm.case_opened"
DEVICE_PROVISIONED = "sensing.device.provisioned"
DEVICE_CHANGED = "sensing.device.changed"
DEVICE_TYPE_CHANGED = "sensing.device_type.changed"
RULE_CHANGED = "sensing.rule.changed"

EVENT_TYPES = frozenset(
    {
        ALARM_RAISED,
        ALARM_ACKNOWLEDGED,
        ALARM_CLEARED,
        ALARM_CASE_OPENED,
        DEVICE_PROVISIONED,
        DEVICE_CHANGED,
        DEVICE_TYPE_CHANGED,
        RULE_CHANGED,
    }
)
