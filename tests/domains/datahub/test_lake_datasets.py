"""The platform's own datasets served from the lake: residents masked as the grant says and never in the
clear, a case's latest state, filters on time."""

from __future__ import annotations

import json

from sqlalchemy import select

from tests.domains.datahub.conftest import Hub
from urbanbrain.demo.datahub import publish_catalog
from urbanbrain.domains.datahub.lake import landing
from urbanbrain.domains.registry.models import Resident


def _land(hub: Hub, table: str) -> None:
    with hub.platform.db.session() as session:
        publish_catalog(session, hub.platform)
    landing.rebuild(hub.platform, table)


def test_residents_come_masked_and_the_clear_numbers_are_nowhere(hub: Hub) -> None:
    _land(hub, "residents")
    with hub.platform.db.session() as session:
        resident = session.scalars(select(Resident).where(Resident.id_number.is_not(None)).limit(1)).one()
        clear_id = hub.platform.protector.open(resident.id_number)
        clear_phone = hub.platform.protector.open(resident.phone)
        name = resident.name
    req = hub.call("POST", "street", "/requests", 201, json={
        "dataset": "registry-residents", "purpose": "独居老人走访", "fields": ["resident_id", "name", "id_number", "phone",
                                                                                 "birth_year"]})  # fmt: skip
    hub.decide(req["id"], who="civil", clear=["name"])
    page = hub.call(
        "GET",
        "street",
        "/datasets/registry-residents/rows",
        params={"filter": f"resident_id:eq:{resident.id}"},
    )
    (row,) = page["items"]
    assert row["name"] == name  # granted in the clear
    assert row["id_number"] == clear_id[:4] + "*" * (len(clear_id) - 8) + clear_id[-4:]
    assert row["phone"] == clear_phone[:3] + "****" + clear_phone[-4:]
    # the owner cannot grant what the lake only holds masked
    req = hub.call("POST", "police", "/requests", 201, json={
        "dataset": "registry-residents", "purpose": "案件核查", "fields": ["resident_id", "id_number"]})  # fmt: skip
    assert (
        hub.decide(req["id"], who="civil", clear=["id_number"], expect=422)["code"] == "datahub.only_masked"
    )
    export = hub.client.get("/api/v1/datahub/datasets/registry-residents/export", params={"format": "ndjson"},
                            headers=hub.head("street"))  # fmt: skip
    assert export.status_code == 200
    assert clear_id.encode() not in export.content and clear_phone.encode() not in export.content
    assert int(export.headers["x-record-count"]) > 100


def test_a_case_is_served_in_its_latest_state(hub: Hub) -> None:
    operator = hub.api.user("operator")
    r = hub.client.post("/api/v1/cases", headers=operator, json={
        "description": "福华路人行道上井盖缺失，很危险", "lon": 114.0583, "lat": 22.5366, "source": "app"})  # fmt: skip
    assert r.status_code == 201, r.text
    case = r.json()
    with hub.platform.db.session() as session:
        publish_catalog(session, hub.platform)
    landing.drain(hub.platform)
    req = hub.call("POST", "police", "/requests", 201, json={
        "dataset": "cases", "purpose": "治安隐患分析", "fields": ["case_id", "state", "title", "reported_at"]})  # fmt: skip
    hub.decide(req["id"], who="steward")
    page = hub.call("GET", "police", "/datasets/cases/rows", params={"filter": f"case_id:eq:{case['id']}"})
    assert [i["state"] for i in page["items"]] == [case["state"]]
    # a later state replaces the row
    assert case["state"] == "dispatched"
    handler = hub.api.user("dept_handler", department=case["department_code"])
    r = hub.client.post(f"/api/v1/cases/{case['token']}/actions/accept", headers=handler,
                        json={"version": case["version"]})  # fmt: skip
    assert r.status_code == 200, r.text
    hub.platform.relay.flush()
    landing.drain(hub.platform)
    page = hub.call("GET", "police", "/datasets/cases/rows", params={"filter": f"case_id:eq:{case['id']}"})
    assert [i["state"] for i in page["items"]] == ["accepted"]
    at = page["items"][0]["reported_at"]
    assert hub.call("GET", "police", "/datasets/cases/rows", params={"filter": f"reported_at:gte:{at}"})[
        "total"] >= 1  # fmt: skip
    assert "description" not in json.dumps(page)
