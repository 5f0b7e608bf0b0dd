"""The command centre's big screen in Chromium: a sensor fire reaches the map and the feed as soon as its
readings are accepted and the centre acknowledges it from the drawer; the time slider scrubs back to before it."""

from __future__ import annotations

import re
import time

from playwright.sync_api import expect

from tests.ui.conftest import MONITORED_BUILDINGS, shoot


def _count(text: str) -> int:
    return int(re.sub(r"\D", "", text) or 0)


def test_a_sensor_fire_reaches_the_map_and_feed_and_the_centre_acknowledges_it(
    district, browser, watch, tmp_path
):
    d = district
    page = watch.page(browser, width=1920, height=1080, token=d.token("operator"))
    page.goto(d.base + "/")
    expect(page.get_by_test_id("legend-devices")).to_contain_text(str(2 * MONITORED_BUILDINGS))
    expect(page.get_by_test_id("stream-state")).to_have_class(re.compile(r"\bon\b"))
    alarms_before = _count(page.get_by_test_id("legend-alarms").inner_text())
    building = d.buildings[-1]
    t = d.platform.clock.now().timestamp() - 30
    fire = [d.message(f"TMP-{building}", {"temp_c": 26.0}, t - 60),
            d.message(f"SMK-{building}", {"smoke_obscuration": 0.2, "temp_c": 26.0}, t - 60),
            d.message(f"TMP-{building}", {"temp_c": 38.0}, t),
            d.message(f"SMK-{building}", {"smoke_obscuration": 5.5, "temp_c": 33.0}, t + 20)]  # fmt: skip
    r = d.readings(fire)
    accepted = time.monotonic()
    assert r.status_code == 202, r.text
    # the fire (red) on the feed, and on the map: the smoke warning and the confirmed fire are drawn
    red = page.get_by_test_id("feed-item").filter(has_text="红色").first
    expect(red).to_be_visible()
    on_feed = time.monotonic() - accepted
    expect(page.get_by_test_id("legend-alarms")).not_to_have_text(re.compile(rf"\D{alarms_before}$"))
    assert _count(page.get_by_test_id("legend-alarms").inner_text()) >= alarms_before + 1
    print(f"reading accepted → fire on the feed: {on_feed * 1000:.0f} ms")
    shoot(page, "command-centre-fire", tmp_path)

    red.click()
    drawer = page.get_by_test_id("drawer")
    expect(drawer).to_be_visible()
    page.get_by_test_id("alarm-note").fill("已通知消防救援大队，网格员赶赴现场")
    page.get_by_test_id("alarm-acknowledge").click()
    expect(page.get_by_test_id("alarm-status")).to_have_text("已确认")
    with d.api("operator") as api:
        fires = api.get("/api/v1/sensing/alarms", params={"building": building, "level": "red"}).json()[
            "items"
        ]
    assert [(a["alarm_type"], a["status"]) for a in fires] == [("fire", "acknowledged")]
    page.keyboard.press("Escape")
    expect(drawer).to_be_hidden()

    # scrub back (with the keyboard: Home is 24 hours ago) to before the fire: no alarm on the map then;
    # back to live, they are
    page.get_by_test_id("time-slider").focus()
    page.keyboard.press("Home")
    expect(page.get_by_test_id("legend-alarms")).to_have_text(re.compile(r"\D0$"))
    page.get_by_test_id("time-live").click()
    expect(page.get_by_test_id("legend-alarms")).not_to_have_text(re.compile(r"\D0$"))
