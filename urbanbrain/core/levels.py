"""Warning levels (预警级别): blue, yellow, orange, red, least to most severe, as China's emergency warnings
grade them. Every domain that warns (sensing, crowds) grades on this one scale, so one setting can say
"orange and above" for all of them."""

from __future__ import annotations

from typing import Literal

Level = Literal["blue", "yellow", "orange", "red"]
LEVELS: tuple[Level, ...] = ("blue", "yellow", "orange", "red")
NAMES_ZH: dict[str, str] = {"blue": "蓝色", "yellow": "黄色", "orange": "橙色", "red": "红色"}


def at_least(level: str, floor: str) -> bool:
    """``level`` is ``floor`` or more severe (unknown levels are not)."""
    if level not in LEVELS or floor not in LEVELS:
        return False
    return LEVELS.index(level) >= LEVELS.index(floor)  # type: ignore[arg-type]
