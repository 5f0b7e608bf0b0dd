"""How a case opened for a sensor alarm describes it: the level, the place, what was measured and when, in
the district's local time."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from urbanbrain.core.levels import NAMES_ZH


def describe(alarm: dict[str, Any], utc_offset_hours: int) -> str:
    """``alarm`` is a ``sensing.alarm.raised`` event's payload."""
    level = NAMES_ZH.get(alarm.get("level", ""), alarm.get("level", ""))
    where = alarm.get("building_code") or alarm.get("origin")
    value = alarm.get("value")
    reading = f"，读数 {value:g}" if isinstance(value, int | float) else ""
    at = datetime.fromisoformat(alarm["event_at"]).astimezone(timezone(timedelta(hours=utc_offset_hours)))
    sign = "+" if utc_offset_hours >= 0 else "-"
    return (
        f"物联感知{level}预警：{where} {alarm.get('alarm_type')}{reading}"
        f"（设备/楼栋 {alarm.get('origin')}，规则 {alarm.get('rule_code')}，"
        f"事件时间 {at:%Y-%m-%d %H:%M:%S} UTC{sign}{abs(utc_offset_hours)}）"
    )
