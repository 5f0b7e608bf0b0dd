"""Routing by class × area × facility owner; a case with no route waits in triage, never dropped."""


def test_class_default_department(desk):
    assert desk.report(category_code="E0103")["department_code"] == "water"  # standing water
    assert desk.report(category_code="E0701")["department_code"] == "fire"


def test_qr_report_goes_to_the_facility_owner(desk):
    """A manhole cover owned by the roads office goes there, not to the water bureau the class names."""
    admin = desk.heads["admin"]
    lon, lat = 114.0662, 22.5258
    r = desk.client.post(
        "/api/v1/registry/facilities",
        headers=admin,
        json={
            "kind": "manhole_cover",
            "name": "井盖",
            "lon": lon,
            "lat": lat,
            "owner_department_code": "roads_facilities",
            "responsible_person": "陈工",
        },
    )
    code = r.json()["code"]
    case = desk.report(category_code="C0101", description="井盖松动", facility_code=code, at=(None, None))
    assert case["department_code"] == "roads_facilities"
    assert (case["lon"], case["lat"]) == (lon, lat)  # located by the facility
    assert case["facility_code"] == code


def test_street_order_goes_to_the_street_office(desk):
    case = desk.report(category_code="E0501", description="水围村口有人摆摊占道")
    assert case["department_code"] == "street-440304004"
    lianhua = desk.report(category_code="E0501", description="莲花山门口占道经营", at=(114.058, 22.556))
    assert lianhua["department_code"] == "street-440304008"


def test_rule_by_area_added_through_the_api(desk):
    r = desk.client.post(
        "/api/v1/cases/routing-rules",
        headers=desk.heads["admin"],
        json={
            "rank": 5,
            "category_code": "E01",
            "area_code": "440304004028",
            "department_code": "station-440304004028",
            "note": "Shuiwei cleans its own lanes",
        },
    )
    assert r.status_code == 201, r.text
    assert desk.report(category_code="E0101")["department_code"] == "station-440304004028"
    assert desk.report(category_code="E0101", at=(114.058, 22.556))["department_code"] == "urban_management"
    r = desk.client.post("/api/v1/cases/routing-rules", headers=desk.heads["operator"], json={"rank": 1})
    assert r.status_code == 403


def test_unroutable_case_is_kept_in_triage(empty_api):
    """No departments exist at all: the case is registered and waits in triage with the reason."""
    admin = empty_api.user("admin")
    r = empty_api.client.post(
        "/api/v1/cases",
        headers=admin,
        json={"description": "路灯不亮", "category_code": "C0201", "lon": 114.06, "lat": 22.54},
    )
    assert r.status_code == 201, r.text
    case = r.json()
    assert case["state"] == "registered" and case["triage_reason"] == "no_route"
    queue = empty_api.client.get("/api/v1/cases/triage", headers=admin).json()
    assert [c["token"] for c in queue["items"]] == [case["token"]]


def test_facility_report_with_unknown_code_is_refused(desk):
    r = desk.client.post(
        "/api/v1/cases",
        headers=desk.heads["operator"],
        json={"description": "x", "category_code": "C0101", "facility_code": "FT-XX-999999"},
    )
    assert r.status_code == 404 and r.json()["code"] == "cases.unknown_facility"
    r = desk.client.post("/api/v1/cases", headers=desk.heads["operator"], json={"description": "x"})
    assert r.status_code == 422 and r.json()["code"] == "cases.location_required"
    r = desk.client.post(
        "/api/v1/cases",
        headers=desk.heads["operator"],
        json={"description": "x", "category_code": "Z9999", "lon": 114.0665, "lat": 22.5262},
    )
    assert r.status_code == 422 and r.json()["code"] == "cases.unknown_category"
    r = desk.client.post(
        "/api/v1/cases",
        headers=desk.heads["operator"],
        json={"description": "x" * 4001, "category_code": "E0101", "lon": 114.0665, "lat": 22.5262},
    )
    assert r.status_code == 422


def test_qr_report_takes_its_class_from_the_facility(desk):
    """From a street light's QR page the citizen only types what is wrong; the class comes from the facility."""
    r = desk.client.get(
        "/api/v1/registry/facilities?kind=street_light&community_code=440304004028&page_size=1",
        headers=desk.heads["admin"],
    )
    light = (
        r.json()["items"][0]
        if r.json()["items"]
        else desk.client.post(
            "/api/v1/registry/facilities",
            headers=desk.heads["admin"],
            json={
                "kind": "street_light",
                "name": "路灯",
                "lon": 114.0662,
                "lat": 22.5258,
                "owner_department_code": "roads_facilities",
                "responsible_person": "陈工",
            },
        ).json()
    )
    case = desk.report(description="晚上一直闪，很晃眼", facility_code=light["code"], at=(None, None))
    assert case["category_code"] == "C0201"
    assert case["department_code"] == light["owner_department_code"]


def test_calendar_day_comes_from_the_path(desk):
    admin = desk.heads["admin"]
    r = desk.client.put(
        "/api/v1/cases/calendar/2018-10-01", headers=admin, json={"kind": "holiday", "name": "国庆节"}
    )
    assert r.status_code == 200 and r.json()["day"] == "2018-10-01"
    r = desk.client.put(
        "/api/v1/cases/calendar/2018-10-02", headers=admin, json={"day": "2018-10-09", "kind": "holiday"}
    )
    assert r.status_code == 422
    days = desk.client.get("/api/v1/cases/calendar", headers=admin).json()["days"]
    assert days == [{"day": "2018-10-01", "kind": "holiday", "name": "国庆节"}]
