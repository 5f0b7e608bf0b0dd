"""Hotspots: a cell whose cases jump in the last three days is found, with a reason a person can read; a
steady cell, as busy on every day, is not."""

from datetime import date, datetime, timedelta

import numpy as np

from tests.apps.insight.conftest import utc

STEADY = (114.030, 22.540)  # two places ~4 km apart: different H3 cells
SURGING = (114.070, 22.530)
LAST_DAY = date(2018, 7, 8)


def plant_history(desk, surge: int = 30) -> None:
    """Eight weeks and three days of cases at both places: ~6 a day (Poisson), then ``surge`` a day at the
    second place over the last three days, mostly blocked drains (C0301)."""
    rng = np.random.default_rng(7)
    rows = []
    for back in range(8 * 7 + 3):
        day = LAST_DAY - timedelta(days=back)
        noon = utc(datetime(day.year, day.month, day.day, 12))
        for (lon, lat), n in ((STEADY, rng.poisson(6)), (SURGING, surge if back < 3 else rng.poisson(6))):
            for i in range(int(n)):
                major = "C03" if (lon, lat) == SURGING and back < 3 and i % 5 else "C01"
                rows.append({"reported_at": noon + timedelta(minutes=i), "lon": lon, "lat": lat, "major_code": major,
                             "category_code": major + "01"})  # fmt: skip
    desk.lake.cases(*rows)
    desk.refresh()


def test_a_planted_surge_is_a_hotspot_and_a_steady_cell_is_not(desk):
    plant_history(desk)
    found = desk.call("GET", "operator", "/hotspots", params={"last_day": LAST_DAY.isoformat()})
    [hot] = found["items"]
    assert abs(hot["lon"] - SURGING[0]) < 0.01 and abs(hot["lat"] - SURGING[1]) < 0.01
    assert hot["cases"] == 90 and 10 < hot["expected"] < 30 and hot["ratio"] > 3
    assert hot["top_class"]["code"] == "C03" and hot["p_value"] < 1e-3
    assert "90件" in hot["reason"]["zh-CN"] and "90 cases in the last 3 days" in hot["reason"]["en"]
    assert len(hot["boundary"]) == 6


def test_nothing_is_hot_when_nothing_changed(desk):
    plant_history(desk, surge=6)
    assert desk.call("GET", "operator", "/hotspots", params={"last_day": LAST_DAY.isoformat()})["items"] == []
