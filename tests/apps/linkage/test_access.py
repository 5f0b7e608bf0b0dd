"""Who may do what: the centre runs incidents; a department's handler sees and works only its own tasks
and the incidents it has a part in; a grid worker has no part in linkage."""


def test_a_handler_cannot_see_or_acknowledge_another_departments_task(desk):
    incident = desk.start("yellow")
    medical = desk.task(incident, "medical_standby")

    mine = desk.call("GET", "police", "/tasks")["items"]
    assert {t["department_code"] for t in mine} == {"police"} and len(mine) == 2
    refused = desk.call("GET", "police", "/tasks", 403, params={"department": "health"})
    assert refused["code"] == "auth.out_of_scope"
    assert desk.call("GET", "police", f"/tasks/{medical['id']}", 403)["code"] == "auth.out_of_scope"
    ack = desk.call("POST", "police", f"/tasks/{medical['id']}/acknowledge", 403, json={})
    assert ack["code"] == "auth.out_of_scope"
    assert "管辖范围" in ack["messages"]["zh-CN"] and "data scope" in ack["messages"]["en"]
    assert desk.call("GET", "health", f"/tasks/{medical['id']}")["state"] == "assigned"

    # The police work this incident: they read its shared timeline; traffic has no task yet, so it does not.
    assert desk.incident(incident["code"], who="police")["code"] == incident["code"]
    assert desk.incident(incident["code"], who="traffic", expect=403)["code"] == "auth.out_of_scope"
    assert desk.call("GET", "traffic", "/incidents")["total"] == 0
    assert desk.call("GET", "operator", "/tasks", params={"department": "health"})["total"] == 1


def test_only_the_centre_runs_incidents(desk):
    incident = desk.start("blue")
    for who, path, body in [
        (
            "police",
            "/incidents",
            {"incident_type": "crowd", "level": "blue", "title": "x", "lon": 114.0, "lat": 22.5},
        ),
        ("police", f"/incidents/{incident['code']}/escalate", {"level": "red"}),
        ("police", f"/incidents/{incident['code']}/stand_down", {"note": "x"}),
    ]:
        assert desk.call("POST", who, path, 403, json=body)["code"] == "auth.forbidden"
    assert desk.call("GET", "grid", "/incidents", 403)["code"] == "auth.forbidden"
    missing = desk.incident("YJ-20990101-0001", expect=404)
    assert missing["code"] == "linkage.incident_not_found" and "找不到" in missing["messages"]["zh-CN"]
