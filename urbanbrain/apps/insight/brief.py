"""The daily brief for district leaders (每日简报): the day's numbers beside the same weekday a week before,
what was unusual (hotspots, classes and streets above their forecast), what is overdue now, and the week's
forecast. ``brief_data`` gathers it; ``render_html`` draws it as one self-contained page with SVG charts
(the PDF is drawn from the same data in ``brief_pdf.py``)."""

from __future__ import annotations

import html
from datetime import date, timedelta
from typing import Any

import numpy as np
from sqlalchemy.orm import Session

from urbanbrain.apps.insight import forecast as fc
from urbanbrain.apps.insight import kpis, queries
from urbanbrain.core.auth.principal import Principal
from urbanbrain.core.context import Platform
from urbanbrain.core.errors import UrbanBrainError
from urbanbrain.domains.registry import queries as registry_queries


def brief_data(
    session: Session, platform: Platform, principal: Principal, day: date, area: str | None = None
) -> dict[str, Any]:
    """Everything the brief shows for local day ``day``."""
    area = queries.area_for(principal, area)
    generation, t = queries.tables(platform)
    today = queries.kpis_of(session, platform, principal, day, day, area)
    if today["cases"]["reported"] == 0 and not kpis.daily_series(t, day, day, "class", area)[0]:
        raise UrbanBrainError("insight.no_data", day=day.isoformat())
    week_before = queries.kpis_of(
        session, platform, principal, day - timedelta(days=7), day - timedelta(days=7), area
    )
    month = queries.kpis_of(session, platform, principal, day - timedelta(days=27), day, area)
    hot = queries.hotspots_of(session, platform, principal, day, 3, 8, area)["items"]
    surges = _surges(platform, session, t, day, area)
    outlook = queries.forecasts_of(session, platform, principal, "class", 7, area, last_day=day)
    total_forecast = _sum_forecast(outlook["items"])
    return {
        "day": day,
        "area": area,
        "area_name": today["area_name"],
        "as_of": today["as_of"],
        "generation": generation,
        "numbers": {
            "reported": today["cases"]["reported"],
            "reported_week_before": week_before["cases"]["reported"],
            "closed": today["cases"]["closed"],
            "emergency": today["cases"]["emergency"],
            "dispatched": today["on_time"]["dispatched"],
            "on_time_rate": today["on_time"]["on_time_rate"],
            "alarms": today["alarms"]["raised"],
            "alarms_by_level": today["alarms"]["by_level"],
            "hazards_found": today["hazards"]["found"],
            "hazards_overdue": today["hazards"]["overdue"],
            "devices": today["devices"],
        },
        "by_class": today["cases"]["by_class"],
        "trend": [{"day": r["day"], "cases": int(r["reported"])} for r in month["cases"]["by_day"]],
        "departments": month["departments"][:10],
        "hotspots": hot[:10],
        "surges": surges,
        "overdue": today["overdue"],
        "forecast": total_forecast,
        "forecast_by_class": [
            {"code": i["code"], "name": i["name"], "week": round(sum(f["mean"] for f in i["forecast"]))}
            for i in outlook["items"]
        ],
    }


def _surges(
    platform: Platform, session: Session, t: Any, day: date, area: str | None
) -> list[dict[str, Any]]:
    """Classes and areas whose count on ``day`` lay above the upper end of the forecast made the day before."""
    out: list[dict[str, Any]] = []
    start = day - timedelta(days=queries.HISTORY_DAYS)
    names = queries.class_names()
    area_names = registry_queries.area_names(platform, session)
    for by in ("class", "area"):
        keys, days, matrix = kpis.daily_series(t, start, day, by, area)
        if not keys:
            continue
        y = np.array(matrix, dtype=float)
        f = fc.forecast(y[:, :-1], days[:-1], 1, level=0.95)
        for i, key in enumerate(keys):
            seen = int(y[i, -1])
            if seen > f.upper[i, 0] and seen >= 5:
                n = names.get(key) if by == "class" else (area_names.get(key), area_names.get(key))
                out.append({
                    "by": by, "code": key, "name": n[0] if n else None, "cases": seen,
                    "expected": round(float(f.mean[i, 0]), 1), "upper": int(f.upper[i, 0]),
                    "ratio": round(seen / max(float(f.mean[i, 0]), 0.5), 1),
                })  # fmt: skip
    out.sort(key=lambda s: -float(s["ratio"]))
    return out


def _sum_forecast(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The district's total per day: means add up; the interval is summed as if classes moved together,
    a cautious upper bound rather than a calibrated one."""
    if not items:
        return []
    out = []
    for j, f in enumerate(items[0]["forecast"]):
        out.append({
            "day": f["day"],
            "mean": round(sum(i["forecast"][j]["mean"] for i in items), 1),
            "lower": sum(i["forecast"][j]["lower"] for i in items),
            "upper": sum(i["forecast"][j]["upper"] for i in items),
            "baseline": sum(i["forecast"][j]["baseline"] for i in items),
        })  # fmt: skip
    return out


# --- HTML -----------------------------------------------------------------------------------------------------


def _e(x: Any) -> str:
    return html.escape("" if x is None else str(x))


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{x * 100:.1f}%"


def svg_trend(trend: list[dict[str, Any]], forecast: list[dict[str, Any]], w: int = 640, h: int = 200) -> str:
    """Cases per day (line) and the forecast (dashed, with its interval as a band)."""
    seen = [p["cases"] for p in trend]
    ahead = forecast
    n = len(seen) + len(ahead)
    if n < 2:
        return ""
    top = max([*seen, *(p["upper"] for p in ahead), 1]) * 1.1
    pad = 30

    def x(i: int) -> float:
        return pad + i * (w - 2 * pad) / (n - 1)

    def y(v: float) -> float:
        return h - pad - v * (h - 2 * pad) / top

    line = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(seen))
    k = len(seen) - 1
    band_up = [f"{x(k + 1 + i):.1f},{y(p['upper']):.1f}" for i, p in enumerate(ahead)]
    band_lo = [f"{x(k + 1 + i):.1f},{y(p['lower']):.1f}" for i, p in reversed(list(enumerate(ahead)))]
    mean = [f"{x(k):.1f},{y(seen[-1]):.1f}"] + [
        f"{x(k + 1 + i):.1f},{y(p['mean']):.1f}" for i, p in enumerate(ahead)
    ]
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img">',
        f'<line x1="{pad}" y1="{h - pad}" x2="{w - pad}" y2="{h - pad}" stroke="#999"/>',
        f'<text x="{pad}" y="{pad - 8}" font-size="11" fill="#555">{int(top / 1.1)}</text>',
    ]
    if ahead:
        parts.append(f'<polygon points="{" ".join(band_up + band_lo)}" fill="#f5b041" fill-opacity="0.3"/>')
        parts.append(
            f'<polyline points="{" ".join(mean)}" fill="none" stroke="#d35400" stroke-dasharray="4 3" stroke-width="2"/>'
        )
    parts.append(f'<polyline points="{line}" fill="none" stroke="#1f618d" stroke-width="2"/>')
    parts.append("</svg>")
    return "".join(parts)


def svg_bars(rows: list[tuple[str, float]], w: int = 640, bar: int = 18, fmt: str = "{:.0f}") -> str:
    """Horizontal bars, one per (label, value)."""
    if not rows:
        return ""
    top = max(v for _, v in rows) or 1
    label_w, h = 180, len(rows) * (bar + 6) + 10
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img">'
    ]
    for i, (label, v) in enumerate(rows):
        y0 = 5 + i * (bar + 6)
        length = (w - label_w - 60) * v / top
        parts.append(
            f'<text x="{label_w - 6}" y="{y0 + bar - 5}" font-size="12" text-anchor="end">{_e(label)}</text>'
        )
        parts.append(f'<rect x="{label_w}" y="{y0}" width="{length:.1f}" height="{bar}" fill="#2e86c1"/>')
        parts.append(
            f'<text x="{label_w + length + 4:.1f}" y="{y0 + bar - 5}" font-size="12">{_e(fmt.format(v))}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


STYLE = """body{font-family:"WenQuanYi Micro Hei","Noto Sans CJK SC","Microsoft YaHei",sans-serif;max-width:760px;
margin:24px auto;color:#222}h1{font-size:22px}h2{font-size:17px;border-bottom:1px solid #ddd;padding-bottom:4px;
margin-top:28px}table{border-collapse:collapse;width:100%;font-size:13px}td,th{border-bottom:1px solid #eee;
padding:4px 6px;text-align:left}.figs{display:flex;flex-wrap:wrap;gap:12px}.fig{border:1px solid #ddd;
border-radius:6px;padding:8px 12px;min-width:130px}.fig b{display:block;font-size:22px}.muted{color:#777;font-size:12px}"""


def render_html(b: dict[str, Any]) -> str:
    n = b["numbers"]
    where = b["area_name"] or b["area"] or "全区"
    figs = [
        ("新增事件 Cases reported", n["reported"], f"上周同日 {n['reported_week_before']}"),
        ("结案 Closed", n["closed"], ""),
        ("按时办结率 On time", _pct(n["on_time_rate"]), f"派遣 {n['dispatched']}"),
        ("超期未办 Overdue now", b["overdue"]["count"], ""),
        ("物联告警 Alarms", n["alarms"], " / ".join(f"{k} {v}" for k, v in n["alarms_by_level"].items())),
        ("消防隐患 Hazards found", n["hazards_found"], f"逾期 {n['hazards_overdue']}"),
        ("设备在线率 Devices online", _pct(n["devices"]["online_rate"]), f"共 {n['devices']['total']}"),
    ]
    out = [
        "<!doctype html><html lang='zh-CN'><head><meta charset='utf-8'>",
        f"<title>每日简报 {b['day']}</title><style>{STYLE}</style></head><body>",
        f"<h1>{_e(where)} 每日简报 Daily brief · {b['day']}</h1>",
        f"<p class='muted'>截至 As of {_e(b['as_of'])} · 汇总版本 generation {b['generation']}</p>",
        "<h2>昨日数据 The day's numbers</h2><div class='figs'>",
    ]
    for label, value, note in figs:
        out.append(
            f"<div class='fig'>{_e(label)}<b>{_e(value)}</b><span class='muted'>{_e(note)}</span></div>"
        )
    out.append("</div>")
    out.append("<h2>各类事件 Cases by class</h2>")
    out.append(svg_bars([(r["name"] or r["code"], r["reported"]) for r in b["by_class"][:10]]))
    out.append("<h2>异常 What is unusual</h2>")
    if not b["hotspots"] and not b["surges"]:
        out.append("<p>未发现异常热点或激增。No hotspot or surge.</p>")
    if b["hotspots"]:
        out.append("<h3>热点 Hotspots</h3><ul>")
        out.extend(
            f"<li>{_e(h['reason']['zh-CN'])}<br><span class='muted'>{_e(h['reason']['en'])}</span></li>"
            for h in b["hotspots"]
        )
        out.append("</ul>")
    if b["surges"]:
        out.append(
            "<h3>激增 Surges</h3><table><tr><th>类别/区域</th><th>当日</th><th>预期</th><th>上限</th></tr>"
        )
        out.extend(
            f"<tr><td>{_e(s['name'] or s['code'])}</td><td>{s['cases']}</td><td>{s['expected']}</td><td>{s['upper']}</td></tr>"
            for s in b["surges"]
        )
        out.append("</table>")
    out.append(f"<h2>超期 What is overdue ({b['overdue']['count']})</h2>")
    if b["overdue"]["by_department"]:
        out.append(svg_bars([(r["code"] or "-", r["overdue"]) for r in b["overdue"]["by_department"][:10]]))
        out.append("<table><tr><th>编号</th><th>标题</th><th>部门</th><th>超期（小时）</th></tr>")
        out.extend(
            f"<tr><td>{_e(c['number'])}</td><td>{_e(c['title'])}</td><td>{_e(c['department_code'])}</td><td>{c['hours_over']}</td></tr>"
            for c in b["overdue"]["cases"][:10]
        )
        out.append("</table>")
    out.append("<h2>趋势与预测 Trend and forecast</h2>")
    out.append(svg_trend(b["trend"], b["forecast"]))
    if b["forecast"]:
        out.append("<table><tr><th>日期</th><th>预测</th><th>区间 (80%)</th><th>上周同日 baseline</th></tr>")
        out.extend(
            f"<tr><td>{f['day']}</td><td>{f['mean']:.0f}</td><td>{f['lower']}–{f['upper']}</td><td>{f['baseline']}</td></tr>"
            for f in b["forecast"]
        )
        out.append("</table>")
    if b["departments"]:
        out.append("<h2>部门按时办结排名 Departments by on-time rate (28 days)</h2>")
        out.append(
            svg_bars(
                [(d["code"] or "-", (d["on_time_rate"] or 0) * 100) for d in b["departments"]], fmt="{:.1f}%"
            )
        )
    out.append("</body></html>")
    return "\n".join(out)
