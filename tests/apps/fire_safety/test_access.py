"""Who may do what: a grid worker only in its community, reviewers re-inspect but do not record, and bad
input is refused with a machine code and a sentence in Chinese and English."""

from .conftest import SHUIWEI_COMMUNITY


def _refused(r: dict, code: str) -> None:
    assert r["code"] == code, r
    assert r["messages"]["zh-CN"] and r["messages"]["en"]


def test_a_grid_worker_outside_the_community_is_refused(grid):
    b = grid.buildings(1)[0]
    _refused(grid.inspect("outsider", b["code"], ("other", "x"), expect=403), "auth.out_of_scope")
    h = grid.inspect("worker", b["code"], ("gas_safety", "液化气罐放在厨房门口"))["hazards"][0]
    _refused(grid.hazard("outsider", h["code"], expect=403), "auth.out_of_scope")
    _refused(grid.rectify("outsider", h, expect=403), "auth.out_of_scope")
    assert grid.call("GET", "outsider", "/hazards")["total"] == 0
    assert grid.call("GET", "outsider", "/inspections")["total"] == 0
    stats = grid.call("GET", "outsider", "/statistics", 403, params={"community": SHUIWEI_COMMUNITY})
    _refused(stats, "auth.out_of_scope")
    assert grid.call("GET", "worker", "/hazards")["total"] == 1


def test_reviewers_see_and_reinspect_but_do_not_record(grid):
    b = grid.buildings(1)[0]
    h = grid.inspect("worker", b["code"], ("emergency_lighting", "安全出口指示灯不亮"))["hazards"][0]
    for who in ("street", "operator"):
        assert grid.call("GET", who, "/hazards")["total"] == 1
        _refused(grid.inspect(who, b["code"], expect=403), "auth.forbidden")
        _refused(grid.rectify(who, h, expect=403), "auth.forbidden")
    h = grid.rectify("worker", h, note="已更换指示灯")
    h = grid.reinspect("operator", h, True)
    assert h["state"] == "closed"
    _refused(grid.call("GET", "handler", "/hazards", 403), "auth.forbidden")


def test_bad_input_is_refused_with_a_code(grid):
    b = grid.buildings(1)[0]["code"]
    for body, status, code in [
        (
            {
                "target_kind": "building",
                "target_code": b,
                "hazards": [{"type_code": "fireworks", "description": "x"}],
            },
            422,
            "fire_safety.unknown_hazard_type",
        ),
        ({"target_kind": "building", "target_code": "NO-SUCH-BUILDING"}, 404, "not_found"),
        ({"target_kind": "ship", "target_code": b}, 422, "request.invalid"),
        (
            {
                "target_kind": "building",
                "target_code": b,
                "hazards": [{"type_code": "other", "description": " "}],
            },
            422,
            "request.invalid",
        ),
        (
            {
                "target_kind": "building",
                "target_code": b,
                "hazards": [{"type_code": "other", "description": "x", "severity": "huge"}],
            },
            422,
            "request.invalid",
        ),
    ]:
        _refused(grid.call("POST", "worker", "/inspections", status, json=body), code)
    assert grid.call("GET", "worker", "/inspections")["total"] == 0  # nothing half-written

    h = grid.inspect("worker", b, ("other", "配电箱周边堆放可燃物"))["hazards"][0]
    _refused(grid.reinspect("worker", h, True, expect=409), "fire_safety.transition_not_allowed")
    fresh = grid.rectify("worker", h, note="已清理")
    _refused(grid.rectify("worker", h, expect=409), "stale")  # the version read before the rectification
    _refused(grid.reinspect("worker", fresh, False, expect=422), "fire_safety.note_required")
    _refused(grid.reinspect("worker", fresh, False, note="x", deadline_days=0, expect=422), "request.invalid")
    _refused(grid.hazard("worker", "YH-20180709-9999", expect=404), "fire_safety.hazard_not_found")
    _refused(
        grid.call("GET", "worker", "/hazards", 422, params={"type": "fireworks"}),
        "fire_safety.unknown_hazard_type",
    )
    period = {"from": "2018-07-10T00:00:00+08:00", "to": "2018-07-09T00:00:00+08:00"}
    _refused(grid.call("GET", "worker", "/statistics", 422, params=period), "fire_safety.bad_period")
