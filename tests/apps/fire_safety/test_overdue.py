"""Deadlines on the simulated clock: the sweep marks an open hazard overdue once, escalates a major one to
a case of the right fire class, and a grid worker may escalate what is major or overdue, once."""

from datetime import timedelta

from sqlalchemy import func, select

from urbanbrain.core.models import OutboxEvent

from .conftest import SHUIWEI_COMMUNITY


def _events(grid, kind: str) -> int:
    with grid.platform.db.session() as s:
        return s.scalar(select(func.count()).where(OutboxEvent.type == kind))


def test_overdue_sweep_flags_once_and_escalates_a_major_hazard(grid, clock):
    b = grid.buildings(1)[0]
    major, ebike, extinguisher = grid.inspect(
        "worker",
        b["code"],
        ("blocked_escape", "消防通道被铁门锁死", "major"),
        ("ebike_charging", "门口飞线充电"),
        ("extinguisher", "灭火器过期"),
    )["hazards"]
    clock.advance(timedelta(hours=39, minutes=59))  # Tuesday 23:59: the last allowed day is not over
    assert grid.sweep() == {"overdue": 0, "escalated": 0}
    clock.advance(timedelta(minutes=1))
    assert grid.sweep() == {"overdue": 2, "escalated": 1}
    assert grid.sweep() == {"overdue": 0, "escalated": 0}  # once only
    assert _events(grid, "fire_safety.hazard.overdue") == 2
    assert _events(grid, "fire_safety.hazard.escalated") == 1

    major = grid.hazard("operator", major["code"])
    assert major["overdue"] is True and major["overdue_at"]
    assert [h["transition"] for h in major["history"]] == ["found", "overdue", "escalate"]
    assert major["case_number"].startswith("440304-E0702-")
    case = grid.client.get(f"/api/v1/cases/{major['case_number']}", headers=grid.head("operator")).json()
    assert (case["category_code"], case["source"], case["department_code"]) == ("E0702", "grid", "fire")
    assert (case["lon"], case["lat"], case["community_code"]) == (b["lon"], b["lat"], SHUIWEI_COMMUNITY)
    assert major["code"] in case["description"] and case["state"] == "dispatched"

    overdue = grid.call("GET", "worker", "/hazards", params={"overdue": True})["items"]
    assert {h["code"] for h in overdue} == {major["code"], ebike["code"]}
    on_time = grid.call("GET", "worker", "/hazards", params={"overdue": False})["items"]
    assert [h["code"] for h in on_time] == [extinguisher["code"]]

    # The general hazard was not escalated by the sweep, but, overdue, may be by hand; once.
    ebike = grid.hazard("worker", ebike["code"])
    assert ebike["overdue"] is True and ebike["case_number"] is None
    ebike = grid.escalate("worker", ebike, note="业主拒不整改")
    assert ebike["case_number"].startswith("440304-E0704-") and ebike["state"] == "open"
    r = grid.escalate("worker", ebike, expect=409)
    assert r["code"] == "fire_safety.already_escalated" and ebike["case_number"] in r["messages"]["en"]
    r = grid.escalate("worker", extinguisher, expect=409)  # general and in time
    assert r["code"] == "fire_safety.not_escalatable"


def test_a_major_hazard_can_be_escalated_at_once(grid):
    b = grid.buildings(1)[0]
    h = grid.inspect("worker", b["code"], ("private_wiring", "电表箱私拉乱接，线路发热", "major"))["hazards"][
        0
    ]
    h = grid.escalate("street", h, note="线路隐患严重，请消防大队介入")
    assert h["case_number"].startswith("440304-E0703-") and h["escalated_at"]
    assert h["history"][-1]["transition"] == "escalate"


def test_a_failed_reinspection_restarts_the_deadline_and_can_go_overdue_again(grid, clock):
    b = grid.buildings(1)[0]
    h = grid.inspect("worker", b["code"], ("ebike_charging", "楼道充电"))["hazards"][0]
    clock.advance(timedelta(days=2))
    assert grid.sweep()["overdue"] == 1
    h = grid.rectify("worker", grid.hazard("worker", h["code"]), note="已搬走")
    h = grid.reinspect("worker", h, False, note="又搬回来了", deadline_days=2)
    assert h["overdue"] is False and h["overdue_at"] is None and h["deadline_date"] == "2018-07-13"
    clock.advance(timedelta(days=3))
    assert grid.sweep()["overdue"] == 1
    h = grid.hazard("worker", h["code"])
    assert [x["transition"] for x in h["history"]].count("overdue") == 2
