"""The catalog: departments publish datasets with owners, schemas and sharing classes; staff browse and
search it; the platform's own datasets take their fields from the lake, protection included."""

from __future__ import annotations

from tests.domains.datahub.conftest import Hub
from urbanbrain.demo.datahub import publish_catalog


def test_the_demo_publishes_the_platforms_datasets_with_their_owners(hub: Hub) -> None:
    with hub.platform.db.session() as session:
        published = publish_catalog(session, hub.platform)
    assert {"registry-buildings", "registry-residents", "registry-venues", "registry-facilities", "cases",
            "alarms", "readings"} <= set(published)  # fmt: skip
    with hub.platform.db.session() as session:
        assert publish_catalog(session, hub.platform) == []  # once

    residents = hub.call("GET", "grid", "/datasets/registry-residents")
    assert residents["owner_department"] == "civil_affairs" and residents["sharing_class"] == "conditional"
    fields = {f["name"]: f for f in residents["fields"]}
    assert fields["id_number"]["protected"] and fields["id_number"]["mask"] == "id_number"
    assert fields["phone"]["protected"] and fields["name"]["mask"] == "name"
    assert all({"name", "type", "description", "protected"} <= set(f) for f in residents["fields"])
    assert all(f["description"] for f in residents["fields"])

    cases = hub.call("GET", "grid", "/datasets/cases")
    types = {f["name"]: f["type"] for f in cases["fields"]}
    assert types["reported_at"] == "timestamp" and types["case_id"] == "integer" and types["lon"] == "number"


def test_search_and_browse(hub: Hub) -> None:
    with hub.platform.db.session() as session:
        publish_catalog(session, hub.platform)
    hub.publish_elderly()
    found = hub.call("GET", "grid", "/datasets", params={"q": "老人"})["items"]
    assert [d["code"] for d in found] == ["elderly-care"]
    assert found[0]["protected_fields"] == 3 and found[0]["field_count"] == 7
    # a field's name finds its dataset
    assert "registry-residents" in [
        d["code"] for d in hub.call("GET", "grid", "/datasets", params={"q": "id_number"})["items"]
    ]
    owned = hub.call("GET", "grid", "/datasets", params={"owner": "smart_city_office"})["items"]
    assert {d["code"] for d in owned} == {"cases", "alarms", "readings"}
    unconditional = hub.call("GET", "grid", "/datasets", params={"sharing_class": "unconditional"})["items"]
    assert "registry-buildings" in {d["code"] for d in unconditional}


def test_only_the_owners_steward_publishes_and_changes(hub: Hub) -> None:
    body = {"code": "noise-complaints", "title_zh": "噪音投诉", "title_en": "Noise complaints",
            "owner_department": "civil_affairs", "source_kind": "upload", "update_frequency": "weekly",
            "sharing_class": "conditional"}  # fmt: skip
    assert hub.call("POST", "steward", "/datasets", 403, json=body)["code"] == "datahub.not_owner"
    assert hub.call("POST", "police", "/datasets", 403, json=body)["code"] == "auth.forbidden"
    created = hub.call("POST", "civil", "/datasets", 201, json=body)
    assert created["published_by"].startswith("user:data_steward")
    bad = {**body, "code": "x-lake", "source_kind": "registry", "source": "secrets"}
    assert hub.call("POST", "civil", "/datasets", 422, json=bad)["code"] == "datahub.unknown_source"
    assert hub.call("POST", "civil", "/datasets", 422, json={**body, "sharing_class": "open"})["code"] == (
        "request.invalid")  # fmt: skip


def test_a_first_upload_gives_an_undeclared_dataset_its_schema(hub: Hub) -> None:
    body = {"code": "cool-shelters", "title_zh": "避暑点", "title_en": "Cool shelters",
            "owner_department": "civil_affairs", "source_kind": "upload", "update_frequency": "irregular",
            "sharing_class": "unconditional"}  # fmt: skip
    hub.call("POST", "civil", "/datasets", 201, json=body)
    assert hub.upload("cool-shelters", b"name,seats,open_24h\nA,10,true\nB,4,false\n")["rows"] == 2
    fields = hub.call("GET", "grid", "/datasets/cool-shelters")["fields"]
    assert [(f["name"], f["type"]) for f in fields] == [("name", "string"), ("seats", "integer"),
                                                        ("open_24h", "boolean")]  # fmt: skip
    assert hub.upload("cool-shelters", b"\x00\x01garbage", expect=422)["code"] in ("datahub.bad_file",
                                                                                   "datahub.schema_mismatch")  # fmt: skip
