"""The plans (预案) as data: the shipped ``plans.toml``, overridden plan by plan by what an admin PUTs (rows
of ``linkage_plan``). Reading a plan never writes: a plan nobody edited is read from the file."""

from __future__ import annotations

import tomllib
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from urbanbrain.apps.linkage.models import Plan
from urbanbrain.apps.linkage.schemas import PlanBody, PlanTask
from urbanbrain.core.errors import UrbanBrainError, register_messages
from urbanbrain.core.levels import LEVELS

STREET = "@street"  # a plan's department placeholder: the street office of the incident's area
RESPONSE_NAMES = {"blue": "IV", "yellow": "III", "orange": "II", "red": "I"}

register_messages(
    {
        "linkage.unknown_plan": (
            404,
            "没有“{code}”类型的应急预案（现有：{allowed}）。",
            "No emergency plan for incident type '{code}' (there are: {allowed}).",
        ),
        "linkage.unknown_department": (
            422,
            "预案中的部门 {code} 不存在或已停用。",
            "The plan names department {code}, which does not exist or is inactive.",
        ),
    }
)


@lru_cache(maxsize=1)
def shipped() -> dict[str, PlanBody]:
    """The plans of ``plans.toml`` by code, checked by the same schema an admin's PUT is."""
    raw = tomllib.loads(Path(__file__).with_name("plans.toml").read_text(encoding="utf-8"))
    return {code: PlanBody.model_validate(body) for code, body in raw.items()}


def all_plans(session: Session) -> dict[str, tuple[PlanBody, Plan | None]]:
    """Every plan by code: an admin's version where there is one, else the shipped one."""
    found: dict[str, tuple[PlanBody, Plan | None]] = {c: (p, None) for c, p in shipped().items()}
    for row in session.scalars(select(Plan).order_by(Plan.code)):
        found[row.code] = (PlanBody.model_validate(row.body), row)
    return dict(sorted(found.items()))


def get(session: Session, code: str) -> tuple[PlanBody, Plan | None]:
    row = session.scalar(select(Plan).where(Plan.code == code))
    if row is not None:
        return PlanBody.model_validate(row.body), row
    if code in shipped():
        return shipped()[code], None
    raise UrbanBrainError("linkage.unknown_plan", code=code, allowed=", ".join(all_plans(session)) or "-")


def rank(level: str) -> int:
    return LEVELS.index(level)  # type: ignore[arg-type]


def tasks_between(plan: PlanBody, above: str | None, upto: str) -> list[PlanTask]:
    """The plan's tasks of the levels after ``above`` (None: from the lowest) up to ``upto``."""
    low = -1 if above is None else rank(above)
    return [t for t in plan.tasks if low < rank(t.level) <= rank(upto)]


def public(code: str, plan: PlanBody, row: Plan | None) -> dict[str, Any]:
    levels = {lv: [t.key for t in tasks_between(plan, None, lv)] for lv in LEVELS}
    return {
        **plan.model_dump(),
        "code": code,
        "edited": row is not None,
        "version": row.version if row is not None else 0,
        "levels": levels,
    }
