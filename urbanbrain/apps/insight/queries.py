"""Every read of decision support: the KPIs, hotspots and forecasts over the pre-aggregates of the district
lake, with hazard rectification (fire_safety) and devices online (sensing) beside them, and the data of the
daily brief. Local days are the district's (``settings.utc_offset_hours``); "now" is the platform clock's."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import case as sql_case
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from urbanbrain.apps.fire_safety import queries as fire_queries
from urbanbrain.apps.insight import aggregates, hotspots, kpis
from urbanbrain.apps.insight import forecast as fc
from urbanbrain.core.auth.principal import Principal
from urbanbrain.core.context import Platform
from urbanbrain.core.errors import UrbanBrainError, register_messages
from urbanbrain.domains.cases import queries as case_queries
from urbanbrain.domains.datahub import queries as datahub_queries
from urbanbrain.domains.registry import queries as registry_queries
from urbanbrain.domains.sensing import queries as sensing_queries

register_messages(
    {
        "insight.bad_period": (
            422,
            "统计区间不合法：开始日期（{start}）不能晚于结束日期（{end}），且不超过 {days} 天。",
            "The period is not valid: its start ({start}) must not come after its end ({end}), "
            "and it may span at most {days} days.",
        ),
        "insight.bad_date": (
            422,
            "日期 {day} 不合法，应为 YYYY-MM-DD。",
            "The date {day} is not valid: use YYYY-MM-DD.",
        ),
        "insight.no_data": (
            404,
            "{day} 尚无数据：数据湖中没有该日的事件，或汇总尚未刷新。",
            "No data for {day}: the lake holds no cases of that day, or the aggregates are not refreshed yet.",
        ),
    }
)

MAX_PERIOD_DAYS = 3660
TABLES_KEY = "insight.tables"
_load_lock = threading.Lock()


def lake_root(platform: Platform) -> Path:
    return datahub_queries.lake(platform).root


def tables(platform: Platform) -> tuple[int, aggregates.Store]:
    """The gathered pre-aggregates, kept in memory until a refresh writes a new generation. A new one is
    loaded beside the old (readers keep the old meanwhile) and then swapped in."""
    root = lake_root(platform)
    state = root / aggregates.FOLDER / aggregates.STATE_FILE
    stamp = state.stat().st_mtime_ns if state.exists() else 0
    cached = platform.caches.get(TABLES_KEY)
    if cached is not None and (cached[0] == stamp or _load_lock.locked()):
        return cached[1], cached[2]  # type: ignore[no-any-return]
    with _load_lock:
        cached = platform.caches.get(TABLES_KEY)
        if cached is not None and cached[0] == stamp:
            return cached[1], cached[2]  # type: ignore[no-any-return]
        generation, loaded = aggregates.load(root)
        platform.caches[TABLES_KEY] = (stamp, generation, loaded)
        return generation, loaded


def today(platform: Platform) -> date:
    """The district's local date now."""
    offset = timedelta(hours=platform.settings.utc_offset_hours)
    return (platform.clock.now().astimezone(UTC) + offset).date()


def naive_utc(moment: datetime) -> datetime:
    """The lake's way of holding a moment: UTC without a zone."""
    return moment.astimezone(UTC).replace(tzinfo=None)


def area_for(principal: Principal, area: str | None) -> str | None:
    """The area a reader may see: a street officer or grid worker sees only (inside) their own."""
    if principal.scope in ("street", "community"):
        own = principal.area_code or ""
        if area is None:
            return own
        if not area.startswith(own):
            raise UrbanBrainError("auth.out_of_scope", scope=f"{principal.scope} {own or '-'}")
    elif principal.scope != "all":
        raise UrbanBrainError("auth.out_of_scope", scope=principal.scope)
    return area


def period(platform: Platform, start: date | None, end: date | None) -> tuple[date, date]:
    """[start, end] in local days; by default the 30 days up to yesterday."""
    end = end or today(platform) - timedelta(days=1)
    start = start or end - timedelta(days=29)
    if start > end or (end - start).days >= MAX_PERIOD_DAYS:
        raise UrbanBrainError(
            "insight.bad_period", start=start.isoformat(), end=end.isoformat(), days=MAX_PERIOD_DAYS
        )
    return start, end


def class_names() -> dict[str, tuple[str, str]]:
    """Major and minor classes' names (zh, en) by code."""
    tax = case_queries.taxonomy()
    names = {m.code: (m.name, m.name_en) for m in tax.majors}
    names |= {c.code: (c.name, c.name_en) for c in tax.minors.values()}
    return names


def _name(rows: list[dict[str, Any]], names: dict[str, Any], zh_en: bool = False) -> list[dict[str, Any]]:
    for r in rows:
        n = names.get(r.get("code") or "")
        r["name"] = (n[0] if zh_en else n) if n else None
        if zh_en:
            r["name_en"] = n[1] if n else None
    return rows


def hazards(
    session: Session, principal: Principal, start: datetime, end: datetime, now: datetime, area: str | None
) -> dict[str, Any]:
    """Hazard rectification (fire_safety): hazards found in the period and where they stand now, counted as
    the fire-safety statistics count them."""
    sub = fire_queries.hazards_stmt(principal, now).subquery()
    where = [sub.c.found_at >= start, sub.c.found_at < end]
    if area:
        where.append((sub.c.street_code == area) | (sub.c.community_code == area))

    def flag(cond: Any) -> Any:
        return func.coalesce(func.sum(sql_case((cond, 1), else_=0)), 0)

    found, closed, on_time, rectified, open_, overdue = session.execute(
        select(
            func.count(),
            flag(sub.c.state == "closed"),
            flag((sub.c.state == "closed") & sub.c.was_overdue.is_(False)),
            flag(sub.c.state == "rectified"),
            flag(sub.c.state == "open"),
            flag((sub.c.state == "open") & (sub.c.deadline <= now)),
        ).where(*where)
    ).one()
    return {
        "found": int(found),
        "rectified": int(rectified),
        "closed": int(closed),
        "closed_on_time": int(on_time),
        "open": int(open_),
        "overdue": int(overdue),
        "rectification_rate": round((int(closed) + int(rectified)) / int(found), 4) if found else None,
        "on_time_rate": round(int(on_time) / int(closed), 4) if closed else None,
    }


def devices(session: Session, now: datetime) -> dict[str, Any]:
    """Devices by state as the device map draws them (online, silent, alarm, disabled), district-wide."""
    snapshot = sensing_queries.device_map(session, now)
    counts = dict.fromkeys(snapshot["states"], 0)
    for row in snapshot["rows"]:
        counts[snapshot["states"][row[2]]] += 1
    total = sum(counts.values())
    enabled = total - counts.get("disabled", 0)
    live = counts.get("online", 0) + counts.get("alarm", 0)  # a device in alarm is reporting
    return {"total": total, **counts, "online_rate": round(live / enabled, 4) if enabled else None}


def kpis_of(
    session: Session,
    platform: Platform,
    principal: Principal,
    start: date | None,
    end: date | None,
    area: str | None,
) -> dict[str, Any]:
    """The dashboard's KPIs for [start, end] and an area (street or community code)."""
    area = area_for(principal, area)
    start, end = period(platform, start, end)
    generation, t = tables(platform)
    now = platform.clock.now()
    names = registry_queries.area_names(platform, session)
    classes = class_names()
    cases = kpis.case_kpis(t, start, end, area, naive_utc(now))
    _name(cases["by_class"], classes, zh_en=True)
    _name(cases["by_category"], classes, zh_en=True)
    _name(cases["by_area"], names)
    alarms = kpis.alarm_kpis(t, start, end, area)
    _name(alarms["by_area"], names)
    offset = timedelta(hours=platform.settings.utc_offset_hours)
    lo = datetime.combine(start, datetime.min.time(), UTC) - offset
    hi = datetime.combine(end + timedelta(days=1), datetime.min.time(), UTC) - offset
    return {
        "from": start,
        "to": end,
        "area": area,
        "area_name": names.get(area) if area else None,
        "as_of": now,
        "generation": generation,
        "cases": {k: v for k, v in cases.items() if k not in ("on_time", "departments", "overdue")},
        "on_time": cases["on_time"],
        "departments": cases["departments"],
        "overdue": cases["overdue"],
        "alarms": alarms,
        "hazards": hazards(session, principal, lo, hi, now, area),
        "devices": devices(session, now),
    }


def hotspots_of(
    session: Session, platform: Platform, principal: Principal, last_day: date | None, window: int, weeks: int,
    area: str | None,
) -> dict[str, Any]:  # fmt: skip
    area = area_for(principal, area)
    last_day = last_day or today(platform) - timedelta(days=1)
    generation, t = tables(platform)
    found = hotspots.find(
        t, last_day, window=window, weeks=weeks, area=area,
        names=registry_queries.area_names(platform, session), class_names=class_names(),
    )  # fmt: skip
    return {"last_day": last_day, "window_days": window, "weeks": weeks, "area": area,
            "resolution": aggregates.H3_RESOLUTION, "generation": generation, "items": found}  # fmt: skip


HISTORY_DAYS = 16 * 7  # what the forecast reads
BACKTEST_DAYS = 28


def forecasts_of(
    session: Session, platform: Platform, principal: Principal, by: str, horizon: int, area: str | None,
    last_day: date | None = None, level: float = 0.8,
) -> dict[str, Any]:  # fmt: skip
    """Daily reported cases per major class or area: the last four weeks seen, the next ``horizon`` days
    forecast with their interval, the seasonal-naive baseline beside it, and how both did over the last four
    weeks (one-week-ahead forecasts made each day)."""
    area = area_for(principal, area)
    last_day = last_day or today(platform) - timedelta(days=1)
    generation, t = tables(platform)
    start = last_day - timedelta(days=HISTORY_DAYS + BACKTEST_DAYS - 1)
    keys, days, matrix = kpis.daily_series(t, start, last_day, by, area)
    names: dict[str, Any] = class_names() if by == "class" else registry_queries.area_names(platform, session)
    items: list[dict[str, Any]] = []
    if keys:
        y = np.array(matrix, dtype=float)
        ours = fc.forecast(y[:, -HISTORY_DAYS:], days[-HISTORY_DAYS:], horizon, level=level)
        naive = fc.seasonal_naive(y[:, -HISTORY_DAYS:], horizon, level=level)
        back_ours, back_naive = _backtest(y, days, level)
        future = [last_day + timedelta(days=i + 1) for i in range(horizon)]
        for i, key in enumerate(keys):
            n = names.get(key)
            items.append({
                "code": key,
                "name": (n[0] if isinstance(n, tuple) else n) if n else None,
                "history": [{"day": d, "cases": int(v)} for d, v in zip(days[-28:], y[i, -28:], strict=True)],
                "forecast": [
                    {"day": d, "mean": round(float(m), 1), "lower": int(lo), "upper": int(hi), "baseline": int(b)}
                    for d, m, lo, hi, b in zip(future, ours.mean[i], ours.lower[i], ours.upper[i], naive.mean[i], strict=True)
                ],
                "backtest": {"mae": back_ours[i], "baseline_mae": back_naive[i]},
            })  # fmt: skip
    return {"by": by, "area": area, "last_day": last_day, "horizon": horizon, "level": level,
            "generation": generation, "baseline": "seasonal_naive", "items": items}  # fmt: skip


def _backtest(y: np.ndarray, days: list[date], level: float) -> tuple[list[float | None], list[float | None]]:
    """Mean absolute error of one-to-seven-day forecasts made at each of the last four weeks' starts."""
    errors_ours, errors_naive = [], []
    for origin in range(y.shape[1] - BACKTEST_DAYS, y.shape[1] - 6, 7):
        lo = origin - HISTORY_DAYS
        if lo < 0:
            continue
        actual = y[:, origin : origin + 7]
        ours = fc.forecast(y[:, lo:origin], days[lo:origin], 7, level=level)
        naive = fc.seasonal_naive(y[:, lo:origin], 7, level=level)
        errors_ours.append(np.abs(ours.mean - actual).mean(axis=1))
        errors_naive.append(np.abs(naive.mean - actual).mean(axis=1))
    if not errors_ours:
        return [None] * y.shape[0], [None] * y.shape[0]
    a, b = np.mean(errors_ours, axis=0), np.mean(errors_naive, axis=0)
    return [round(float(v), 2) for v in a], [round(float(v), 2) for v in b]


def parse_day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise UrbanBrainError("insight.bad_date", day=text) from None
