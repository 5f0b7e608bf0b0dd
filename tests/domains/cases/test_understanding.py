"""What intake makes of a citizen's words, through the ordinary API and the Open311 door, on every backend:
a consultation gets its answer, an emergency is told to call and flagged to the centre, an address in words
is placed on the map, a place nobody can find waits for a dispatcher, and a class owned by the place's office
goes to the office of that place."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from tests.domains.cases.conftest import SHUIWEI
from urbanbrain.core.models import OutboxEvent
from urbanbrain.domains.registry import spatial

BASE = "/open311/v2"
OPEN311_KEY_SCOPES = ["open311"]


def _key(api: Any) -> str:
    r = api.client.post(
        "/api/v1/auth/api-keys",
        headers=api.user("admin"),
        json={"name": "hotline", "scopes": OPEN311_KEY_SCOPES},
    )
    assert r.status_code == 201, r.text
    return str(r.json()["key"])


def _open311(api: Any, key: str, **fields: Any) -> dict[str, Any]:
    form = {"api_key": key, "service_code": "auto", **fields}
    r = api.client.post(f"{BASE}/requests.json", data=form)
    assert r.status_code == 200, r.text
    return r.json()[0]  # type: ignore[no-any-return]


def _case(api: Any, ref: str) -> dict[str, Any]:
    r = api.client.get(f"/api/v1/cases/{ref}", headers=api.user("admin"))
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def _events(platform: Any, kind: str) -> list[dict[str, Any]]:
    with platform.db.session() as session:
        return [e.payload for e in session.scalars(select(OutboxEvent).where(OutboxEvent.type == kind))]


def test_a_consultation_is_answered_from_the_department_knowledge_base(desk):
    case = desk.report(
        description="我妈今年刚好八十岁，听说有高龄津贴，要去哪里申请？要带哪些证件？", source="app"
    )
    assert case["request_kind"] == "consultation"
    assert case["state"] == "closed" and case["department_code"] == "civil_affairs"
    assert case["answer"]["department"] == "civil_affairs" and "高龄" in case["answer"]["title"]
    answered = [h for h in case["history"] if h["transition"] == "answer"]
    assert answered and answered[0]["note"] == case["answer"]["answer"]


def test_a_consultation_without_a_good_answer_waits_in_its_department(desk):
    case = desk.report(
        description="请问你们办公室周六上午有没有人值班，我想当面送一面锦旗给上次帮我的工作人员", source="app"
    )
    assert case["answer"] is None
    assert case["state"] in ("dispatched", "reported")  # the department's queue, or a dispatcher's
    if case["state"] == "reported":
        assert case["triage_reason"] == "low_confidence"


def test_an_emergency_is_told_to_call_now_and_flagged_to_the_centre(api):
    key = _key(api)
    made = _open311(
        api,
        key,
        description="楼下餐馆厨房着火了！火好大烟好浓，里面还有人没出来，快来人啊",
        lat=SHUIWEI[1],
        long=SHUIWEI[0],
    )
    assert made["service_notice"].startswith("紧急情况请立即拨打 119")
    ref = made.get("service_request_id") or made["token"]
    case = _case(api, ref)
    assert case["emergency"] is True and case["priority"] == 1
    flagged = _events(api.platform, "cases.case.emergency")
    assert [e["call_now"] for e in flagged if e["case_id"] == case["id"]] == ["119"]


def test_an_address_in_words_is_placed_on_the_map(api):
    key = _key(api)
    made = _open311(
        api, key, address_string="水围村口那家小饭店", description="门口的污水一直流到街上，臭得不得了"
    )
    case = _case(api, made.get("service_request_id") or made["token"])
    assert case["located_by"] == "address" and case["lon"] is not None
    with api.platform.db.session() as session:
        where = spatial.get_lookup(api.platform, session).locate(case["lon"], case["lat"])
    assert where.street_code == "440304004" == case["street_code"]  # Futian street, where Shuiwei is


def test_a_hotline_note_with_only_a_landmark_is_placed(api):
    key = _key(api)
    made = _open311(api, key, address_string="车公庙地铁站C出口", description="出口旁边的井盖不见了，好危险")
    case = _case(api, made.get("service_request_id") or made["token"])
    assert case["located_by"] == "address" and case["street_code"] is not None


def test_a_place_nobody_can_find_waits_for_a_dispatcher_with_the_reason(api):
    key = _key(api)
    made = _open311(api, key, address_string="我家楼下", description="楼下的路灯坏了一个星期了，晚上黑漆漆的")
    assert "token" in made and "service_request_id" not in made
    case = _case(api, made["token"])
    assert case["triage_reason"] == "location_unknown"
    assert case["lon"] is None and case["lat"] is None and case["street_code"] is None
    queue = api.client.get("/api/v1/cases/triage", headers=api.user("admin"))
    assert queue.status_code == 200 and case["token"] in queue.text


def test_a_request_with_no_place_at_all_is_refused_clearly(api):
    key = _key(api)
    r = api.client.post(
        f"{BASE}/requests.json", data={"api_key": key, "service_code": "auto", "description": "路灯坏了"}
    )
    assert r.status_code == 400
    body = r.json()[0]
    assert body["code"] == 400 and "address_string" in body["description"]


def test_a_neighbour_dispute_goes_to_the_office_of_its_street(desk):
    case = desk.report(
        description="隔壁邻居把鞋柜和杂物堆在公共走廊，说了好几次都不搬，还跟我吵架",
        category_code="E4501",
        source="app",
    )
    assert case["department_code"] == "street-440304004"  # Shuiwei is in Futian street


def test_the_centre_sees_the_classifier_corrected_by_departments(desk):
    sent = desk.report(description="福华路那段路灯晚上全都不亮，黑乎乎的走路很怕", source="app")
    assert sent["state"] == "dispatched" and sent["department_code"] == "roads_facilities"
    desk.act("roads", sent, "return", note="不是我们的路段，请改派")
    r = desk.client.get("/api/v1/cases/classifier?days=7", headers=desk.heads["admin"])
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["version"].startswith("shipped") and body["out_of_writer"]["auto_precision"] >= 0.95
    (today,) = [d for d in body["daily"] if d["sent_alone"]]
    assert today["corrected"] == 1 and today["accuracy"] == (today["sent_alone"] - 1) / today["sent_alone"]
