"""An incident's life on one shared timeline: start, tasks, acknowledgements, notes, a level change, an
attached what-if, the stand-down that closes every open task; and the plans an admin edits."""

from datetime import timedelta

WHAT_IF = {
    "measure": "meter entrance E2 to 30 persons/min",
    "peak_density": {"without": 5.8, "with": 4.1},
    "minutes": 30,
}


def test_the_timeline_holds_every_step_in_order_and_stand_down_closes_open_tasks(desk, clock):
    incident = desk.start("blue", note="灯光秀 19:30 开始")
    ref = incident["code"]
    patrol = desk.task(incident, "police_patrol")
    clock.advance(timedelta(minutes=1))
    desk.call("POST", "police", f"/tasks/{patrol['id']}/acknowledge", json={})
    clock.advance(timedelta(minutes=1))
    desk.call("POST", "police", f"/tasks/{patrol['id']}/notes", json={"note": "已在东、西入口布置警力"})
    clock.advance(timedelta(minutes=1))
    desk.call("POST", "operator", f"/incidents/{ref}/escalate", json={"level": "yellow", "note": "密度上升"})
    clock.advance(timedelta(minutes=1))
    attached = desk.call(
        "POST", "operator", f"/incidents/{ref}/attachments", 201,
        json={"kind": "what_if", "title": "E2 入口限流推演", "data": WHAT_IF},
    )  # fmt: skip
    assert attached["attachments"][0]["data"] == WHAT_IF
    clock.advance(timedelta(minutes=1))
    desk.call("POST", "police", f"/tasks/{patrol['id']}/done", json={})
    clock.advance(timedelta(minutes=1))
    done = desk.call(
        "POST", "operator", f"/incidents/{ref}/stand_down", json={"note": "人群已疏散，解除响应"}
    )

    assert (done["state"], done["state_group"], done["allowed_actions"]) == ("stood_down", "closed", [])
    states = {t["key"]: t["state"] for t in done["tasks"]}
    assert states.pop("police_patrol") == "done"
    assert set(states.values()) == {"stood_down"}
    kinds = [e["kind"] for e in done["timeline"]]
    assert kinds == (
        ["started"] + ["task_assigned"] * 3 + ["acknowledged", "note", "level_changed"]
        + ["task_assigned"] * 2 + ["attachment", "done", "stood_down"]
    )  # fmt: skip
    times = [e["at"] for e in done["timeline"]]
    assert times == sorted(times)
    assert done["timeline"][0]["note"] == "灯光秀 19:30 开始"
    assert done["timeline"][-1]["note"] == "人群已疏散，解除响应"
    assert desk.inbox("health", "linkage.incident.stood_down")  # every department hears it ended

    again = desk.call("POST", "operator", f"/incidents/{ref}/escalate", 409, json={"level": "red"})
    assert again["code"] == "linkage.incident_transition_not_allowed"
    assert "stood_down" in again["messages"]["zh-CN"] and "cannot 'escalate'" in again["messages"]["en"]
    late = desk.call(
        "POST", "health", f"/tasks/{desk.task(done, 'medical_standby')['id']}/acknowledge", 409, json={}
    )
    assert late["code"] == "linkage.task_transition_not_allowed"
    assert desk.call("GET", "operator", "/incidents", params={"state": "open"})["items"] == []
    assert desk.call("GET", "operator", "/incidents", params={"state": "closed"})["total"] == 1


def test_task_steps_follow_the_workflow(desk):
    incident = desk.start("yellow")
    task = desk.task(incident, "medical_standby")
    early = desk.call("POST", "health", f"/tasks/{task['id']}/done", 409, json={})
    assert early["code"] == "linkage.task_transition_not_allowed"
    desk.call("POST", "health", f"/tasks/{task['id']}/acknowledge", json={})
    empty = desk.call("POST", "health", f"/tasks/{task['id']}/notes", 422, json={"note": " "})
    assert empty["code"] == "request.invalid"
    stale = desk.call("POST", "health", f"/tasks/{task['id']}/done", 409, json={"version": 1})
    assert stale["code"] == "stale"
    states = desk.call("GET", "health", "/states")
    assert [t["name"] for t in states["task"]["transitions"]] == ["acknowledge", "report", "complete"]


def test_plans_are_data_an_admin_edits(desk):
    [crowd] = desk.call("GET", "operator", "/plans")
    assert (crowd["code"], crowd["edited"], crowd["version"], crowd["auto_start_level"]) == (
        "crowd", False, 0, "orange",
    )  # fmt: skip
    assert crowd["levels"]["blue"] == ["police_patrol", "street_guides", "clear_passages"]
    assert len(crowd["levels"]["red"]) == len(crowd["tasks"]) == 10

    body = {k: crowd[k] for k in ("name", "auto_start_level", "radius_m", "instruction", "tasks")}
    body["tasks"] = [dict(t, ack_minutes=3) if t["key"] == "police_patrol" else t for t in body["tasks"]]
    forbidden = desk.call("PUT", "operator", "/plans/crowd", 403, json=body)
    assert forbidden["code"] == "auth.forbidden"
    saved = desk.call("PUT", "admin", "/plans/crowd", json=body)
    assert (saved["edited"], saved["version"]) == (True, 1)
    assert desk.call("PUT", "admin", "/plans/crowd", 409, json={**body, "version": 7})["code"] == "stale"

    incident = desk.start("blue")
    patrol = desk.task(incident, "police_patrol")
    assert patrol["ack_deadline"] > patrol["assigned_at"]
    minutes = (
        desk.platform.clock.now().fromisoformat(patrol["ack_deadline"])
        - desk.platform.clock.now().fromisoformat(patrol["assigned_at"])
    ).total_seconds() / 60
    assert minutes == 3

    bad = dict(body, tasks=[dict(body["tasks"][0], department="no_such_bureau")])
    wrong = desk.call("PUT", "admin", "/plans/flood", 422, json=bad)
    assert wrong["code"] == "linkage.unknown_department"
    assert "no_such_bureau" in wrong["messages"]["zh-CN"] and "does not exist" in wrong["messages"]["en"]
    unknown = desk.start("blue", zone="elsewhere", expect=404, incident_type="flood")
    assert unknown["code"] == "linkage.unknown_plan" and "crowd" in unknown["messages"]["en"]
