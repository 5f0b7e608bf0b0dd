"""Open311 GeoReport v2 at /open311/v2 on both backends: discovery, services, definitions, posting with an
API key, the public request list with its filters and limits, tokens, updates, and the spec's error shape in
JSON and XML."""

from __future__ import annotations

import math
import uuid
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from urbanbrain.core.auth.principal import SYSTEM, Principal
from urbanbrain.domains.cases import actions
from urbanbrain.domains.cases.models import Case
from urbanbrain.domains.cases.schemas import CaseReport
from urbanbrain.domains.cases.taxonomy import load as taxonomy

BASE = "/open311/v2"
SHUIWEI = (114.0665, 22.5262)
URBAN = "福田区城市管理和综合执法局"
REQUEST_KEYS = [
    "service_request_id",
    "status",
    "status_notes",
    "service_name",
    "service_code",
    "description",
    "agency_responsible",
    "service_notice",
    "requested_datetime",
    "updated_datetime",
    "expected_datetime",
    "address",
    "address_id",
    "zipcode",
    "lat",
    "long",
    "media_url",
]
SERVICE_KEYS = ["service_code", "service_name", "description", "metadata", "type", "keywords", "group"]
UPDATE_KEYS = ["update_id", "service_request_id", "status", "updated_datetime", "description", "media_url"]
CONTACT = {"email": "alice@example.com", "phone": "13812345678", "first_name": "三", "last_name": "张"}


def _key(api: Any, scopes: list[str]) -> str:
    r = api.client.post(
        "/api/v1/auth/api-keys", headers=api.user("admin"), json={"name": "311 app", "scopes": scopes}
    )
    assert r.status_code == 201, r.text
    return str(r.json()["key"])


@pytest.fixture
def key(api: Any) -> str:
    return _key(api, ["open311"])


def _post(api: Any, key: str | None, expect: int = 200, fmt: str = "json", **fields: Any) -> Any:
    form: dict[str, Any] = {"service_code": "E0101", "lat": SHUIWEI[1], "long": SHUIWEI[0]}
    form.update({"description": "水围村路口垃圾堆了两天没人清理", **CONTACT})
    if key is not None:
        form["api_key"] = key
    form.update(fields)
    form = {k: v for k, v in form.items() if v is not None}
    r = api.client.post(f"{BASE}/requests.{fmt}", data=form)
    assert r.status_code == expect, r.text
    return r.json() if fmt == "json" else ET.fromstring(r.content)


def _get(api: Any, path: str, expect: int = 200, **params: Any) -> Any:
    r = api.client.get(f"{BASE}/{path}", params=params)
    assert r.status_code == expect, r.text
    if path.endswith(".xml"):
        assert r.headers["content-type"].startswith("text/xml")
        assert r.content.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
        return ET.fromstring(r.content)
    assert r.headers["content-type"].startswith("application/json")
    return r.json()


def _spec_error(body: Any, status: int) -> str:
    """The spec's error body: a list of exactly {code, description}; returns the description."""
    assert isinstance(body, list) and len(body) == 1, body
    assert set(body[0]) == {"code", "description"} and body[0]["code"] == status
    assert body[0]["description"]
    return str(body[0]["description"])


def _aware(text: str) -> datetime:
    value = datetime.fromisoformat(text)
    assert value.utcoffset() == timedelta(hours=8), text
    return value


def _check_request(obj: dict[str, Any]) -> None:
    assert list(obj) == REQUEST_KEYS
    assert obj["status"] in ("open", "closed")
    for name in ("requested_datetime", "updated_datetime"):
        _aware(obj[name])
    if obj["expected_datetime"] is not None:
        _aware(obj["expected_datetime"])
    assert isinstance(obj["lat"], float) and isinstance(obj["long"], float)


def _check_xml_requests(root: ET.Element) -> list[ET.Element]:
    assert root.tag == "service_requests"
    items = list(root)
    for item in items:
        assert item.tag == "request"
        assert [c.tag for c in item] == REQUEST_KEYS
        assert item.findtext("status") in ("open", "closed")
        _aware(item.findtext("requested_datetime") or "")
        float(item.findtext("lat") or "x")
        float(item.findtext("long") or "x")
    return items


# --- discovery, services, definitions -------------------------------------------------------------------


def test_discovery_in_both_formats(api):
    d = _get(api, "discovery.json")
    assert set(d) == {"changeset", "contact", "key_service", "endpoints"}
    endpoint = d["endpoints"][0]
    assert endpoint["url"].endswith("/open311/v2") and endpoint["specification"].endswith("GeoReport_v2")
    assert set(endpoint["formats"]) == {"text/xml", "application/json"}
    x = _get(api, "discovery.xml")
    assert x.tag == "discovery"
    assert [e.tag for e in x.find("endpoints")] == ["endpoint"]
    assert [f.text for f in x.find("endpoints/endpoint/formats")] == ["text/xml", "application/json"]


def test_services_are_the_minor_classes(api):
    services = _get(api, "services.json")
    minors = taxonomy().minors
    assert len(services) == len(minors) + 1  # every minor class, and "auto" (classify it for me)
    assert {s["service_code"] for s in services} == set(minors) | {"auto"}
    for s in services:
        assert list(s) == SERVICE_KEYS and s["type"] == "realtime" and isinstance(s["metadata"], bool)
    by_code = {s["service_code"]: s for s in services}
    assert by_code["E0101"]["service_name"] == "暴露垃圾" and by_code["E0101"]["group"] == "市容环境"
    assert "Exposed rubbish" in by_code["E0101"]["description"] and URBAN in by_code["E0101"]["description"]
    assert by_code["C0101"]["metadata"] is True and by_code["E0101"]["metadata"] is False
    x = _get(api, "services.xml", jurisdiction_id="440304")
    assert x.tag == "services" and len(x) == len(minors) + 1
    assert all(s.tag == "service" and [c.tag for c in s] == SERVICE_KEYS for s in x)
    assert {s.findtext("metadata") for s in x} == {"true", "false"}


def test_service_definitions(api):
    d = _get(api, "services/C0101.json")
    assert d["service_code"] == "C0101"
    [attr] = d["attributes"]
    assert attr["code"] == "facility_code" and attr["datatype"] == "string" and attr["required"] is False
    assert attr["description"] == "设施二维码编号" and attr["variable"] is True and attr["order"] == 1
    assert _get(api, "services/E0101.json") == {"service_code": "E0101", "attributes": []}
    x = _get(api, "services/C0101.xml")
    assert x.tag == "service_definition" and x.findtext("service_code") == "C0101"
    assert [a.tag for a in x.find("attributes")] == ["attribute"]
    assert x.findtext("attributes/attribute/code") == "facility_code"
    assert x.findtext("attributes/attribute/required") == "false"
    _spec_error(_get(api, "services/Z9999.json", 404), 404)
    x = _get(api, "services/Z9999.xml", 404)
    assert x.tag == "errors" and x.findtext("error/code") == "404" and x.findtext("error/description")


def test_unknown_format_path_and_jurisdiction_are_spec_errors(api):
    assert "csv" in _spec_error(_get(api, "services.csv", 404), 404)
    _spec_error(_get(api, "requests.html", 404), 404)
    _spec_error(_get(api, "nothing-here.json", 404), 404)
    x = _get(api, "nothing-here.xml", 404)
    assert x.tag == "errors" and x.findtext("error/code") == "404"
    assert "999999" in _spec_error(_get(api, "services.json", 404, jurisdiction_id="999999"), 404)
    r = api.client.delete(f"{BASE}/requests.json")
    assert r.status_code == 405 and _spec_error(r.json(), 405)


# --- posting requests -----------------------------------------------------------------------------------


def test_post_then_get_a_request(api, key):
    [created] = _post(api, key, account_id="acct-7", media_url="https://example.com/p.jpg")
    assert set(created) == {"service_request_id", "service_notice", "account_id"}
    number = created["service_request_id"]
    assert number.startswith("440304-E0101-") and created["account_id"] == "acct-7"
    assert "12" in created["service_notice"]  # E0101 is resolved within 12 hours
    [req] = _get(api, f"requests/{number}.json")
    _check_request(req)
    assert req["service_request_id"] == number and req["status"] == "open"
    assert req["service_code"] == "E0101" and req["service_name"] == "暴露垃圾"
    assert req["agency_responsible"] == URBAN
    assert _aware(req["expected_datetime"]) > _aware(req["requested_datetime"])
    assert (req["lat"], req["long"]) == (SHUIWEI[1], SHUIWEI[0])
    assert req["media_url"] == "https://example.com/p.jpg" and req["address"]
    assert req["status_notes"] == "已派遣 / Dispatched"  # the dispatcher's routing note is internal
    with api.platform.db.session() as s:
        case = s.scalar(select(Case).where(Case.number == number))
        assert case.source == "hotline" and case.reporter_name == "张三"
        assert api.platform.protector.open(case.reporter_contact) == "13812345678 / alice@example.com"
        token = case.token
    [by_token] = _get(api, f"requests/{token}.json")
    assert by_token == req
    for path in (
        f"requests/{number}.json",
        f"requests/{number}.xml",
        "requests.json",
        "servicerequestupdates.json",
    ):
        text = api.client.get(f"{BASE}/{path}").text
        assert number in text
        assert "13812345678" not in text and "alice@example.com" not in text and "张三" not in text
    [x] = _check_xml_requests(_get(api, f"requests/{number}.xml"))
    assert x.findtext("service_request_id") == number and x.findtext("agency_responsible") == URBAN
    _spec_error(_get(api, "requests/440304-E0101-999999.json", 404), 404)


def test_post_in_xml_and_multipart(api, key):
    root = _post(api, key, fmt="xml")
    assert root.tag == "service_requests" and root[0].tag == "request"
    assert [c.tag for c in root[0]] == ["service_request_id", "service_notice", "account_id"]
    assert root[0].findtext("service_request_id").startswith("440304-E0101-")
    number = root[0].findtext("service_request_id")
    [created] = _post(api, key, description="垃圾\x01堆积")  # a control character cannot go into XML
    x = _get(api, f"requests/{created['service_request_id']}.xml")
    assert x.findtext("request/description") == "垃圾堆积"
    assert _get(api, f"requests/{number}.xml").findtext("request/service_request_id") == number
    r = api.client.post(
        f"{BASE}/requests.json",
        data={"api_key": key, "service_code": "C0205", "lat": "22.5262", "long": "114.0665"},
        files={"media": ("p.png", PNG, "image/png")},
    )
    assert r.status_code == 200, r.text
    assert r.json()[0]["service_request_id"].startswith("440304-C0205-")
    [req] = _get(api, f"requests/{r.json()[0]['service_request_id']}.json")
    assert req["description"] == "道路破损坑洼"  # no description: the service's name
    assert req["agency_responsible"] != URBAN


def _png() -> bytes:
    """A real 2×2 PNG, as a phone's camera file would be (smaller)."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"".join(b"\x00" + b"\xff\x80\x00" * 2 for _ in range(2))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))  # fmt: skip


PNG = _png()


def test_a_citizens_photo_is_kept_with_the_report(api, key):
    form = {"api_key": key, "service_code": "E0101", "lat": SHUIWEI[1], "long": SHUIWEI[0],
            "description": "垃圾桶盖子掉了"}  # fmt: skip
    r = api.client.post(f"{BASE}/requests.json", data=form, files={"media": ("bin.png", PNG, "image/png")})
    assert r.status_code == 200, r.text
    number = r.json()[0]["service_request_id"]
    operator = api.user("operator")
    case = api.client.get(f"/api/v1/cases/{number}", headers=operator).json()
    [photo] = [p for h in case["history"] for p in h["photos"]]
    assert case["history"][0]["photos"] == [photo]  # with the report itself
    got = api.client.get(f"/api/v1/cases/{number}/photos/{photo}", headers=operator)
    assert got.status_code == 200 and got.content == PNG and got.headers["content-type"] == "image/png"


def test_a_media_file_that_is_not_a_photo_files_nothing(api, key):
    form = {"api_key": key, "service_code": "E0101", "lat": SHUIWEI[1], "long": SHUIWEI[0],
            "description": "垃圾桶盖子掉了"}  # fmt: skip
    before = _get(api, "requests.json")
    r = api.client.post(
        f"{BASE}/requests.json", data=form, files={"media": ("x.png", b"MZ\x90\x00", "image/png")}
    )
    assert r.status_code == 415
    assert "JPEG" in _spec_error(r.json(), 415)
    assert _get(api, "requests.json") == before


def test_post_with_a_facility_code_instead_of_coordinates(api, key):
    from urbanbrain.domains.registry.models import Facility

    with api.platform.db.session() as s:
        facility = s.scalar(select(Facility).where(Facility.kind == "manhole_cover").limit(1))
    assert facility is not None
    [created] = _post(
        api, key, service_code="C0101", lat=None, long=None, **{"attribute[facility_code]": facility.code}
    )
    [req] = _get(api, f"requests/{created['service_request_id']}.json")
    assert (req["lat"], req["long"]) == (facility.lat, facility.lon)
    body = _post(
        api, key, 404, service_code="C0101", lat=None, long=None, **{"attribute[facility_code]": "NOPE"}
    )
    assert "NOPE" in _spec_error(body, 404)
    body = _post(api, key, 400, **{"attribute[colour]": "red"})
    assert "attribute[colour]" in _spec_error(body, 400)


def test_post_needs_an_open311_key(api):
    assert "api_key" in _spec_error(_post(api, None, 400), 400)
    _spec_error(_post(api, "ub_nothing_like_a_key", 403), 403)
    other = _key(api, ["registry:read"])
    assert "cases.requests.write" in _spec_error(_post(api, other, 403), 403)
    x = _post(api, None, 400, fmt="xml")
    assert (
        x.tag == "errors"
        and x.findtext("error/code") == "400"
        and "api_key" in x.findtext("error/description")
    )


def test_post_refuses_bad_fields_in_the_spec_shape(api, key):
    lat, lon = SHUIWEI[1], SHUIWEI[0]
    assert "swapped" in _spec_error(_post(api, key, 400, lat=lon, long=lat), 400)
    assert "outside" in _spec_error(_post(api, key, 400, lat=23.5, long=113.0), 400)
    assert "not valid numbers" in _spec_error(_post(api, key, 400, lat="NaN", long=lon), 400)
    assert "lat" in _spec_error(_post(api, key, 400, lat="north", long=lon), 400)
    assert "long" in _spec_error(_post(api, key, 400, long=None), 400)
    body = _post(api, key, 400, lat=None, long=None)  # no place at all: words would have done
    assert "address_string" in _spec_error(body, 400)
    assert "service_code" in _spec_error(_post(api, key, 400, service_code=None), 400)
    assert "Z9999" in _spec_error(_post(api, key, 400, service_code="Z9999"), 400)
    assert "media_url" in _spec_error(_post(api, key, 400, media_url="ftp://x/y.jpg"), 400)
    assert "email" in _spec_error(_post(api, key, 400, email="not-an-address"), 400)
    assert "phone" in _spec_error(_post(api, key, 400, phone="call me"), 400)
    assert "999999" in _spec_error(_post(api, key, 404, jurisdiction_id="999999"), 404)
    _post(api, key, 200, jurisdiction_id="440304")
    r = api.client.post(f"{BASE}/requests.json", json={"api_key": key, "service_code": "E0101"})
    assert "form" in _spec_error(r.json(), 400) and r.status_code == 400
    r = api.client.post(
        f"{BASE}/requests.json",
        data={"api_key": key, "service_code": "E0101", "lat": lon, "long": lat},
        headers={"Accept-Language": "zh-CN"},
    )
    assert r.status_code == 400 and "经纬度似乎写反了" in _spec_error(r.json(), 400)
    with api.platform.db.session() as s:
        assert s.scalar(select(func.count(Case.id))) == 1  # only the one good request


# --- lists, tokens, updates -----------------------------------------------------------------------------


def test_list_filters_and_the_90_day_window(api, key):
    clock = api.platform.clock
    [old] = _post(api, key)
    clock.advance(timedelta(days=100))
    [rubbish] = _post(api, key)
    [road] = _post(api, key, service_code="C0205")
    listed = _get(api, "requests.json")
    for obj in listed:
        _check_request(obj)
    ids = [r["service_request_id"] for r in listed]
    assert ids == [road["service_request_id"], rubbish["service_request_id"]]  # newest first; old one dropped
    only = _get(api, "requests.json", service_code="E0101")
    assert [r["service_request_id"] for r in only] == [rubbish["service_request_id"]]
    assert len(_get(api, "requests.json", service_code="E0101,C0205")) == 2
    assert len(_get(api, "requests.json", status="open")) == 2
    assert _get(api, "requests.json", status="closed") == []
    assert len(_get(api, "requests.json", status="open,closed")) == 2
    now = clock.now()
    window = {
        "start_date": (now - timedelta(days=120)).isoformat(),
        "end_date": (now - timedelta(days=50)).isoformat(),
    }
    assert [r["service_request_id"] for r in _get(api, "requests.json", **window)] == [
        old["service_request_id"]
    ]
    assert len(_get(api, "requests.json", start_date="2018-07-09T00:00:00Z")) == 1  # end = start + 90 days
    both = _get(
        api,
        "requests.json",
        service_request_id=f"{old['service_request_id']},{road['service_request_id']}",
        status="closed",
    )
    assert {r["service_request_id"] for r in both} == {old["service_request_id"], road["service_request_id"]}
    too_long = {"start_date": (now - timedelta(days=100)).isoformat(), "end_date": now.isoformat()}
    assert "90" in _spec_error(_get(api, "requests.json", 400, **too_long), 400)
    reversed_ = {"start_date": now.isoformat(), "end_date": (now - timedelta(days=1)).isoformat()}
    _spec_error(_get(api, "requests.json", 400, **reversed_), 400)
    assert "start_date" in _spec_error(_get(api, "requests.json", 400, start_date="yesterday"), 400)
    assert "status" in _spec_error(_get(api, "requests.json", 400, status="pending"), 400)
    assert "Z9999" in _spec_error(_get(api, "requests.json", 400, service_code="Z9999"), 400)
    items = _check_xml_requests(_get(api, "requests.xml"))
    assert [i.findtext("service_request_id") for i in items] == ids


def test_at_most_1000_requests_and_paging(api):
    now = api.platform.clock.now()
    with api.platform.db.session() as s:
        for i in range(1005):
            at = now - timedelta(minutes=i)
            s.add(
                Case(
                    number=f"440304-E0102-{i:06d}",
                    token=str(uuid.uuid4()),
                    state="dispatched",
                    source="hotline",
                    category_code="E0102",
                    major_code="E01",
                    priority=4,
                    title="道路不洁",
                    description=f"bulk {i}",
                    lon=SHUIWEI[0],
                    lat=SHUIWEI[1],
                    department_code="urban_management",
                    duplicate_candidates=[],
                    escalation_level=0,
                    reported_at=at,
                    updated_at=at,
                )
            )
    first = _get(api, "requests.json")
    assert len(first) == 1000 and first[0]["service_request_id"] == "440304-E0102-000000"
    second = _get(api, "requests.json", page=2)
    assert [r["service_request_id"] for r in second] == [f"440304-E0102-{i:06d}" for i in range(1000, 1005)]
    page = _get(api, "requests.json", page=3, page_size=10)
    assert [r["service_request_id"] for r in page] == [f"440304-E0102-{i:06d}" for i in range(20, 30)]
    assert len(_check_xml_requests(_get(api, "requests.xml", page_size=7))) == 7
    assert "page_size" in _spec_error(_get(api, "requests.json", 400, page_size=1001), 400)
    assert "page" in _spec_error(_get(api, "requests.json", 400, page=0), 400)
    r = api.client.get(f"{BASE}/requests.json", params={"page_size": "x"}, headers={"Accept-Language": "zh"})
    assert r.status_code == 400 and "1 到 1000 的整数" in _spec_error(r.json(), 400)


def test_tokens(api, key):
    [created] = _post(api, key)
    with api.platform.db.session() as s:
        token = s.scalar(select(Case.token).where(Case.number == created["service_request_id"]))
        waiting = actions.do_report_case(
            s,
            api.platform,
            SYSTEM,
            CaseReport(description="待分拣", category_code="E0101", lon=SHUIWEI[0], lat=SHUIWEI[1]),
            auto_dispatch=False,
        )
        waiting_token = waiting.token
    assert _get(api, f"tokens/{token}.json") == [
        {"service_request_id": created["service_request_id"], "token": token}
    ]
    assert _get(api, f"tokens/{waiting_token}.json") == [{"service_request_id": None, "token": waiting_token}]
    x = _get(api, f"tokens/{waiting_token}.xml")
    assert x.tag == "service_requests" and [c.tag for c in x[0]] == ["service_request_id", "token"]
    assert x[0].findtext("service_request_id") == "" and x[0].findtext("token") == waiting_token
    _spec_error(_get(api, "tokens/no-such-token.json", 404), 404)
    assert len(_get(api, "requests.json")) == 1  # an unregistered case has no service_request_id yet
    _spec_error(_get(api, f"requests/{waiting_token}.json", 404), 404)


def test_a_closed_request_and_its_updates(desk):
    api = desk.api
    key = _key(api, ["open311"])
    [created] = _post(api, key)
    number = created["service_request_id"]
    case = desk.client.get(f"/api/v1/cases/{number}", headers=desk.heads["operator"]).json()
    case = desk.act("urban", case, "accept")
    case = desk.act("urban", case, "start")
    with api.platform.db.session() as s:
        row = s.scalar(select(Case).where(Case.number == number))
        centre = Principal(
            kind="user",
            id=None,
            name="centre",
            role="operator",
            scope="all",
            permissions=frozenset({"cases.cases.manage"}),
        )
        actions.do_add_note(s, api.platform, centre, row, "内部：司机电话 13900000000", public=False)
    case = desk.get("urban", case)
    case = desk.act("urban", case, "resolve", note="垃圾已清运")
    case = desk.act("verifier", case, "verify_pass", note="现场核查已清理")
    case = desk.act("operator", case, "close")
    [req] = _get(api, f"requests/{number}.json")
    _check_request(req)
    assert (
        req["status"] == "closed"
        and "已结案" in req["status_notes"]
        and "现场核查已清理" in req["status_notes"]
    )
    assert _get(api, "requests.json", status="closed")[0]["service_request_id"] == number
    assert _get(api, "requests.json", status="open") == []
    updates = _get(api, "servicerequestupdates.json", service_request_id=number)
    for u in updates:
        assert list(u) == UPDATE_KEYS and u["service_request_id"] == number
        _aware(u["updated_datetime"])
    texts = [u["description"] for u in updates]
    steps = ["上报", "立案", "派遣", "受理", "开始处置", "处置完毕", "核查通过", "结案"]
    assert len(texts) == len(steps) and all(t.startswith(step) for t, step in zip(texts, steps, strict=True))
    assert [u["status"] for u in updates] == ["open"] * 7 + ["closed"]
    assert "垃圾已清运" in texts[5] and not any("13900000000" in t for t in texts)
    assert len({u["update_id"] for u in updates}) == len(updates)
    assert _get(api, "requests/updates.json", service_request_id=number) == updates
    assert _get(api, "servicerequestupdates.json") == updates  # the default window holds them all
    assert len(_get(api, "servicerequestupdates.json", page=2, page_size=3)) == 3
    x = _get(api, "servicerequestupdates.xml")
    assert x.tag == "service_request_updates" and len(x) == len(updates)
    assert all(u.tag == "request_update" and [c.tag for c in u] == UPDATE_KEYS for u in x)
    api.platform.clock.advance(timedelta(days=91))
    assert _get(api, "servicerequestupdates.json") == []
    _spec_error(
        _get(api, "servicerequestupdates.json", 400, start_date="2018-01-01", end_date="2018-12-31"), 400
    )


def test_datetimes_parse_and_numbers_are_numbers(api, key):
    _post(api, key)
    [req] = _get(api, "requests.json")
    assert not math.isnan(req["lat"]) and req["requested_datetime"].endswith("+08:00")
    root = _get(api, "requests.xml")
    assert _aware(root.findtext("request/requested_datetime")) == _aware(req["requested_datetime"])


def test_auto_service_classifies_the_description(api, key):
    """service_code=auto: a clear report is classified, routed and dispatched in the same request; an unclear
    one gets a token and waits in triage for a person."""
    clear = _post(api, key, service_code="auto", description="水围村12坊3号楼下井盖不见了，晚上很危险")
    number = clear[0]["service_request_id"]
    got = _get(api, f"requests/{number}.json")[0]
    assert got["service_code"] == "C0101" and got["agency_responsible"]
    unclear = _post(api, key, service_code="auto", description="你好，请问一下")
    assert "token" in unclear[0] and "service_request_id" not in unclear[0]
    admin = api.user("admin")
    queue = api.client.get("/api/v1/cases/triage", headers=admin).json()
    assert unclear[0]["token"] in [c["token"] for c in queue["items"]]
    assert queue["items"][0]["triage_reason"] == "low_confidence"
    _post(api, key, expect=400, service_code="auto", description="")
