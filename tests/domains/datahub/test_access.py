"""Requests, the owner's decisions and grants: approve all or part, refuse, expire, revoke, keys."""

from __future__ import annotations

from datetime import timedelta

from tests.domains.datahub.conftest import Hub


def test_a_department_requests_the_owner_approves_and_the_rows_come_masked(hub: Hub) -> None:
    hub.publish_elderly()
    req = hub.ask()
    assert req["state"] == "pending" and req["grant"] is None
    hub.rows(expect=403)  # nothing before the owner decides

    decided = hub.decide(req["id"])
    assert decided["state"] == "approved"
    grant = decided["grant"]
    assert {f["name"]: f["mode"] for f in grant["fields"]} == {
        "person_id": "clear", "name": "masked", "id_number": "masked", "phone": "masked", "age": "clear",
    }  # fmt: skip

    page = hub.rows(sort="person_id")
    assert page["total"] == 4
    first = page["items"][0]
    assert first == {"person_id": 1, "name": "张**", "id_number": "4403**********1234",
                     "phone": "138****5678", "age": 86}  # fmt: skip


def test_the_owner_approves_some_fields_some_rows_and_names_in_the_clear(hub: Hub) -> None:
    hub.publish_elderly()
    req = hub.ask(rows=[{"field": "age", "op": "gte", "value": 70}])
    hub.decide(
        req["id"],
        fields=["person_id", "name", "age"],
        clear=["name"],
        rows=[{"field": "street_code", "op": "eq", "value": "440304004"}],
    )
    page = hub.rows(sort="-age")
    # the consumer's own condition (70 and over) and the owner's (one street) both hold
    assert page["items"] == [
        {"person_id": 1, "name": "张三丰", "age": 86},
        {"person_id": 2, "name": "李秀英", "age": 82},
    ]


def test_approving_more_than_was_asked_or_an_id_number_in_the_clear_of_the_lake_is_refused(hub: Hub) -> None:
    hub.publish_elderly()
    req = hub.ask(fields=["person_id", "age"])
    body = hub.decide(req["id"], expect=422, fields=["person_id", "age", "phone"])
    assert body["code"] == "datahub.beyond_request"
    assert "phone" in body["messages"]["zh-CN"]


def test_a_refusal_gives_no_grant(hub: Hub) -> None:
    hub.publish_elderly()
    req = hub.ask()
    refused = hub.decide(req["id"], decision="refuse", reason="用途不明确")
    assert refused["state"] == "refused" and refused["grant"] is None
    assert hub.rows(expect=403)["code"] == "datahub.no_grant"
    assert hub.decide(req["id"], expect=409)["code"] == "datahub.already_decided"


def test_only_the_owning_department_decides(hub: Hub) -> None:
    hub.publish_elderly()
    req = hub.ask()
    assert hub.decide(req["id"], who="steward", expect=403)["code"] == "datahub.not_owner"
    assert hub.call("POST", "police", f"/requests/{req['id']}/decision", 403, json={"decision": "approve"})[
        "code"] == "auth.forbidden"  # fmt: skip
    # another department does not even see the request
    hub.call("GET", "street", f"/requests/{req['id']}", 404)
    assert hub.call("GET", "civil", "/requests", params={"role": "to_decide"})["total"] == 1
    assert hub.call("GET", "police", "/requests")["items"][0]["id"] == req["id"]


def test_a_grant_expires(hub: Hub) -> None:
    hub.publish_elderly()
    req = hub.ask()
    clock = hub.platform.clock
    hub.decide(req["id"], expires_at=(clock.now() + timedelta(days=7)).isoformat())
    assert hub.rows()["total"] == 4
    clock.advance(timedelta(days=7, seconds=1))
    assert hub.rows(expect=403)["code"] == "datahub.no_grant"
    grant = hub.call("GET", "police", "/grants")["items"][0]
    assert grant["active"] is False


def test_a_revoked_grant_stops_staff_and_its_key(hub: Hub) -> None:
    hub.publish_elderly()
    grant = hub.decide(hub.ask()["id"])["grant"]
    key = hub.call("POST", "police", f"/grants/{grant['id']}/key", 201)["api_key"]
    with_key = {"X-API-Key": key}
    r = hub.client.get(f"{hub.base}/datasets/elderly-care/rows", headers=with_key)
    assert r.status_code == 200 and r.json()["total"] == 4

    assert hub.call("POST", "police", f"/grants/{grant['id']}/revoke", 403, json={"reason": "no"})
    revoked = hub.call("POST", "civil", f"/grants/{grant['id']}/revoke", 200, json={"reason": "排查结束"})
    assert revoked["active"] is False and revoked["revoked_by"].startswith("user:")
    assert hub.rows(expect=403)["code"] == "datahub.no_grant"
    # named, the grant says it has ended rather than that there is none
    assert hub.rows(expect=403, grant=grant["id"])["code"] == "datahub.grant_ended"
    r = hub.client.get(f"{hub.base}/datasets/elderly-care/rows", headers=with_key)
    assert r.status_code == 401  # the key went with the grant


def test_a_grant_key_reads_its_own_grant_only(hub: Hub) -> None:
    hub.publish_elderly()
    grant = hub.decide(hub.ask()["id"])["grant"]
    key = hub.call("POST", "police", f"/grants/{grant['id']}/key", 201)["api_key"]
    # another department's staff cannot take a key for it
    assert hub.call("POST", "street", f"/grants/{grant['id']}/key", 403)["code"] == "datahub.not_consumer"
    hub.call("POST", "admin", "/datasets", 201, json={
        "code": "sun-shelters", "title_zh": "避暑点", "title_en": "Cool shelters", "owner_department": "civil_affairs",
        "source_kind": "upload", "update_frequency": "irregular", "sharing_class": "unconditional",
    })  # fmt: skip
    hub.upload("sun-shelters", b"name,seats\nA,10\n")
    hub.ask(fields=["name", "seats"], dataset="sun-shelters")  # unconditional: granted at once, to the staff
    r = hub.client.get(f"{hub.base}/datasets/sun-shelters/rows", headers={"X-API-Key": key})
    assert r.status_code == 403 and r.json()["code"] == "datahub.no_grant"
    assert hub.call("GET", "police", "/datasets/sun-shelters/rows")["items"] == [{"name": "A", "seats": 10}]


def test_unconditional_is_granted_at_once_and_not_shared_cannot_be_asked(hub: Hub) -> None:
    hub.publish_elderly(sharing_class="unconditional")
    req = hub.ask()
    assert req["state"] == "approved" and req["grant"]["granted_by"] == "system:unconditional"
    # protected fields stay masked even so
    assert hub.rows(sort="person_id")["items"][0]["id_number"] == "4403**********1234"

    body = {"code": "elderly-care", "title_zh": "独居老人关爱名册", "title_en": "Elderly living alone",
            "owner_department": "civil_affairs", "source_kind": "upload", "update_frequency": "monthly",
            "sharing_class": "not_shared"}  # fmt: skip
    version = hub.call("GET", "civil", "/datasets/elderly-care")["version"]
    hub.call("POST", "civil", "/datasets", 201, json=body, params={"version": version})
    r = hub.call("POST", "street", "/requests", 409, json={"dataset": "elderly-care", "purpose": "慰问走访",
                 "fields": ["age"]})  # fmt: skip
    assert r["code"] == "datahub.not_shared"


def test_a_person_without_a_department_cannot_request(hub: Hub) -> None:
    hub.publish_elderly()
    r = hub.call("POST", "grid", "/requests", 403, json={"dataset": "elderly-care", "purpose": "走访",
                 "fields": ["age"]})  # fmt: skip
    assert r["code"] == "auth.forbidden"
    r = hub.call("POST", "admin", "/requests", 422, json={"dataset": "elderly-care", "purpose": "走访走访",
                 "fields": ["age"]})  # fmt: skip
    assert r["code"] == "datahub.no_department"


def test_a_grant_of_an_upload_not_yet_sent_reads_no_rows(hub: Hub) -> None:
    hub.call("POST", "civil", "/datasets", 201, json={
        "code": "heat-shelters", "title_zh": "避暑点", "title_en": "Heat shelters", "owner_department": "civil_affairs",
        "source_kind": "upload", "update_frequency": "irregular", "sharing_class": "unconditional",
        "fields": [{"name": "name", "type": "string"}, {"name": "seats", "type": "integer"}]})  # fmt: skip
    hub.ask(dataset="heat-shelters", fields=["name", "seats"])
    page = hub.call("GET", "police", "/datasets/heat-shelters/rows", params={"filter": "seats:gt:3"})
    assert page["items"] == [] and page["total"] == 0
    r = hub.client.get(f"{hub.base}/datasets/heat-shelters/export", params={"format": "csv"},
                       headers=hub.head("police"))  # fmt: skip
    assert r.status_code == 200 and r.text.strip() == "name,seats"


def test_a_naive_expiry_is_utc_and_malformed_conditions_are_refused(hub: Hub) -> None:
    hub.publish_elderly()
    req = hub.ask()
    body = hub.decide(req["id"], expect=422, rows=[{"field": "age", "op": "eq", "value": [1, 2]}])
    assert body["code"] == "request.invalid"
    body = hub.decide(req["id"], expect=422, rows=[{"field": "age", "op": "in", "value": 80}])
    assert body["code"] == "request.invalid"
    decided = hub.decide(req["id"], expires_at="2018-07-20T00:00:00")
    assert decided["grant"]["expires_at"].startswith("2018-07-20T00:00:00")
    assert decided["grant"]["expires_at"].endswith(("Z", "+00:00"))
