"""How a case opened for a sensor alarm describes it: the level, the place, the rule's words, the reading and
its time in the district's local time (seconds, no fraction), once in Chinese and once in English. The
description is stored text that every reader sees, as the rest of the platform's messages are bilingual;
each reader reads their own line."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import Any

from urbanbrain.core.levels import NAMES_ZH


def describe(alarm: dict[str, Any], utc_offset_hours: int) -> str:
    """``alarm`` is a ``sensing.alarm.raised`` event's payload."""
    level = alarm.get("level", "")
    where = alarm.get("building_code") or alarm.get("origin")
    zh_rule, en_rule = _halves(alarm.get("rule_description") or "", alarm.get("alarm_type") or "")
    value, measurement = alarm.get("value"), alarm.get("measurement")
    reading_zh = reading_en = ""
    if isinstance(value, int | float):
        reading_zh = f"，读数 {value:g}" + (f"（{measurement}）" if measurement else "")
        reading_en = f"; reading {value:g}" + (f" ({measurement})" if measurement else "")
    local = timezone(timedelta(hours=utc_offset_hours))
    at = datetime.fromisoformat(alarm["event_at"]).astimezone(local)
    when = f"{at:%Y-%m-%d %H:%M:%S} UTC{'+' if utc_offset_hours >= 0 else '-'}{abs(utc_offset_hours)}"
    origin, rule = alarm.get("origin"), alarm.get("rule_code")
    zh = (
        f"物联感知{NAMES_ZH.get(level, level)}预警：{where}，{zh_rule}{reading_zh}。"
        f"设备 {origin}，规则 {rule}，发生时间 {when}。"
    )
    en = (
        f"{level.capitalize()} sensor warning at {where}: {en_rule}{reading_en}. "
        f"Device {origin}, rule {rule}, at {when}."
    )
    return f"{zh}\n{en}"


# The slash between the halves: spaces after it and English next ("（漏电）/ Residual", "分钟 / Temperature");
# not a unit's slash ("°C/分钟").
_BETWEEN = re.compile(r"\s*/\s+(?=[A-Za-z])")


def _halves(description: str, fallback: str) -> tuple[str, str]:
    """A rule's description is written "中文 / English"; either half stands in for a missing other."""
    cut = _BETWEEN.search(description)
    if cut is None:
        alone = description.strip() or fallback
        return alone, alone
    zh, en = description[: cut.start()].strip(), description[cut.end() :].strip()
    return (zh or en or fallback, en or zh or fallback)
