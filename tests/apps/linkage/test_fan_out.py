"""Starting a plan: every department in it gets its task at the same instant and one note in its inbox;
escalating adds the higher levels' tasks, again all at once."""

from datetime import timedelta

from .conftest import SHUIWEI_STREET_OFFICE


def test_every_department_gets_its_task_at_the_same_instant(desk):
    incident = desk.start("yellow")
    assert incident["code"].startswith("YJ-20180709-")
    assert (incident["level"], incident["response_level"], incident["state"]) == ("yellow", "III", "active")
    tasks = incident["tasks"]
    assert sorted((t["department_code"], t["key"]) for t in tasks) == [
        ("health", "medical_standby"),
        ("police", "control_entrances"),
        ("police", "police_patrol"),
        (SHUIWEI_STREET_OFFICE, "street_guides"),  # @street: the street office of the incident's area
        ("urban_management", "clear_passages"),
    ]
    assert len({t["assigned_at"] for t in tasks}) == 1
    assert all(t["state"] == "assigned" and not t["overdue"] for t in tasks)

    for department in {t["department_code"] for t in tasks}:
        assert len(desk.inbox(department, "linkage.task.assigned")) == 1, department
    # The police read it on their workbench: one note listing both their tasks.
    notes = desk.client.get("/api/v1/notifications", headers=desk.head("police")).json()
    mine = [n for n in notes if n["kind"] == "linkage.task.assigned"]
    assert len(mine) == 1 and "控制各入口" in mine[0]["body"] and "加强现场巡逻" in mine[0]["body"]


def test_escalation_adds_the_higher_levels_tasks_at_one_instant(desk, clock):
    incident = desk.start("yellow")
    first = {t["id"]: t["assigned_at"] for t in incident["tasks"]}
    clock.advance(timedelta(minutes=3))
    up = desk.call("POST", "operator", f"/incidents/{incident['code']}/escalate", json={"level": "II"})
    assert (up["level"], up["response_level"], up["first_level"]) == ("orange", "II", "yellow")
    added = [t for t in up["tasks"] if t["id"] not in first]
    assert sorted(t["key"] for t in added) == ["close_roads", "command_post", "metro_exits"]
    assert len({t["assigned_at"] for t in added}) == 1
    assert added[0]["assigned_at"] > max(first.values())
    assert {t["id"]: t["assigned_at"] for t in up["tasks"] if t["id"] in first} == first  # nothing re-sent
    assert len(desk.inbox("traffic", "linkage.task.assigned")) == 1
    assert len(desk.inbox("police", "linkage.task.assigned")) == 1  # no new police task at orange

    same = desk.call(
        "POST", "operator", f"/incidents/{incident['code']}/escalate", 409, json={"level": "orange"}
    )
    assert same["code"] == "linkage.not_higher"
    assert "更高级别" in same["messages"]["zh-CN"] and "must go up" in same["messages"]["en"]


def test_a_zone_has_one_open_incident(desk):
    first = desk.start("blue")
    again = desk.start("red", expect=409)
    assert again["code"] == "linkage.zone_has_open_incident"
    assert first["code"] in again["messages"]["zh-CN"] and first["code"] in again["messages"]["en"]
    desk.start("blue", zone="futian_metro_exit")  # another zone is another incident
