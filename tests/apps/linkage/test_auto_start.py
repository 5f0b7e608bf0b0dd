"""A crowd warning starts the plan by itself: once per zone while its incident is open, a higher warning
raises the level, and warnings below the plan's auto-start level start nothing."""

from urbanbrain.core.notify import CENTRE


def _open(desk, zone=None):
    params = {"state": "open", **({"zone": zone} if zone else {})}
    return desk.call("GET", "operator", "/incidents", params=params)["items"]


def test_a_crowd_warning_starts_the_plan_once_per_zone_and_a_higher_one_raises_it(desk):
    desk.raise_alarm(101, "yellow", "civic_plaza")  # below the plan's auto-start level (orange)
    assert _open(desk) == []

    desk.raise_alarm(102, "orange", "civic_plaza")
    [incident] = _open(desk)
    assert (incident["zone_code"], incident["level"], incident["alarm_id"]) == ("civic_plaza", "orange", 102)
    assert incident["started_by"] == "system:linkage"
    assert incident["tasks_total"] == 8  # blue, yellow and orange tasks, all at once

    desk.raise_alarm(103, "orange", "civic_plaza")  # the same zone again: no second incident
    desk.raise_alarm(104, "yellow", "civic_plaza")
    [same] = _open(desk)
    assert (same["id"], same["level"]) == (incident["id"], "orange")

    desk.raise_alarm(105, "red", "civic_plaza")  # higher: the level rises and the red tasks go out
    [raised] = _open(desk)
    assert (raised["id"], raised["level"], raised["tasks_total"]) == (incident["id"], "red", 10)
    detail = desk.incident(incident["id"])
    assert [e["level"] for e in detail["timeline"] if e["kind"] == "level_changed"] == ["red"]
    assert "105" in next(e["note"] for e in detail["timeline"] if e["kind"] == "level_changed")
    assert len(desk.inbox(CENTRE, "linkage.incident.escalated")) == 1

    desk.raise_alarm(106, "orange", "futian_metro_exit")  # another zone: its own incident
    assert {i["zone_code"] for i in _open(desk)} == {"civic_plaza", "futian_metro_exit"}


def test_the_zone_falls_back_to_the_origin_and_other_alarms_are_ignored(desk):
    desk.raise_alarm(201, "red", "", alarm_type="smoke.detected")  # no plan for smoke alarms
    assert _open(desk) == []
    desk.raise_alarm(202, "red", "", origin="crowd:shennan_road")  # no zone in the detail: the origin's
    [incident] = _open(desk)
    assert incident["zone_code"] == "shennan_road"


def test_after_stand_down_a_new_warning_starts_a_new_incident(desk):
    desk.raise_alarm(301, "orange", "civic_plaza")
    [first] = _open(desk)
    desk.call("POST", "operator", f"/incidents/{first['id']}/stand_down", json={"note": "人群已疏散"})
    desk.raise_alarm(302, "orange", "civic_plaza")
    [second] = _open(desk)
    assert second["id"] != first["id"] and second["alarm_id"] == 302
