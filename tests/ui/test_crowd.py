"""A crowd builds up on the Civic Center plaza and the big screen shows it: the zone coloured by its level on
the map, the forecast warning on the feed, "reaches 5 p/m² in N min" in the crowd panel, the crowd plan
started by itself on the orange warning, the zone's drawer with its forecast and a what-if that lowers the
peak, attached to the plan; then the police
handler acknowledges the police's task on a phone (/work/tasks) and the centre sees it."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.ui.conftest import shoot
from urbanbrain.core.auth.principal import SYSTEM
from urbanbrain.domains.crowd import whatif
from urbanbrain.domains.crowd.actions import do_install_device_types
from urbanbrain.domains.crowd.engine import engine
from urbanbrain.domains.sensing.actions import do_provision_device
from urbanbrain.domains.sensing.schemas import DeviceCreate

ZONE = "FT-CIVIC-PLAZA"
PLAZA = [
    [114.0590, 22.5425],
    [114.0600, 22.5425],
    [114.0600, 22.5434],
    [114.0590, 22.5434],
    [114.0590, 22.5425],
]
AREA = 2000.0
INPUTS = {"PZ-E1": ("line_counter", "entrance"), "PZ-E2": ("line_counter", "entrance"),
          "PZ-X1": ("line_counter", "exit"), "PZ-CAM1": ("crowd_camera", "camera")}  # fmt: skip


def _plaza(d) -> None:
    """The crowd device types, the plaza's counters and camera, and the zone (saved by the centre)."""
    with d.platform.db.session() as s:
        do_install_device_types(s, d.platform, SYSTEM)
        for device, (kind, _) in INPUTS.items():
            do_provision_device(s, d.platform, SYSTEM,
                                DeviceCreate(device_id=device, type_code=kind, lon=114.0595, lat=22.5430))  # fmt: skip
    d.platform.caches["sensing.pipeline"].reload()
    body = {"name": "市民中心广场", "area_m2": AREA, "capacity": 8000,
            "geometry": {"type": "Polygon", "coordinates": [PLAZA]},
            "inputs": [{"device_id": k, "role": role} for k, (_, role) in INPUTS.items()]}  # fmt: skip
    with d.api("operator") as api:
        r = api.put(f"/api/v1/crowd/zones/{ZONE}", json=body)
        assert r.status_code == 200, r.text


def _build_up(d, t0: float, minutes: int, start: float, net_per_min: float) -> None:
    """Two entrances and an exit every 10 s, the camera every 30 s (missing some in the crowd), in event time
    from ``t0``: 4,000 on the plaza and 150 more a minute reach 5 persons/m² at minute 40."""
    n, pending = start, []
    for k in range(1, minutes * 6 + 1):
        ts = t0 + 10 * k
        inflow, outflow = (net_per_min + 20) / 6, 20 / 6
        n += inflow - outflow
        pending += [d.message("PZ-E1", {"in": inflow * 0.6, "out": 0}, ts),
                    d.message("PZ-E2", {"in": inflow * 0.4, "out": 0}, ts),
                    d.message("PZ-X1", {"in": 0, "out": outflow}, ts)]  # fmt: skip
        if k % 3 == 0:
            pending.append(d.message("PZ-CAM1", {"head_count": round(n * (1 - 0.05 * n / AREA) + 3)}, ts))
        if len(pending) >= 200:
            assert d.readings(pending).status_code == 202
            pending = []
    if pending:
        assert d.readings(pending).status_code == 202
    d.platform.caches["sensing.pipeline"].drain()
    engine(d.platform).advance(t0 + minutes * 60)
    d.platform.relay.flush()


def test_a_crowd_warning_fires_and_the_plan_starts_on_the_big_screen(district, browser, watch, tmp_path,
                                                                    monkeypatch):  # fmt: skip
    monkeypatch.setattr(whatif, "AGENT_BUDGET", 15_000.0)  # a small miniature: the test's what-if is quick
    d = district
    _plaza(d)
    wall = watch.page(browser, width=1920, height=1080, token=d.token("operator"))
    wall.goto(d.base + "/")
    expect(wall.get_by_test_id("stream-state")).to_have_class(re.compile(r"\bon\b"))
    zone = wall.get_by_test_id("crowd-zone").and_(wall.locator(f"[data-zone='{ZONE}']"))
    expect(zone).to_be_visible()  # the zone is watched, no estimate yet

    _build_up(d, d.platform.clock.now().timestamp() - 3600, 32, start=4000, net_per_min=150)

    # the forecast warning on the feed, the zone yellow on the map (4.4 p/m²) and rising towards danger
    warning = wall.get_by_test_id("feed-item").and_(wall.locator(f"[data-origin='crowd:{ZONE}']"))
    expect(warning.filter(has_text="人群密度预警").first).to_be_visible()
    expect(wall.locator(f".ub-zone-label[data-zone='{ZONE}']")).to_have_attribute("data-level", "yellow")
    expect(wall.locator(f".ub-zone-label[data-zone='{ZONE}']")).to_contain_text("↑")
    expect(zone).to_have_attribute("data-level", "yellow")
    expect(zone.get_by_test_id("crowd-reaches")).to_have_text(re.compile(r"^\d+ 分钟后达 5 人/㎡$"))
    # the orange forecast started the crowd plan by itself: on the feed and in the plans panel
    incident = wall.get_by_test_id("incident").and_(wall.locator(f"[data-zone='{ZONE}']"))
    expect(incident).to_be_visible()
    expect(incident).to_contain_text("Ⅱ级")
    expect(wall.get_by_test_id("feed-item").filter(has_text="启动预案").first).to_be_visible()
    code = incident.get_attribute("data-code")
    shoot(wall, "command-centre-crowd", tmp_path)

    # the zone's drawer: the forecast chart, its open incident, and a what-if: closing the west entrance
    # (60% of the arrivals) for the next 10 minutes, simulated from the zone's state; then attached to the plan
    zone.click()
    detail = wall.get_by_test_id("zone-detail")
    expect(detail.get_by_test_id("zone-level")).to_have_attribute("data-level", "yellow")
    expect(detail.get_by_test_id("zone-forecast")).to_be_visible()
    expect(detail.get_by_test_id("zone-incident")).to_contain_text(str(code))
    detail.get_by_test_id("what-if-kind").select_option("close_entrance")
    detail.get_by_test_id("what-if-input").select_option("PZ-E1")
    detail.get_by_test_id("what-if-minutes").fill("10")
    detail.get_by_test_id("what-if-run").click()
    result = detail.get_by_test_id("what-if-result")
    expect(result).to_be_visible(timeout=180_000)  # JuPedSim, two runs side by side on a loaded machine
    expect(detail.get_by_test_id("what-if-error")).to_have_count(0)
    expect(result).to_contain_text("峰值降低")  # the measure lowers the peak
    expect(detail.get_by_test_id("what-if-start")).to_contain_text("缩比模型")  # thousands: a miniature
    peaks = [float(re.search(r"峰值 ([\d.]+)", result.get_by_test_id(k).inner_text()).group(1))
             for k in ("peak-without", "peak-with")]  # fmt: skip
    assert peaks[1] < peaks[0]
    detail.get_by_test_id("what-if-attach").click()
    expect(detail.get_by_role("status").filter(has_text="已附加到预案")).to_be_visible()
    detail.get_by_test_id("zone-open-incident").click()
    incident_detail = wall.get_by_test_id("incident-detail")
    expect(incident_detail.get_by_test_id("what-if-result")).to_be_visible()  # the plan carries the result
    tasks = incident_detail.get_by_test_id("incident-task")
    expect(tasks.and_(wall.locator("[data-department='police']")).first).to_have_attribute(
        "data-state", "assigned"
    )

    # the police handler, on a phone, acknowledges the police's first task before its deadline
    phone = watch.page(browser, width=390, height=844, token=d.token("police"))
    phone.goto(d.base + "/work/tasks")
    card = phone.get_by_test_id("task").and_(phone.locator(f"[data-incident='{code}']")).first
    expect(card.get_by_test_id("task-countdown")).to_contain_text("签收剩余")
    card.get_by_test_id("task-acknowledge").click()
    expect(phone.get_by_test_id("task-notice")).to_contain_text(str(code))
    expect(phone.locator(f"[data-incident='{code}'][data-state='acknowledged']").first).to_be_visible()
    shoot(phone, "work-tasks", tmp_path)

    # the centre sees it: the incident's drawer and the plans panel count it
    expect(tasks.and_(wall.locator("[data-state='acknowledged']")).first).to_be_visible()
    expect(incident.get_by_test_id("incident-acks")).to_contain_text(re.compile(r"签收 [1-9]\d*/"))
