"""A facility's QR landing page for anyone who scans its label, and the printable label sheets."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from sqlalchemy import select

from urbanbrain.domains.registry.models import Facility

SHUIWEI_COMMUNITY = "440304004028"


def _facility(api, **where):
    with api.platform.db.session() as s:
        stmt = select(Facility).where(*[getattr(Facility, k) == v for k, v in where.items()]).limit(1)
        f = s.scalar(stmt)
        assert f is not None
        s.expunge(f)
        return f


def test_anyone_sees_the_facility_with_the_phone_masked(api):
    f = _facility(api, kind="rubbish_bin")
    r = api.client.get(f"/api/v1/registry/public/facilities/{f.code}")  # no login
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["code"], body["name"], body["kind"]) == (f.code, f.name, "rubbish_bin")
    assert body["kind_name"] == {"zh-CN": "垃圾桶", "en": "Rubbish bin"}
    assert body["owner_department_name"] == "福田区城市管理和综合执法局"
    assert body["responsible_person"] == f.responsible_person
    phone = f.responsible_phone
    assert phone and body["responsible_phone"] == phone[:3] + "*" * (len(phone) - 7) + phone[-4:]
    assert phone not in r.text
    assert body["street_name"] and body["community_name"]


def test_an_unknown_code_is_a_clear_404(api):
    r = api.client.get(
        "/api/v1/registry/public/facilities/FT-XX-999999", headers={"Accept-Language": "zh-CN"}
    )
    assert r.status_code == 404
    assert r.json()["code"] == "not_found" and "FT-XX-999999" in r.json()["message"]


def test_label_sheets_hold_one_qr_label_per_facility_of_the_area(api):
    admin = api.user("admin")
    with api.platform.db.session() as s:
        codes = sorted(s.scalars(select(Facility.code).where(Facility.community_code == SHUIWEI_COMMUNITY,
                                                             Facility.kind == "street_light")))  # fmt: skip
    assert codes
    r = api.client.get("/api/v1/registry/facilities/labels.svg",
                       params={"area": SHUIWEI_COMMUNITY, "kind": "street_light"}, headers=admin)  # fmt: skip
    assert r.status_code == 200 and r.headers["content-type"].startswith("image/svg+xml")
    svg = ET.fromstring(r.content)
    ns = "{http://www.w3.org/2000/svg}"
    assert svg.get("width") == "210.0mm"  # A4 wide, printed at true size
    texts = [t.text for t in svg.iter(f"{ns}text")]
    assert sorted(t for t in texts if t and t.startswith("FT-")) == codes
    assert len(list(svg.iter(f"{ns}path"))) == len(codes)  # one QR code each


def test_a_label_qr_code_reads_back_as_the_landing_page_url(api):
    import segno

    from urbanbrain.domains.registry.labels import _qr_path

    url = f"{api.platform.settings.public_url}/f/FT-SL-000001"
    # the path draws exactly the dark modules of the QR code of the URL
    matrix = segno.make(url, error="m", micro=False).matrix
    dark = sum(sum(1 for v in row if v) for row in matrix)
    path = _qr_path(url, 0, 0, 26)
    runs = path.count("M")
    assert 0 < runs <= dark


def test_labels_need_a_login_and_a_real_area(api):
    assert (
        api.client.get("/api/v1/registry/facilities/labels.svg", params={"area": "440304"}).status_code == 401
    )
    admin = api.user("admin")
    r = api.client.get("/api/v1/registry/facilities/labels.svg", params={"area": "440304"}, headers=admin)
    assert r.status_code == 422 and r.json()["code"] == "request.invalid"  # the whole district: too much


def test_the_district_and_street_outlines_are_public_and_nothing_finer(api):
    streets = api.client.get("/api/v1/registry/public/areas.geojson", params={"level": "street"})
    assert streets.status_code == 200
    names = {f["properties"]["name"] for f in streets.json()["features"]}
    # Futian's ten streets, and the bonded zone (福田保税区), which the registry holds at street level
    assert len(names) == 11 and {"福田街道", "香蜜湖街道", "福田保税区"} <= names
    district = api.client.get("/api/v1/registry/public/areas.geojson", params={"level": "district"}).json()
    assert [f["properties"]["code"] for f in district["features"]] == ["440304"]
    r = api.client.get("/api/v1/registry/public/areas.geojson", params={"level": "community"})
    assert r.status_code == 422  # communities and grid cells stay behind a login
