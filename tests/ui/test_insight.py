"""The decision-support dashboard in Chromium, over a simulated half year of the demo district's cases landed in
its lake: the figures it shows are the insight API's for the same period, the department ranking and the
forecasts are drawn, and the daily brief downloads as HTML and as PDF."""

from __future__ import annotations

import re
from datetime import UTC, date, timedelta
from pathlib import Path

from playwright.sync_api import expect
from sqlalchemy import select

from tests.conftest import START
from tests.ui.conftest import District, shoot
from tests.ui.test_pages import _axe
from urbanbrain.domains.cases.taxonomy import load as taxonomy
from urbanbrain.domains.datahub import queries as datahub_queries
from urbanbrain.domains.registry.models import Area
from urbanbrain.simulate.district_volumes import CaseClass, simulate_volumes, write_cases_lake

BASE = "/api/v1/insight"
YESTERDAY = date(2018, 7, 8)  # seen from the clock's START
DAYS = 180  # the forecast reads 16 weeks and judges itself over the 4 before them


def _cases_in_the_lake(d: District) -> None:
    """Half a year of simulated cases in the district's own communities, landed once, then aggregated."""
    root = datahub_queries.lake(d.platform).root
    start = YESTERDAY - timedelta(days=DAYS - 1)
    if not (root / "cases" / f"date={start.isoformat()}").exists():
        with d.platform.db.session() as s:
            areas = [(str(p), str(c)) for p, c in s.execute(select(Area.parent_code, Area.code)
                     .where(Area.level == "community").order_by(Area.code))]  # fmt: skip
        classes = [
            CaseClass(m.code, m.major, m.department, m.resolve_hours) for m in taxonomy().minors.values()
        ]
        volumes = simulate_volumes(
            7, start, DAYS, [c.code for c in classes], [c for _, c in areas], per_day=120
        )
        write_cases_lake(root, volumes.counts, start, classes, areas, seed=7,
                         as_of=START.astimezone(UTC).replace(tzinfo=None))  # fmt: skip
    with d.api("operator") as api:
        assert api.post(f"{BASE}/refresh").status_code == 200


def _percent(rate: float | None) -> str:
    return "—" if rate is None else f"{round(rate * 1000) / 10:.1f}%"


def test_the_dashboard_shows_the_insight_apis_figures(district, browser, watch, tmp_path):
    d = district
    _cases_in_the_lake(d)
    with d.api("operator") as api:
        kpis = api.get(f"{BASE}/kpis").json()
        forecasts = api.get(f"{BASE}/forecasts", params={"by": "class"}).json()
    assert kpis["cases"]["reported"] > 1000 and kpis["to"] == YESTERDAY.isoformat()

    page = watch.page(browser, width=1600, height=1000, token=d.token("operator"))
    page.goto(d.base + "/work/insight")
    expect(page.get_by_test_id("insight-period")).to_contain_text(f"{kpis['from']} 至 {kpis['to']}")
    shown = {
        "reported": f"{kpis['cases']['reported']:,}",
        "closed": f"{kpis['cases']['closed']:,}",
        "onTime": _percent(kpis["on_time"]["on_time_rate"]),
        "overdue": f"{kpis['overdue']['count']:,}",
        "alarms": f"{kpis['alarms']['raised']:,}",
        "hazards": f"{kpis['hazards']['found']:,}",
        "devices": _percent(kpis["devices"]["online_rate"]),
    }
    for key, text in shown.items():
        expect(page.get_by_test_id(f"kpi-{key}").get_by_test_id("kpi-value")).to_have_text(text)
    # the ranking as the API ranks the departments, with their on-time rates
    rows = page.get_by_test_id("ranking-row")
    expect(rows).to_have_count(min(10, len(kpis["departments"])))
    first = kpis["departments"][0]
    expect(rows.first).to_have_attribute("data-code", first["code"])
    expect(rows.first.get_by_test_id("ranking-rate")).to_have_text(_percent(first["on_time_rate"]))
    # a chart per busy class's forecast, each with its error beside the baseline's
    charts = page.get_by_test_id("forecast")
    expect(charts).to_have_count(min(6, len(forecasts["items"])))
    expect(charts.first.locator("canvas")).to_have_count(1)
    expect(charts.first).to_contain_text("基线")
    shoot(page, "insight-dashboard", tmp_path)
    assert not [f"{v['id']}: {v['help']} at {v['nodes'][0]['target']}" for v in _axe(page)]  # WCAG AA

    # one street: the figures follow the API's for that street
    street = kpis["cases"]["by_area"][0]["code"]
    with d.api("operator") as api:
        of_street = api.get(f"{BASE}/kpis", params={"area": street}).json()
    page.get_by_test_id("insight-area").select_option(street)
    page.get_by_test_id("insight-apply").click()
    expect(page.get_by_test_id("kpi-reported").get_by_test_id("kpi-value")).to_have_text(
        f"{of_street['cases']['reported']:,}"
    )

    # the daily brief of yesterday, as HTML and as PDF
    page.get_by_test_id("insight-area").select_option("")
    with page.expect_download() as html:
        page.get_by_test_id("brief-html").click()
    assert html.value.suggested_filename == f"brief-{YESTERDAY.isoformat()}.html"
    assert "<html" in Path(html.value.path()).read_text(encoding="utf-8")[:500].lower()
    with page.expect_download() as pdf:
        page.get_by_test_id("brief-pdf").click()
    assert Path(pdf.value.path()).read_bytes()[:5] == b"%PDF-"
    expect(page.get_by_test_id("insight-notice")).to_contain_text(re.compile(r"brief-.*\.pdf"))


def test_the_centres_kpi_panels_show_decision_supports_figures(district, browser, watch):
    d = district
    _cases_in_the_lake(d)
    today = START.date()  # the district's day on the clock (it runs from START)
    with d.api("operator") as api:
        month = api.get(
            f"{BASE}/kpis", params={"from": (today - timedelta(days=29)).isoformat(), "to": today}
        ).json()
        statistics = api.get("/api/v1/cases/statistics").json()
    assert (
        month["on_time"]["on_time_rate"] != statistics["on_time_rate"]
    )  # the lake's half year, not the seed's

    page = watch.page(browser, width=1920, height=1080, token=d.token("operator"))
    page.goto(d.base + "/")
    cases = page.get_by_test_id("kpi-cases")
    expect(cases).to_contain_text(_percent(month["on_time"]["on_time_rate"]))
    # the ranking's chart is described for screen readers with each department's rate
    best = next(x for x in month["departments"] if x["resolved"] >= 3)
    expect(page.get_by_test_id("kpi-departments").locator("[role=img]")).to_have_attribute(
        "aria-label", re.compile(re.escape(_percent(best["on_time_rate"])))
    )
