"""The building fire map of Shuiwei village: every coded building on the map, coloured by its open alarms,
its open hazards and whether fire devices watch it; on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from tests.domains.sensing.conftest import site  # noqa: F401  (the fixture: fire devices in a building)

from .conftest import BASE, SHUIWEI_COMMUNITY, SHUIWEI_VILLAGE

MAP = f"/villages/{SHUIWEI_VILLAGE}/fire-map"


def _by_code(fire_map: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f["id"]: f["properties"] for f in fire_map["features"]}


def test_every_village_building_is_on_the_map_and_the_watched_one_is_monitored(grid, site):  # noqa: F811
    fire_map = grid.call("GET", "operator", MAP)
    total = grid.client.get(
        "/api/v1/registry/buildings", headers=grid.head("admin"), params={"village_code": SHUIWEI_VILLAGE}
    ).json()["total"]
    assert fire_map["type"] == "FeatureCollection"
    assert len(fire_map["features"]) == total == 318
    assert all(f["geometry"]["type"] in ("Polygon", "MultiPolygon", "Point") for f in fire_map["features"])

    watched = _by_code(fire_map)[site.building]
    assert (watched["devices"], watched["open_alarms"], watched["level"]) == (4, 0, None)
    assert watched["status"] == "monitored"
    summary = fire_map["properties"]
    assert summary["village_code"] == SHUIWEI_VILLAGE and summary["buildings"] == 318
    assert summary["by_status"]["monitored"] == 1
    assert summary["by_status"]["unmonitored"] == 317
    assert sum(summary["by_status"].values()) == 318


def test_a_residual_current_alarm_colours_the_building_orange(grid, site):  # noqa: F811
    r = site.send([site.message("EFM-1", {"residual_current_ma": 350.0, "cable_temp_c": 35.0})])
    assert r.status_code == 202, r.text
    site.settle()
    fire_map = grid.call("GET", "worker", MAP)
    watched = _by_code(fire_map)[site.building]
    assert (watched["open_alarms"], watched["level"], watched["status"]) == (1, "orange", "orange")
    assert fire_map["properties"]["by_status"]["orange"] == 1


def test_a_hazard_marks_the_building_until_it_is_closed(grid):
    b = grid.buildings(2)[1]["code"]
    h = grid.inspect("worker", b, ("ebike_charging", "楼道内电动车充电"))["hazards"][0]
    building = _by_code(grid.call("GET", "street", MAP))[b]
    assert (building["open_hazards"], building["status"]) == (1, "hazard")

    h = grid.rectify("worker", h, note="电动车已移至集中充电点")
    assert _by_code(grid.call("GET", "street", MAP))[b]["status"] == "hazard"  # until re-inspected

    grid.reinspect("street", h, True)
    building = _by_code(grid.call("GET", "street", MAP))[b]
    assert (building["open_hazards"], building["status"]) == (0, "unmonitored")


def test_an_unknown_village_is_not_found(grid):
    for code in ("NO-SUCH-VILLAGE", SHUIWEI_COMMUNITY):  # a community is an area, but not a village
        r = grid.call("GET", "operator", f"/villages/{code}/fire-map", 404)
        assert r["code"] == "fire_safety.village_not_found"
        assert code in r["messages"]["zh-CN"] and code in r["messages"]["en"]


def test_the_map_needs_a_login_the_permission_and_the_area(grid):
    r = grid.client.get(BASE + MAP)
    assert r.status_code == 401, r.text
    assert grid.call("GET", "handler", MAP, 403)["code"] == "auth.forbidden"
    assert grid.call("GET", "outsider", MAP, 403)["code"] == "auth.out_of_scope"
