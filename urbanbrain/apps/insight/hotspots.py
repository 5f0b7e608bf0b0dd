"""Hotspots: H3 cells where more cases came in over the last days than the cell's own history explains.

For each cell, the cases of the last ``window`` days are set against the same weekdays in each of the
``weeks`` weeks before (so a busy Monday is compared with Mondays). The expected count is their mean; the
chance of seeing as many by luck is read from a negative binomial with their mean and spread (a Poisson
where they spread less), and a cell is a hotspot when that chance is below ``alpha``, it has at least
``min_cases`` and at least ``min_ratio`` times what is usual. Each comes with a reason a person can read.
"""

from __future__ import annotations

import math
from datetime import date, timedelta
from typing import Any

import h3
import numpy as np

from urbanbrain.apps.insight.aggregates import Store


def _upper_tail(observed: int, mean: float, var: float) -> float:
    """P(X >= observed) for counts with this mean and variance (negative binomial, or Poisson)."""
    if observed <= 0:
        return 1.0
    mean = max(mean, 1e-9)
    if var > mean * 1.0001:
        r = mean * mean / (var - mean)
        p = r / (r + mean)
        log_pmf0 = r * math.log(p)
        ratio = lambda k: (k + r) / (k + 1) * (1 - p)  # noqa: E731 - pmf(k+1) / pmf(k)
    else:
        log_pmf0 = -mean
        ratio = lambda k: mean / (k + 1)  # noqa: E731
    # Sum the pmf below ``observed`` in log space steps, then take the rest.
    pmf, below = math.exp(log_pmf0), 0.0
    for k in range(observed):
        below += pmf
        pmf *= ratio(k)
    return max(0.0, 1.0 - below)


def find(
    tables: Store,
    last_day: date,
    *,
    window: int = 3,
    weeks: int = 8,
    alpha: float = 1e-3,
    min_cases: int = 5,
    min_ratio: float = 1.5,
    area: str | None = None,
    names: dict[str, str] | None = None,
    class_names: dict[str, tuple[str, str]] | None = None,
) -> list[dict[str, Any]]:
    """Hotspots in the ``window`` days ending ``last_day`` (local days), most unusual first."""
    if not tables.has("case_cells"):
        return []
    names, class_names = names or {}, class_names or {}
    first = last_day - timedelta(days=7 * weeks + window - 1)
    where, params = ("starts_with(community_code, ?)", [area]) if area else ("TRUE", [])
    con = tables.cursor()
    try:
        # Week k holds the days k weeks before the window's days: lag - 7k in [0, window).
        rows = con.execute(
            f"""WITH c AS (SELECT cell, major_code, community_code, cases, date_diff('day', day, ?::DATE) AS lag
                           FROM case_cells WHERE day BETWEEN ? AND ? AND {where})
                SELECT cell, lag // 7 AS week, sum(cases)::BIGINT FROM c WHERE lag % 7 < ? GROUP BY 1, 2""",
            [last_day, first, last_day, *params, window],
        ).fetchall()
        detail = con.execute(
            f"""SELECT cell, major_code, community_code, sum(cases)::BIGINT AS n FROM case_cells
                WHERE day BETWEEN ? AND ? AND {where} GROUP BY 1, 2, 3""",
            [last_day - timedelta(days=window - 1), last_day, *params],
        ).fetchall()
    finally:
        con.close()
    ids = sorted({r[0] for r in rows})
    index = {c: i for i, c in enumerate(ids)}
    table = np.zeros((len(ids), weeks + 1))
    for cell, week, n in rows:
        if week <= weeks:
            table[index[cell], int(week)] = n
    found = []
    for cell in ids:
        obs, past = int(table[index[cell], 0]), table[index[cell], 1:]
        expected = (
            past.sum() + 0.5
        ) / weeks  # half a case more: a cell with no history is not infinitely rare
        var = float(past.var(ddof=1)) if weeks > 1 else expected
        p = _upper_tail(obs, expected, max(var, expected))
        ratio = obs / expected
        if p < alpha and obs >= min_cases and ratio >= min_ratio:
            found.append(_hotspot(cell, obs, expected, past, p, window, weeks, detail, names, class_names))
    found.sort(key=lambda h: (h["p_value"], -h["ratio"]))
    return found


def _hotspot(
    cell: str,
    obs: int,
    expected: float,
    past: np.ndarray,
    p: float,
    window: int,
    weeks: int,
    detail: list[tuple[Any, ...]],
    names: dict[str, str],
    class_names: dict[str, tuple[str, str]],
) -> dict[str, Any]:
    mine = [d for d in detail if d[0] == cell]
    by_class: dict[str, int] = {}
    by_community: dict[str, int] = {}
    for _, major, community, n in mine:
        by_class[major or "-"] = by_class.get(major or "-", 0) + int(n)
        by_community[community or "-"] = by_community.get(community or "-", 0) + int(n)
    top_class, top_n = max(by_class.items(), key=lambda kv: kv[1])
    top_community = max(by_community.items(), key=lambda kv: kv[1])[0]
    zh_class, en_class = class_names.get(top_class, (top_class, top_class))
    place = names.get(top_community, top_community)
    lat, lon = h3.cell_to_latlng(cell)
    lo, hi = int(past.min()), int(past.max())
    ratio = obs / expected
    return {
        "cell": cell,
        "lon": round(lon, 6),
        "lat": round(lat, 6),
        "boundary": [[round(x, 6), round(y, 6)] for y, x in h3.cell_to_boundary(cell)],
        "community_code": top_community,
        "cases": obs,
        "expected": round(expected, 1),
        "usual_range": [lo, hi],
        "ratio": round(ratio, 1),
        "p_value": float(f"{p:.3g}"),
        "top_class": {"code": top_class, "cases": top_n},
        "by_class": dict(sorted(by_class.items(), key=lambda kv: -kv[1])),
        "reason": {
            "zh-CN": f"近{window}天{obs}件，前{weeks}周同期平均{expected:.1f}件（{lo}–{hi}），为常态的{ratio:.1f}倍；"
            f"以{zh_class}为主（{top_n}件）；位于{place}。",
            "en": f"{obs} cases in the last {window} days against {expected:.1f} on the same weekdays of the "
            f"{weeks} weeks before ({lo}-{hi}), {ratio:.1f} times usual; mostly {en_class} ({top_n}); in {place}.",
        },
    }
