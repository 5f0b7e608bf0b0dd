"""Fire-safety statistics for a period: inspections done; hazards found, closed (rectified and passed on
re-inspection), still open, overdue, re-inspection failures and escalations, by hazard type and by
community; and the share of closed hazards that were rectified on time."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import case as sql_case
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from urbanbrain.apps.fire_safety import hazard_types
from urbanbrain.apps.fire_safety.models import Hazard, Inspection
from urbanbrain.apps.fire_safety.queries import overdue_clause, scope_filter
from urbanbrain.core.auth.principal import Principal
from urbanbrain.core.errors import UrbanBrainError, register_messages

register_messages(
    {
        "fire_safety.bad_period": (
            422,
            "统计区间不合法：开始时间（{start}）必须早于结束时间（{end}）。",
            "The period is not valid: its start ({start}) must come before its end ({end}).",
        ),
    }
)

COUNTS = (
    "found",
    "major",
    "closed",
    "closed_on_time",
    "open",
    "rectified",
    "overdue",
    "failures",
    "escalated",
)


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _group(key: dict[str, Any], counts: dict[str, int]) -> dict[str, Any]:
    return {**key, **counts, "on_time_rate": _rate(counts["closed_on_time"], counts["closed"])}


def statistics(
    session: Session,
    principal: Principal,
    start: datetime,
    end: datetime,
    now: datetime,
    community_code: str | None = None,
) -> dict[str, Any]:
    """Hazards found and inspections made in [start, end), as their state stands ``now``.

    ``closed_on_time``: closed, and never open past a deadline (neither flagged by the sweep nor rectified
    late). ``on_time_rate`` is its share of the closed ones. ``failures`` sums the failed re-inspections of
    the hazards found in the period."""
    if start >= end:
        raise UrbanBrainError("fire_safety.bad_period", start=start.isoformat(), end=end.isoformat())
    if community_code and principal.scope == "community" and community_code != principal.area_code:
        raise UrbanBrainError("auth.out_of_scope", scope=f"community {principal.area_code}")

    def flag(cond: Any) -> Any:
        return func.sum(sql_case((cond, 1), else_=0))

    where = [scope_filter(principal, Hazard), Hazard.found_at >= start, Hazard.found_at < end]
    if community_code:
        where.append(Hazard.community_code == community_code)
    rows = session.execute(
        select(
            Hazard.type_code,
            Hazard.community_code,
            func.count(Hazard.id),
            flag(Hazard.severity == "major"),
            flag(Hazard.state == "closed"),
            flag((Hazard.state == "closed") & Hazard.was_overdue.is_(False)),
            flag(Hazard.state == "open"),
            flag(Hazard.state == "rectified"),
            flag(overdue_clause(now)),
            func.sum(Hazard.failures),
            flag(Hazard.case_number.is_not(None)),
        )
        .where(*where)
        .group_by(Hazard.type_code, Hazard.community_code)
    ).all()

    zero = dict.fromkeys(COUNTS, 0)
    by_type: dict[str, dict[str, int]] = {code: dict(zero) for code in hazard_types.load()}
    by_community: dict[str, dict[str, int]] = {}
    totals = dict(zero)
    for type_code, community, *values in rows:
        counts = dict(zip(COUNTS, (int(v or 0) for v in values), strict=True))
        for bucket in (
            by_type.setdefault(type_code, dict(zero)),
            by_community.setdefault(community or "-", dict(zero)),
            totals,
        ):
            for k, v in counts.items():
                bucket[k] += v

    inspections = _inspections(session, principal, start, end, community_code)
    for community in inspections["by_community"]:  # a community inspected with nothing found still shows
        by_community.setdefault(community, dict(zero))
    types = hazard_types.load()
    return {
        "from": start,
        "to": end,
        "community_code": community_code,
        "inspections": inspections["totals"],
        "hazards": _group({}, totals),
        "by_type": [
            _group({"type_code": code, "name": types[code].name if code in types else None}, counts)
            for code, counts in by_type.items()
        ],
        "by_community": [
            _group(
                {"community_code": code, "inspections": inspections["by_community"].get(code, 0)},
                by_community[code],
            )
            for code in sorted(by_community)
        ],
    }


def _inspections(
    session: Session, principal: Principal, start: datetime, end: datetime, community_code: str | None
) -> dict[str, Any]:
    where = [
        scope_filter(principal, Inspection),
        Inspection.inspected_at >= start,
        Inspection.inspected_at < end,
    ]
    if community_code:
        where.append(Inspection.community_code == community_code)
    rows = session.execute(
        select(Inspection.community_code, Inspection.kind, Inspection.result, func.count(Inspection.id))
        .where(*where)
        .group_by(Inspection.community_code, Inspection.kind, Inspection.result)
    ).all()
    totals = {"total": 0, "routine": 0, "re_inspection": 0, "passed": 0, "hazards_found": 0}
    per_community: dict[str, int] = {}
    for community, kind, result, n in rows:
        totals["total"] += n
        totals[kind] = totals.get(kind, 0) + n
        totals["passed" if result == "pass" else "hazards_found"] += n
        per_community[community or "-"] = per_community.get(community or "-", 0) + n
    return {"totals": totals, "by_community": per_community}
