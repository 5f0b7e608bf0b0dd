"""The hazard loop through HTTP, as a grid worker in Shuiwei village lives it: inspect, record hazards with
their deadlines, report rectification, re-inspect (fail, then pass) until the hazard is closed (销号)."""

from datetime import UTC, datetime, timedelta, timezone

from sqlalchemy import select

from urbanbrain.core.models import AuditEntry, OutboxEvent

from .conftest import SHUIWEI_COMMUNITY

CST = timezone(timedelta(hours=8))


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def test_grid_worker_records_an_inspection_with_hazards_and_their_deadlines(grid):
    b = grid.buildings(1)[0]
    inspection = grid.inspect(
        "worker",
        b["code"],
        ("ebike_charging", "一楼楼梯间停放电动车并拉线充电"),
        ("private_wiring", "出租屋私拉电线", "major"),
    )
    assert inspection["code"] == "JC-20180709-0001"
    assert inspection["result"] == "hazards_found" and inspection["kind"] == "routine"
    assert inspection["community_code"] == SHUIWEI_COMMUNITY and inspection["building_code"] == b["code"]
    ebike, wiring = inspection["hazards"]
    assert [ebike["code"], wiring["code"]] == ["YH-20180709-0001", "YH-20180709-0002"]
    # Found Monday 9 July 08:00 in Shenzhen: one day means all of Tuesday, three days all of Thursday.
    assert ebike["deadline_date"] == "2018-07-10" and at(ebike["deadline"]) == datetime(
        2018, 7, 11, tzinfo=CST
    )
    assert wiring["deadline_date"] == "2018-07-12" and at(wiring["deadline"]) == datetime(
        2018, 7, 13, tzinfo=CST
    )
    assert ebike["type"]["name"] == {
        "zh-CN": "电动自行车违规停放充电",
        "en": "Electric bikes parked or charged indoors",
    }
    assert ebike["state"] == "open" and ebike["state_name"]["zh-CN"] == "待整改" and ebike["overdue"] is False
    assert wiring["severity"] == "major" and wiring["severity_name"]["zh-CN"] == "重大隐患"
    assert (ebike["lon"], ebike["lat"]) == (b["lon"], b["lat"])

    detail = grid.hazard("worker", ebike["code"])
    assert detail["inspection_code"] == inspection["code"]
    assert [h["transition"] for h in detail["history"]] == ["found"]
    assert detail["allowed_actions"] == ["escalate", "rectify"]
    with grid.platform.db.session() as s:
        kinds = s.scalars(select(OutboxEvent.type).where(OutboxEvent.type.like("fire_safety.%"))).all()
        audit = s.scalars(select(AuditEntry.action).where(AuditEntry.action.like("fire_safety.%"))).all()
    assert sorted(kinds) == ["fire_safety.hazard.found"] * 2 + ["fire_safety.inspection.recorded"]
    assert sorted(audit) == ["fire_safety.hazard.find"] * 2 + ["fire_safety.inspection.record"]


def test_an_inspection_without_hazards_passes(grid):
    b = grid.buildings(1)[0]
    inspection = grid.inspect("worker", b["code"])
    assert inspection["result"] == "pass" and inspection["hazards"] == []
    listed = grid.call("GET", "operator", "/inspections", params={"building": b["code"]})
    assert [i["code"] for i in listed["items"]] == [inspection["code"]]


def test_a_venue_hazard_belongs_to_the_venue_and_its_building(grid):
    venues = grid.client.get(
        "/api/v1/registry/venues",
        headers=grid.head("admin"),
        params={"community_code": SHUIWEI_COMMUNITY, "kind": "small_shop", "page_size": 50},
    ).json()["items"]
    venue = next(v for v in venues if v["building_code"])
    found = grid.inspect("worker", venue["code"], ("living_in_workplace", "店铺阁楼住人"), kind="venue")
    h = found["hazards"][0]
    assert h["target_kind"] == "venue" and h["venue_code"] == venue["code"]
    assert h["building_code"] == venue["building_code"] and h["deadline_date"] == "2018-07-12"
    by_building = grid.call("GET", "worker", "/hazards", params={"building": venue["building_code"]})
    assert [x["code"] for x in by_building["items"]] == [h["code"]]


def test_rectification_fails_reinspection_once_then_closes(grid, clock):
    b = grid.buildings(1)[0]
    h = grid.inspect("worker", b["code"], ("blocked_escape", "楼道堆放杂物堵塞疏散通道"))["hazards"][0]
    clock.advance(timedelta(hours=5))
    h = grid.rectify("worker", h, note="杂物已清走")
    assert h["state"] == "rectified" and h["state_name"]["en"] == "Rectified, awaiting re-inspection"
    assert h["allowed_actions"] == ["escalate", "reinspect_fail", "reinspect_pass"]

    clock.advance(timedelta(days=1))  # Tuesday 13:00: the re-inspection finds it blocked again
    h = grid.reinspect("worker", h, False, note="通道又停满电动车")
    assert h["state"] == "open" and h["failures"] == 1 and h["rectified_at"] is None
    assert h["deadline_date"] == "2018-07-11"  # one more day, counted from the re-inspection
    assert h["history"][-1]["deadline"] == h["deadline"]

    h = grid.rectify("worker", h, note="已清理并加装隔离栏")
    h = grid.reinspect("street", h, True, note="复查通过")
    assert h["state"] == "closed" and h["state_group"] == "closed" and h["closed_at"]
    assert h["allowed_actions"] == [] and h["failures"] == 1
    assert [x["transition"] for x in h["history"]] == [
        "found",
        "rectify",
        "reinspect_fail",
        "rectify",
        "reinspect_pass",
    ]
    assert h["history"][2]["note"] == "通道又停满电动车"
    visits = grid.call("GET", "operator", "/inspections", params={"kind": "re_inspection"})["items"]
    assert [(v["result"], v["hazard_code"]) for v in visits] == [
        ("pass", h["code"]),
        ("hazards_found", h["code"]),
    ]
    assert [v["code"] for v in visits] == [x["inspection_code"] for x in reversed(h["history"][2::2])]
    with grid.platform.db.session() as s:
        kinds = s.scalars(select(OutboxEvent.type).where(OutboxEvent.type.like("fire_safety.hazard.%"))).all()
    assert sorted(kinds) == sorted(
        ["fire_safety.hazard.found", "fire_safety.hazard.reopened", "fire_safety.hazard.closed"]
        + ["fire_safety.hazard.rectified"] * 2
    )


def test_hazard_types_and_states_are_data(grid):
    types = grid.call("GET", "worker", "/hazard-types")
    by_code = {t["code"]: t for t in types}
    assert len(types) == 8 and list(by_code)[-1] == "other"
    assert (by_code["blocked_escape"]["name"]["zh-CN"], by_code["blocked_escape"]["deadline_days"]) == (
        "消防通道堵塞",
        1,
    )
    assert (by_code["extinguisher"]["name"]["zh-CN"], by_code["extinguisher"]["deadline_days"]) == (
        "灭火器缺失或过期",
        7,
    )
    assert by_code["living_in_workplace"]["name"]["zh-CN"] == "三合一场所违规住人"
    states = grid.call("GET", "worker", "/states")
    assert {s["code"]: s["group"] for s in states["states"]} == {
        "open": "open",
        "rectified": "open",
        "closed": "closed",
    }
    fail = next(t for t in states["transitions"] if t["name"] == "reinspect_fail")
    assert (fail["from"], fail["to"], fail["rules"]) == (["rectified"], "open", ["require_note"])
