"""Statistics as the street's fire-safety office reads them: what was found and closed, by type and by
community, and how much was rectified on time."""

from datetime import timedelta

from .conftest import SHUIWEI_COMMUNITY

WEEK = {"from": "2018-07-09T00:00:00+08:00", "to": "2018-07-16T00:00:00+08:00"}


def test_statistics_count_found_and_rectified_by_type(grid, clock):
    b1, b2 = grid.buildings(2)
    e1, e2, wiring, extinguisher = grid.inspect(
        "worker",
        b1["code"],
        ("ebike_charging", "楼道停放电动车"),
        ("ebike_charging", "室内充电"),
        ("private_wiring", "私拉电线"),
        ("extinguisher", "灭火器过期", "major"),
    )["hazards"]
    grid.inspect("worker", b2["code"])  # passed

    e1 = grid.reinspect("worker", grid.rectify("worker", e1, note="已移走"), True)  # on time
    wiring = grid.reinspect("worker", grid.rectify("worker", wiring, note="已拆除"), False, note="仍有飞线")
    clock.advance(timedelta(days=2))  # Wednesday: e2's last day (Tuesday) is over
    e2 = grid.reinspect("worker", grid.rectify("worker", e2, note="已移走"), True)  # closed, but late
    wiring = grid.reinspect("worker", grid.rectify("worker", wiring, note="重新布线"), True)  # on time
    assert [h["state"] for h in (e1, e2, wiring)] == ["closed"] * 3

    stats = grid.call("GET", "street", "/statistics", params=WEEK)
    assert stats["inspections"] == {
        "total": 6,
        "routine": 2,
        "re_inspection": 4,
        "passed": 4,
        "hazards_found": 2,
    }
    totals = stats["hazards"]
    assert (totals["found"], totals["closed"], totals["closed_on_time"], totals["open"]) == (4, 3, 2, 1)
    assert (totals["overdue"], totals["failures"], totals["major"]) == (0, 1, 1)
    assert totals["on_time_rate"] == round(2 / 3, 4)

    by_type = {t["type_code"]: t for t in stats["by_type"]}
    assert len(by_type) == 8 and by_type["gas_safety"]["found"] == 0
    ebike = by_type["ebike_charging"]
    assert ebike["name"] == {
        "zh-CN": "电动自行车违规停放充电",
        "en": "Electric bikes parked or charged indoors",
    }
    assert (ebike["found"], ebike["closed"], ebike["closed_on_time"], ebike["on_time_rate"]) == (2, 2, 1, 0.5)
    wiring_row = by_type["private_wiring"]
    assert (
        wiring_row["found"],
        wiring_row["closed"],
        wiring_row["failures"],
        wiring_row["on_time_rate"],
    ) == (1, 1, 1, 1.0)
    ext = by_type["extinguisher"]
    assert (ext["found"], ext["open"], ext["closed"], ext["on_time_rate"]) == (1, 1, 0, None)

    assert [c["community_code"] for c in stats["by_community"]] == [SHUIWEI_COMMUNITY]
    assert (stats["by_community"][0]["inspections"], stats["by_community"][0]["found"]) == (6, 4)

    # The grid worker's own view is the same; a later period holds none of it.
    assert grid.call("GET", "worker", "/statistics", params=WEEK)["hazards"] == totals
    later = grid.call(
        "GET", "operator", "/statistics", params={"from": "2018-07-12T00:00:00+08:00", "to": WEEK["to"]}
    )
    assert later["hazards"]["found"] == 0 and later["inspections"]["total"] == 0


def test_overdue_hazards_are_counted_until_rectified(grid, clock):
    b = grid.buildings(1)[0]
    grid.inspect(
        "worker", b["code"], ("blocked_escape", "消防通道堆放杂物"), ("gas_safety", "燃气管私自改装")
    )
    clock.advance(timedelta(days=2))
    stats = grid.call("GET", "operator", "/statistics", params={"community": SHUIWEI_COMMUNITY})
    assert (stats["hazards"]["found"], stats["hazards"]["overdue"], stats["hazards"]["open"]) == (2, 1, 2)
    assert {t["type_code"]: t["overdue"] for t in stats["by_type"] if t["found"]} == {
        "blocked_escape": 1,
        "gas_safety": 0,
    }
