"""The daily brief: HTML with its charts, and a PDF whose text holds the day's figures in Chinese."""

import io

import pypdf

from tests.apps.insight.test_hotspots import LAST_DAY, plant_history


def test_the_brief_shows_the_days_numbers_in_html_and_pdf(desk):
    plant_history(desk)
    day = LAST_DAY.isoformat()
    k = desk.call("GET", "operator", "/kpis", params={"from": day, "to": day})
    reported = k["cases"]["reported"]
    assert reported > 30  # the surge: 30 that day at one place, and the steady place's

    page = desk.client.get(f"/api/v1/insight/briefs/{day}.html", headers=desk.head("operator"))
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "每日简报" in page.text and f"<b>{reported}</b>" in page.text and "<svg" in page.text
    assert "热点" in page.text and "90件" in page.text  # the hotspot's reason is in the brief

    pdf = desk.client.get(f"/api/v1/insight/briefs/{day}.pdf", headers=desk.head("operator"))
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    text = "".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(pdf.content)).pages)
    assert "每日简报" in text and "新增事件" in text and str(reported) in text
    assert "热点" in text


def test_a_day_without_data_and_a_bad_date_are_refused(desk):
    missing = desk.call("GET", "operator", "/briefs/2018-01-01.html", 404)
    assert missing["code"] == "insight.no_data" and "尚无数据" in missing["messages"]["zh-CN"]
    assert desk.call("GET", "operator", "/briefs/yesterday.pdf", 422)["code"] == "insight.bad_date"


def test_forecasts_come_with_their_baseline(desk):
    plant_history(desk, surge=6)
    f = desk.call(
        "GET",
        "operator",
        "/forecasts",
        params={"by": "class", "horizon": 7, "last_day": LAST_DAY.isoformat()},
    )
    item = next(i for i in f["items"] if i["code"] == "C01")
    assert len(item["forecast"]) == 7 and len(item["history"]) == 28
    first = item["forecast"][0]
    assert first["lower"] <= first["mean"] <= first["upper"] and 5 <= first["mean"] <= 20  # about 12 a day
    assert item["backtest"]["mae"] is not None and item["backtest"]["baseline_mae"] is not None
