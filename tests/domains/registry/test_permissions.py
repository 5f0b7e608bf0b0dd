"""The permission matrix: every role × every registry endpoint, on both backends.

The expected table is written out here by hand (not derived from the role definitions), so a change to
a role that opens or closes an endpoint fails this test until the table is changed on purpose.
"""

import itertools

SHUIWEI_STREET = "440304004"
SHUIWEI_COMMUNITY = "440304004028"
SHUIWEI_POINT = (114.0665, 22.5262)
ALL_ROLES = ["admin", "operator", "dept_handler", "street_officer", "grid_worker", "verifier", "data_steward"]
READERS = set(ALL_ROLES) | {"api_key"}
HOUSEHOLD = {"admin", "operator", "street_officer", "grid_worker"}
ADMIN = {"admin"}
LOCAL_WRITERS = {"admin", "street_officer", "grid_worker"}
FACILITY_WRITERS = {"admin", "operator", "dept_handler", "street_officer"}
EVERYONE = set(ALL_ROLES) | {"api_key", "anonymous"}  # public pages: the QR landing page, the outlines
_n = itertools.count()


def _principals(api):
    heads = {
        "admin": api.user("admin"),
        "operator": api.user("operator"),
        "dept_handler": api.user("dept_handler", department="roads_facilities"),
        "street_officer": api.user("street_officer", area=SHUIWEI_STREET),
        "grid_worker": api.user("grid_worker", area=SHUIWEI_COMMUNITY),
        "verifier": api.user("verifier"),
        "data_steward": api.user("data_steward"),
    }
    key = api.client.post(
        "/api/v1/auth/api-keys", headers=heads["admin"], json={"name": "portal", "scopes": ["registry:read"]}
    ).json()["key"]
    heads["api_key"] = {"X-API-Key": key}
    heads["anonymous"] = {}
    return heads


def _targets(api, admin):
    """Records in Shuiwei, so the scoped roles are inside their scope."""
    lon, lat = SHUIWEI_POINT
    b = api.client.get(
        f"/api/v1/registry/buildings?village_code={SHUIWEI_COMMUNITY}-V01&page_size=1", headers=admin
    ).json()["items"][0]
    resident = api.client.get(
        f"/api/v1/registry/residents?building_code={b['code']}&page_size=1", headers=admin
    ).json()["items"][0]
    unit = api.client.get(f"/api/v1/registry/units/{resident['unit_code']}", headers=admin).json()
    venue = api.client.get(
        f"/api/v1/registry/venues?community_code={SHUIWEI_COMMUNITY}&page_size=1", headers=admin
    ).json()["items"][0]
    facility = api.client.post(
        "/api/v1/registry/facilities",
        headers=admin,
        json={
            "kind": "street_light",
            "name": "路灯",
            "lon": lon,
            "lat": lat,
            "owner_department_code": "roads_facilities",
            "responsible_person": "李工",
        },
    ).json()
    return {"building": b, "unit": unit, "resident": resident, "venue": venue, "facility": facility}


def _endpoints(t):
    lon, lat = SHUIWEI_POINT
    square = {
        "type": "Polygon",
        "coordinates": [
            [
                [114.0660, 22.5255],
                [114.0662, 22.5255],
                [114.0662, 22.5257],
                [114.0660, 22.5257],
                [114.0660, 22.5255],
            ]
        ],
    }
    b, u, r, v, f = t["building"], t["unit"], t["resident"], t["venue"], t["facility"]
    n = lambda: next(_n)  # noqa: E731
    return [
        ("GET", "/areas?level=street", None, READERS),
        ("GET", "/areas.geojson?level=street&simplify_m=50", None, READERS),
        ("GET", f"/areas/{SHUIWEI_COMMUNITY}", None, READERS),
        ("GET", f"/areas/{SHUIWEI_COMMUNITY}/geojson", None, READERS),
        ("GET", f"/areas/{SHUIWEI_COMMUNITY}/features?layer=buildings&page_size=5", None, READERS),
        (
            "POST",
            "/areas",
            lambda: {
                "code": f"Z{n()}",
                "name": "测试片区",
                "level": "village",
                "parent_code": SHUIWEI_COMMUNITY,
                "geometry": square,
            },
            ADMIN,
        ),
        ("PATCH", f"/areas/{SHUIWEI_COMMUNITY}", lambda: {"name_en": "Shuiwei"}, ADMIN),
        ("GET", f"/locate?lon={lon}&lat={lat}", None, READERS),
        ("GET", f"/nearby?lon={lon}&lat={lat}&radius_m=300&layer=buildings", None, READERS),
        ("GET", "/departments", None, READERS),
        ("GET", "/departments/water", None, READERS),
        (
            "POST",
            "/departments",
            lambda: {"code": f"d{n()}", "name": "新部门", "name_en": "New", "kind": "functional"},
            ADMIN,
        ),
        ("PATCH", "/departments/water", lambda: {"phone": "0755-8000000"}, ADMIN),
        ("GET", "/buildings?page_size=5", None, READERS),
        ("GET", f"/buildings/{b['code']}", None, READERS),
        (
            "POST",
            "/buildings",
            lambda: {
                "code": f"T-B{n()}",
                "name": "新楼",
                "address": "水围村",
                "lon": lon,
                "lat": lat,
                "floors": 6,
                "use": "residential",
            },
            LOCAL_WRITERS,
        ),
        ("PATCH", f"/buildings/{b['code']}", lambda: {"structure": "frame"}, LOCAL_WRITERS),
        ("GET", "/units?page_size=5", None, HOUSEHOLD),
        ("GET", f"/units/{u['code']}", None, HOUSEHOLD),
        (
            "POST",
            "/units",
            lambda: {
                "code": f"T-U{n()}",
                "building_code": b["code"],
                "floor": 9,
                "number": "901",
                "kind": "household",
            },
            LOCAL_WRITERS,
        ),
        ("PATCH", f"/units/{u['code']}", lambda: {"tenure": "rented"}, LOCAL_WRITERS),
        ("GET", "/residents?page_size=5", None, HOUSEHOLD),
        ("GET", f"/residents/{r['id']}", None, HOUSEHOLD),
        (
            "POST",
            "/residents",
            lambda: {"unit_code": u["code"], "name": "陈明", "relation": "member"},
            LOCAL_WRITERS,
        ),
        ("PATCH", f"/residents/{r['id']}", lambda: {"relation": "head"}, LOCAL_WRITERS),
        ("GET", "/venues?page_size=5", None, READERS),
        ("GET", f"/venues/{v['code']}", None, READERS),
        (
            "POST",
            "/venues",
            lambda: {
                "code": f"T-V{n()}",
                "name": "小卖部",
                "kind": "small_shop",
                "category": "便利店",
                "address": "水围村",
                "lon": lon,
                "lat": lat,
            },
            LOCAL_WRITERS,
        ),
        ("PATCH", f"/venues/{v['code']}", lambda: {"employees": 3}, LOCAL_WRITERS),
        (
            "POST",
            f"/venues/{v['code']}/licences",
            lambda: {"kind": "fire_safety", "number": f"FS-{n()}", "issued_on": "2018-01-01"},
            LOCAL_WRITERS,
        ),
        ("GET", "/facilities?page_size=5", None, READERS),
        ("GET", f"/facilities/{f['code']}", None, READERS),
        (
            "POST",
            "/facilities",
            lambda: {
                "kind": "street_light",
                "name": "路灯",
                "lon": lon,
                "lat": lat,
                "owner_department_code": "roads_facilities",
                "responsible_person": "王工",
            },
            FACILITY_WRITERS,
        ),
        ("PATCH", f"/facilities/{f['code']}", lambda: {"status": "damaged"}, FACILITY_WRITERS),
        ("GET", "/summary", None, READERS),
        ("GET", f"/facilities/labels.svg?area={SHUIWEI_COMMUNITY}&kind=street_light", None, READERS),
        ("GET", f"/public/facilities/{f['code']}", None, EVERYONE),
        ("GET", "/public/areas.geojson?level=street", None, EVERYONE),
    ]


def test_every_role_on_every_registry_endpoint(api):
    heads = _principals(api)
    endpoints = _endpoints(_targets(api, heads["admin"]))
    wrong = []
    for (method, path, body, allowed), (who, headers) in itertools.product(endpoints, heads.items()):
        r = api.client.request(
            method, "/api/v1/registry" + path, headers=headers, json=body() if body else None
        )
        if allowed is EVERYONE:
            expected = {200}  # a public page's data: no login, and a login changes nothing
        elif who == "anonymous":
            expected = {401}
        elif who in allowed:
            expected = {200, 201}
        else:
            expected = {403}
        if r.status_code not in expected:
            wrong.append(f"{who:14} {method:5} {path}: {r.status_code} {r.text[:120]}")
        elif r.status_code in (401, 403):
            assert r.json()["code"].startswith("auth."), r.text
    assert not wrong, "\n".join(wrong)
    # The table covers every registry route in the OpenAPI document.
    spec = api.client.get("/openapi.json").json()["paths"]
    routes = {(m.upper(), p) for p, ops in spec.items() if p.startswith("/api/v1/registry") for m in ops}
    covered = {(m, "/api/v1/registry" + p.split("?")[0]) for m, p, *_ in endpoints}
    normalised = {(m, p) for m, p in routes}
    assert len(normalised) == len(covered), sorted(normalised)


def test_street_officer_sees_only_their_street(api):
    other = api.user("street_officer", area="440304008")  # 莲花街道
    admin = api.user("admin")
    shuiwei = api.client.get(
        f"/api/v1/registry/buildings?village_code={SHUIWEI_COMMUNITY}-V01&page_size=1", headers=admin
    ).json()["items"][0]
    r = api.client.get(f"/api/v1/registry/buildings/{shuiwei['code']}", headers=other)
    assert r.status_code == 403 and r.json()["code"] == "auth.out_of_scope"
    listed = api.client.get("/api/v1/registry/buildings?page_size=1000", headers=other).json()
    assert listed["total"] > 0
    assert {b["street_code"] for b in listed["items"]} == {"440304008"}
    r = api.client.patch(f"/api/v1/registry/buildings/{shuiwei['code']}", headers=other, json={"floors": 8})
    assert r.status_code == 403
    lon, lat = SHUIWEI_POINT
    r = api.client.post(
        "/api/v1/registry/buildings",
        headers=other,
        json={
            "code": "OUT-1",
            "name": "x",
            "address": "x",
            "lon": lon,
            "lat": lat,
            "floors": 3,
            "use": "office",
        },
    )
    assert r.status_code == 403 and r.json()["code"] == "auth.out_of_scope"
    # Households follow their building's street.
    units = api.client.get("/api/v1/registry/units?page_size=50", headers=other).json()["items"]
    assert all(not u["code"].startswith(SHUIWEI_COMMUNITY) for u in units)


def test_department_handler_sees_only_their_departments_facilities(api):
    water = api.user("dept_handler", department="water")
    admin = api.user("admin")
    listed = api.client.get("/api/v1/registry/facilities?page_size=1000", headers=water).json()
    assert listed["total"] > 0
    assert {f["owner_department_code"] for f in listed["items"]} == {"water"}
    light = api.client.get("/api/v1/registry/facilities?kind=street_light&page_size=1", headers=admin).json()[
        "items"
    ][0]
    assert api.client.get(f"/api/v1/registry/facilities/{light['code']}", headers=water).status_code == 403
    r = api.client.patch(
        f"/api/v1/registry/facilities/{light['code']}", headers=water, json={"status": "damaged"}
    )
    assert r.status_code == 403
    lon, lat = SHUIWEI_POINT
    r = api.client.post(
        "/api/v1/registry/facilities",
        headers=water,
        json={
            "kind": "street_light",
            "name": "x",
            "lon": lon,
            "lat": lat,
            "owner_department_code": "roads_facilities",
            "responsible_person": "x",
        },
    )
    assert r.status_code == 403 and r.json()["code"] == "auth.out_of_scope"


def test_protected_fields_are_masked_except_for_roles_allowed_to_see_them(api):
    operator = api.user("operator")
    grid = api.user("grid_worker", area=SHUIWEI_COMMUNITY)
    masked = api.client.get(
        "/api/v1/registry/residents?building_code=440304004028-V01-B001&page_size=1", headers=operator
    ).json()["items"][0]
    plain = api.client.get(f"/api/v1/registry/residents/{masked['id']}", headers=grid).json()
    assert len(plain["id_number"]) == 18 and plain["id_number"][4:14].isdigit()
    assert masked["id_number"] == plain["id_number"][:4] + "*" * 10 + plain["id_number"][-4:]
    assert masked["name"][0] == plain["name"][0] and set(masked["name"][1:]) == {"*"}
    # Exact search by ID number goes through the blind index, for roles that may read it.
    found = api.client.get(f"/api/v1/registry/residents?id_number={plain['id_number']}", headers=grid).json()
    assert [x["id"] for x in found["items"]] == [plain["id"]]
    r = api.client.get(f"/api/v1/registry/residents?id_number={plain['id_number']}", headers=operator)
    assert r.status_code == 403
