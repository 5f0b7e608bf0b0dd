"""The dashboard's case and alarm KPIs, read from the pre-aggregates (``aggregates.py``) with DuckDB over
in-memory Arrow tables: cases by class, area and day; on-time rates and the department ranking (as
``cases.queries.statistics`` counts them, by the day a case was dispatched); what is overdue now (as the
centre's overdue view counts it); alarms by level, type and area."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import duckdb

from urbanbrain.apps.insight.aggregates import Store

TOP_OVERDUE = 20


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _area_clause(area: str | None, *, community_only: bool = False) -> tuple[str, list[Any]]:
    if not area:
        return "TRUE", []
    if community_only:  # codes are hierarchical: a community's code starts with its street's
        return "starts_with(community_code, ?)", [area]
    return "(street_code = ? OR community_code = ?)", [area, area]


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any]) -> list[dict[str, Any]]:
    cur = con.execute(sql, params)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def case_kpis(tables: Store, start: date, end: date, area: str | None, now: datetime) -> dict[str, Any]:
    """Cases reported in [start, end] (local days), on-time figures of cases dispatched in it, and the open
    cases overdue at ``now`` (UTC, naive as in the lake)."""
    con = tables.cursor()
    try:
        where, params = _area_clause(area)
        out: dict[str, Any] = {}
        if tables.has("case_daily"):
            period = f"day BETWEEN ? AND ? AND {where}"
            p = [start, end, *params]
            totals = _rows(con, f"""SELECT coalesce(sum(reported), 0)::BIGINT AS reported,
                coalesce(sum(open), 0)::BIGINT AS open, coalesce(sum(closed), 0)::BIGINT AS closed,
                coalesce(sum(emergency), 0)::BIGINT AS emergency FROM case_daily WHERE {period}""", p)[0]  # fmt: skip
            by = "community_code" if area else "street_code"
            out = {
                **totals,
                "by_day": _rows(
                    con,
                    f"""SELECT day, sum(reported)::BIGINT AS reported, sum(closed)::BIGINT AS closed
                    FROM case_daily WHERE {period} GROUP BY day ORDER BY day""",
                    p,
                ),  # fmt: skip
                "by_class": _rows(
                    con,
                    f"""SELECT major_code AS code, sum(reported)::BIGINT AS reported,
                    sum(open)::BIGINT AS open, sum(closed)::BIGINT AS closed FROM case_daily WHERE {period}
                    GROUP BY 1 ORDER BY reported DESC, code""",
                    p,
                ),  # fmt: skip
                "by_category": _rows(
                    con,
                    f"""SELECT category_code AS code, sum(reported)::BIGINT AS reported,
                    sum(open)::BIGINT AS open, sum(closed)::BIGINT AS closed FROM case_daily WHERE {period}
                    GROUP BY 1 ORDER BY reported DESC, code LIMIT 20""",
                    p,
                ),  # fmt: skip
                "by_area": _rows(
                    con,
                    f"""SELECT {by} AS code, sum(reported)::BIGINT AS reported,
                    sum(open)::BIGINT AS open, sum(closed)::BIGINT AS closed FROM case_daily WHERE {period}
                    GROUP BY 1 ORDER BY reported DESC, code""",
                    p,
                ),  # fmt: skip
            }
        else:
            out = {"reported": 0, "open": 0, "closed": 0, "emergency": 0, "by_day": [], "by_class": [],
                   "by_category": [], "by_area": []}  # fmt: skip
        out["on_time"], out["departments"] = _on_time(con, tables, start, end, where, params)
        out["overdue"] = _overdue(con, tables, where, params, now)
        return out
    finally:
        con.close()


COUNTS = ("dispatched", "resolved", "on_time", "closed", "breached")


def _on_time(
    con: duckdb.DuckDBPyConnection,
    tables: Store,
    start: date,
    end: date,
    where: str,
    params: list[Any],
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    zero: dict[str, Any] = dict.fromkeys(COUNTS, 0)
    if not tables.has("case_dispatch"):
        return {**zero, "on_time_rate": None}, []
    sums = ", ".join(f"coalesce(sum({c}), 0)::BIGINT AS {c}" for c in COUNTS)
    p = [start, end, *params]
    totals = _rows(con, f"SELECT {sums} FROM case_dispatch WHERE day BETWEEN ? AND ? AND {where}", p)[0]
    totals["on_time_rate"] = _rate(totals["on_time"], totals["resolved"])
    depts = _rows(con, f"""SELECT department_code AS code, {sums} FROM case_dispatch
        WHERE day BETWEEN ? AND ? AND {where} GROUP BY 1""", p)  # fmt: skip
    for d in depts:
        d["on_time_rate"] = _rate(d["on_time"], d["resolved"])
    # The ranking: the best on-time rate first; a department with nothing resolved yet last.
    depts.sort(
        key=lambda d: (d["on_time_rate"] is None, -(d["on_time_rate"] or 0), -d["resolved"], d["code"] or "")
    )
    for i, d in enumerate(depts, 1):
        d["rank"] = i
    return totals, depts


def _overdue(
    con: duckdb.DuckDBPyConnection, tables: Store, where: str, params: list[Any], now: datetime
) -> dict[str, Any]:
    """Open cases past a time limit now: ``cases.queries.overdue_clause``, over the lake's latest versions."""
    if not tables.has("case_open"):
        return {"count": 0, "by_department": [], "cases": []}
    late = """((state IN ('accepted', 'in_progress', 'dispatched') AND resolve_due_at < ?)
               OR (state = 'dispatched' AND accept_due_at < ?))"""
    p = [now, now, *params]
    count = _rows(con, f"SELECT count(*) AS n FROM case_open WHERE {late} AND {where}", p)[0]["n"]
    by_dept = _rows(con, f"""SELECT department_code AS code, count(*) AS overdue FROM case_open
        WHERE {late} AND {where} GROUP BY 1 ORDER BY overdue DESC, code""", p)  # fmt: skip
    cases = _rows(con, f"""SELECT number, title, state, category_code, major_code, street_code, community_code,
        department_code, reported_at, resolve_due_at,
        round(date_diff('minute', CASE WHEN state = 'dispatched' AND accept_due_at < ?
                                       THEN least(accept_due_at, coalesce(resolve_due_at, accept_due_at))
                                       ELSE resolve_due_at END, ?) / 60.0, 1) AS hours_over
        FROM case_open WHERE {late} AND {where} ORDER BY hours_over DESC, number LIMIT {TOP_OVERDUE}""", [now, now, *p])  # fmt: skip
    return {"count": count, "by_department": by_dept, "cases": cases}


def alarm_kpis(tables: Store, start: date, end: date, area: str | None) -> dict[str, Any]:
    """Alarms raised in [start, end] (local days): how many, by level, type and area, and what became of
    them (acknowledged, cleared, opened a case)."""
    counts = ("raised", "active", "acknowledged", "cleared", "with_case")
    if not tables.has("alarm_daily"):
        return {**dict.fromkeys(counts, 0), "by_level": {}, "by_type": [], "by_area": []}
    con = tables.cursor()
    try:
        where, params = _area_clause(area, community_only=True)
        p = [start, end, *params]
        period = f"day BETWEEN ? AND ? AND {where}"
        sums = ", ".join(f"coalesce(sum({c}), 0)::BIGINT AS {c}" for c in counts)
        out = _rows(con, f"SELECT {sums} FROM alarm_daily WHERE {period}", p)[0]
        by_level = _rows(
            con, f"SELECT level, sum(raised)::BIGINT AS n FROM alarm_daily WHERE {period} GROUP BY 1", p
        )
        out["by_level"] = {lv: 0 for lv in ("blue", "yellow", "orange", "red")} | {
            r["level"]: r["n"] for r in by_level if r["level"]
        }
        out["by_type"] = _rows(con, f"""SELECT alarm_type AS code, sum(raised)::BIGINT AS raised,
            sum(active)::BIGINT AS active FROM alarm_daily WHERE {period} GROUP BY 1 ORDER BY raised DESC, code""", p)  # fmt: skip
        by = "community_code" if area else "coalesce(street_code, left(community_code, 9))"
        out["by_area"] = _rows(con, f"""SELECT {by} AS code, sum(raised)::BIGINT AS raised FROM alarm_daily
            WHERE {period} GROUP BY 1 ORDER BY raised DESC, code""", p)  # fmt: skip
        return out
    finally:
        con.close()


def daily_series(
    tables: Store, start: date, end: date, by: str, area: str | None
) -> tuple[list[str], list[date], list[list[int]]]:
    """Reported cases per day in [start, end] for each major class (``by="class"``) or area (``"area"``:
    streets, or the communities of ``area``): keys, days and a count per key and day (zeros filled in)."""
    days = [start + timedelta(i) for i in range((end - start).days + 1)]
    if not tables.has("case_daily"):
        return [], days, []
    where, params = _area_clause(area)
    column = {"class": "major_code", "area": "community_code" if area else "street_code"}[by]
    con = tables.cursor()
    try:
        rows = con.execute(
            f"""SELECT {column}, day, sum(reported)::BIGINT FROM case_daily
                WHERE day BETWEEN ? AND ? AND {where} AND {column} IS NOT NULL GROUP BY 1, 2""",
            [start, end, *params],
        ).fetchall()
    finally:
        con.close()
    keys = sorted({r[0] for r in rows})
    index = {k: i for i, k in enumerate(keys)}
    matrix = [[0] * len(days) for _ in keys]
    for key, day, n in rows:
        matrix[index[key]][(day - start).days] = int(n)
    return keys, days, matrix
