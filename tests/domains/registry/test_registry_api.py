"""The registry through real HTTP on both backends: create, read, filter, page, update, audit, events."""

from sqlalchemy import select

from urbanbrain.core.models import AuditEntry, OutboxEvent

SHUIWEI = (114.0665, 22.5262)
LIANHUA = (114.058, 22.556)


def _building(code="B-T1", lon_lat=SHUIWEI, **extra):
    lon, lat = lon_lat
    body = {
        "code": code,
        "name": "测试楼",
        "address": "福田区测试路1号",
        "lon": lon,
        "lat": lat,
        "floors": 7,
        "use": "residential",
        "owner_name": "张三",
        "owner_phone": "13800138000",
    }
    body.update(extra)
    return body


def test_building_is_located_audited_and_announced(api):
    admin = api.user("admin")
    r = api.client.post("/api/v1/registry/buildings", headers=admin, json=_building())
    assert r.status_code == 201, r.text
    b = r.json()
    assert (b["street_code"], b["community_code"]) == ("440304004", "440304004028")
    assert b["grid_code"].startswith("440304004028-G")
    assert b["owner_phone"] == "13800138000"  # admin may read protected fields
    with api.platform.db.session() as s:
        audit = s.scalars(select(AuditEntry).where(AuditEntry.entity_id == "B-T1")).one()
        event = s.scalars(select(OutboxEvent).where(OutboxEvent.type == "registry.building.created")).one()
        stored = s.execute(select(AuditEntry.after)).all()
    assert audit.action == "registry.building.create" and audit.actor.startswith("user:admin")
    assert audit.after["owner_phone"] == "<protected>"  # the audit log never holds the plain phone
    assert event.payload["code"] == "B-T1"
    assert all("13800138000" not in str(a) for a in stored)
    # Events leave after the commit: the relay publishes them.
    api.platform.relay.flush()
    with api.platform.db.session() as s:
        assert s.scalars(
            select(OutboxEvent.published_at).where(OutboxEvent.type == "registry.building.created")
        ).one()


def test_protected_phone_is_encrypted_at_rest(api):
    admin = api.user("admin")
    api.client.post("/api/v1/registry/buildings", headers=admin, json=_building())
    with api.platform.db.engine.connect() as conn:
        raw = conn.exec_driver_sql("SELECT owner_phone FROM registry_building WHERE code = 'B-T1'").scalar()
    assert raw and "13800138000" not in raw


def test_moving_a_building_relocates_it(api):
    admin = api.user("admin")
    api.client.post("/api/v1/registry/buildings", headers=admin, json=_building())
    r = api.client.patch(
        "/api/v1/registry/buildings/B-T1",
        headers=admin,
        json={"lon": LIANHUA[0], "lat": LIANHUA[1], "version": 1},
    )
    assert r.status_code == 200, r.text
    assert r.json()["street_code"] == "440304008" and r.json()["version"] == 2


def test_stale_version_is_refused(api):
    admin = api.user("admin")
    api.client.post("/api/v1/registry/buildings", headers=admin, json=_building())
    assert (
        api.client.patch(
            "/api/v1/registry/buildings/B-T1", headers=admin, json={"floors": 8, "version": 1}
        ).status_code
        == 200
    )
    r = api.client.patch("/api/v1/registry/buildings/B-T1", headers=admin, json={"floors": 9, "version": 1})
    assert r.status_code == 409 and r.json()["code"] == "stale"
    assert api.client.get("/api/v1/registry/buildings/B-T1", headers=admin).json()["floors"] == 8


def test_duplicate_code_and_unknown_fields_are_clear_errors(api):
    admin = api.user("admin")
    assert api.client.post("/api/v1/registry/buildings", headers=admin, json=_building()).status_code == 201
    r = api.client.post("/api/v1/registry/buildings", headers=admin, json=_building())
    assert r.status_code == 409 and r.json()["code"] == "registry.code_taken"
    r = api.client.post("/api/v1/registry/buildings", headers=admin, json=_building("B-T2", colour="red"))
    assert r.status_code == 422 and "colour" in r.json()["message"]


def test_bad_coordinates_are_refused_with_the_reason(api):
    admin = api.user("admin")
    lon, lat = SHUIWEI
    cases = [
        ((lat, lon), "geo.lat_lon_swapped"),
        ((113.90, 22.50), "geo.outside_district"),
        ((200.0, 22.5), "geo.out_of_range"),
    ]
    for (x, y), code in cases:
        r = api.client.post("/api/v1/registry/buildings", headers=admin, json=_building("B-X", (x, y)))
        assert r.status_code == 422 and r.json()["code"] == code, (x, y, r.text)
    r = api.client.get("/api/v1/registry/locate?lon=nan&lat=22.5", headers=admin)
    assert r.status_code == 422 and r.json()["code"] == "geo.not_a_number"
    r = api.client.get("/api/v1/registry/locate?lon=east&lat=22.5", headers=admin)
    assert r.status_code == 422 and r.json()["code"] == "request.invalid"


def test_household_and_residents(api):
    grid = api.user("grid_worker", area="440304004028")
    api.client.post("/api/v1/registry/buildings", headers=grid, json=_building())
    r = api.client.post(
        "/api/v1/registry/units",
        headers=grid,
        json={
            "code": "B-T1-0301",
            "building_code": "B-T1",
            "floor": 3,
            "number": "301",
            "kind": "household",
            "tenure": "rented",
        },
    )
    assert r.status_code == 201, r.text
    r = api.client.post(
        "/api/v1/registry/residents",
        headers=grid,
        json={
            "unit_code": "B-T1-0301",
            "name": "李小龙",
            "relation": "head",
            "id_number": "44030419900101123x",
            "phone": "13912345678",
            "birth_year": 1990,
        },
    )
    assert r.status_code == 201, r.text
    assert r.json()["id_number"] == "44030419900101123X"
    unit = api.client.get("/api/v1/registry/units/B-T1-0301", headers=grid).json()
    assert unit["residents"] == 1
    r = api.client.post(
        "/api/v1/registry/residents",
        headers=grid,
        json={"unit_code": "B-T1-0301", "name": "x", "relation": "head", "id_number": "12345"},
    )
    assert r.status_code == 422


def test_venue_with_licences_and_expiry(api):
    officer = api.user("street_officer", area="440304004")
    lon, lat = SHUIWEI
    r = api.client.post(
        "/api/v1/registry/venues",
        headers=officer,
        json={
            "code": "V-T1",
            "name": "水围小旅馆",
            "kind": "small_hotel",
            "category": "旅馆",
            "address": "水围村",
            "lon": lon,
            "lat": lat,
            "operator_phone": "13700000000",
            "licences": [
                {"kind": "business", "number": "BL-1", "issued_on": "2015-03-01"},
                {
                    "kind": "special_trade",
                    "number": "ST-1",
                    "issued_on": "2015-03-01",
                    "expires_on": "2018-01-01",
                },
            ],
        },
    )
    assert r.status_code == 201, r.text
    lic = {x["number"]: x["status"] for x in r.json()["licences"]}
    assert lic == {"BL-1": "valid", "ST-1": "expired"}  # expired before the simulated 2018-07-09
    listed = api.client.get("/api/v1/registry/venues?kind=small_hotel&q=水围小旅馆", headers=officer).json()
    assert [v["code"] for v in listed["items"]] == ["V-T1"]


def test_facility_code_is_generated_and_public_fields_shown(api):
    admin = api.user("admin")
    lon, lat = SHUIWEI
    r = api.client.post(
        "/api/v1/registry/facilities",
        headers=admin,
        json={
            "kind": "newsstand",
            "name": "报亭",
            "lon": lon,
            "lat": lat,
            "owner_department_code": "culture_tourism",
            "responsible_person": "黄师傅",
            "responsible_phone": "0755-83000000",
            "installed_on": "2012-05-01",
            "settings": {"opening": "07:00-21:00"},
        },
    )
    assert r.status_code == 201, r.text
    f = r.json()
    assert f["code"].startswith("FT-NS-") and len(f["code"]) == len("FT-NS-000000")
    assert f["owner_department_name"] == "福田区文化广电旅游体育局"
    again = api.client.post(
        "/api/v1/registry/facilities",
        headers=admin,
        json={
            "kind": "newsstand",
            "name": "报亭2",
            "lon": lon,
            "lat": lat,
            "owner_department_code": "culture_tourism",
            "responsible_person": "黄师傅",
        },
    ).json()
    assert int(again["code"][-6:]) == int(f["code"][-6:]) + 1


def test_paging_and_filters(api):
    op = api.user("operator")
    first = api.client.get(
        "/api/v1/registry/buildings?village_code=440304004028-V01&page_size=100", headers=op
    ).json()
    assert first["total"] == 318 and len(first["items"]) == 100
    seen = {b["code"] for b in first["items"]}
    for page in (2, 3, 4):
        more = api.client.get(
            f"/api/v1/registry/buildings?village_code=440304004028-V01&page_size=100&page={page}", headers=op
        ).json()
        seen |= {b["code"] for b in more["items"]}
    assert len(seen) == 318
    r = api.client.get("/api/v1/registry/buildings?page_size=5000", headers=op)
    assert r.status_code == 422


def test_area_features_as_geojson_pages_through_everything(api):
    op = api.user("operator")
    total = None
    codes = set()
    page = 1
    while True:
        fc = api.client.get(
            f"/api/v1/registry/areas/440304004028/features?layer=venues&page_size=200&page={page}", headers=op
        ).json()
        assert fc["type"] == "FeatureCollection"
        total = fc["numberMatched"]
        codes |= {f["id"] for f in fc["features"]}
        if fc["numberReturned"] < 200:
            break
        page += 1
    assert total >= 660 and len(codes) == total  # Shuiwei's 660 venues, plus any others in the community
    assert fc["features"][0]["geometry"]["type"] == "Point"
    village = api.client.get(
        "/api/v1/registry/areas/440304004028-V01/features?layer=venues&page_size=1", headers=op
    ).json()
    assert village["numberMatched"] == 660


def test_street_outlines_layer(api):
    op = api.user("operator")
    fc = api.client.get("/api/v1/registry/areas.geojson?level=street&simplify_m=20", headers=op).json()
    assert fc["numberMatched"] == 11
    names = {f["properties"]["name"] for f in fc["features"]}
    assert {"福田街道", "莲花街道", "福田保税区"} <= names
    assert all(f["properties"]["approximate"] for f in fc["features"])


def test_new_grid_cell_outline_relocates_existing_records(api):
    """Changing an area's outline re-derives the area codes of the rows it now covers."""
    admin = api.user("admin")
    api.client.post("/api/v1/registry/buildings", headers=admin, json=_building())
    before = api.client.get("/api/v1/registry/buildings/B-T1", headers=admin).json()
    cell = api.client.get(f"/api/v1/registry/areas/{before['grid_code']}/geojson", headers=admin).json()
    lon, lat = SHUIWEI
    tiny = {
        "type": "Polygon",
        "coordinates": [
            [
                [lon - 1e-4, lat - 1e-4],
                [lon + 1e-4, lat - 1e-4],
                [lon + 1e-4, lat + 1e-4],
                [lon - 1e-4, lat + 1e-4],
                [lon - 1e-4, lat - 1e-4],
            ]
        ],
    }
    # Shrink the building's own cell to a tiny square elsewhere: the building falls out of every cell.
    off = {"type": "Polygon", "coordinates": [[[x + 0.001, y] for x, y in tiny["coordinates"][0]]]}
    r = api.client.patch(
        f"/api/v1/registry/areas/{before['grid_code']}", headers=admin, json={"geometry": off}
    )
    assert r.status_code == 200, r.text
    after = api.client.get("/api/v1/registry/buildings/B-T1", headers=admin).json()
    assert after["grid_code"] is None
    # And back: the original outline restores it.
    r = api.client.patch(
        f"/api/v1/registry/areas/{before['grid_code']}", headers=admin, json={"geometry": cell["geometry"]}
    )
    assert (
        api.client.get("/api/v1/registry/buildings/B-T1", headers=admin).json()["grid_code"]
        == before["grid_code"]
    )


def test_bad_area_geometry_is_refused(api):
    admin = api.user("admin")
    bow = {
        "type": "Polygon",
        "coordinates": [
            [[114.06, 22.52], [114.07, 22.53], [114.07, 22.52], [114.06, 22.53], [114.06, 22.52]]
        ],
    }
    r = api.client.post(
        "/api/v1/registry/areas",
        headers=admin,
        json={"code": "X1", "name": "x", "level": "village", "parent_code": "440304004028", "geometry": bow},
    )
    assert r.status_code == 422 and r.json()["code"] == "geo.bad_geometry"
    square = {
        "type": "Polygon",
        "coordinates": [
            [[114.06, 22.52], [114.07, 22.52], [114.07, 22.53], [114.06, 22.53], [114.06, 22.52]]
        ],
    }
    r = api.client.post(
        "/api/v1/registry/areas",
        headers=admin,
        json={
            "code": "X1",
            "name": "x",
            "level": "grid_cell",
            "parent_code": "440304004",
            "geometry": square,
        },
    )
    assert r.status_code == 422 and r.json()["code"] == "registry.level_order"


def test_every_layer_of_the_village_is_served(api):
    op = api.user("operator")
    for layer in ("buildings", "venues", "facilities"):
        r = api.client.get(
            f"/api/v1/registry/areas/440304004028-V01/features?layer={layer}&page_size=5", headers=op
        )
        assert r.status_code == 200, (layer, r.text)
    buildings = api.client.get(
        "/api/v1/registry/areas/440304004028-V01/features?layer=buildings&page_size=1", headers=op
    ).json()
    assert buildings["numberMatched"] == 318


def test_area_edited_elsewhere_reaches_this_process(api):
    """Another worker's change to an outline is picked up without a restart (within the recheck interval)."""
    from urbanbrain.domains.registry import spatial

    admin = api.user("admin")
    with api.platform.db.session() as session:
        first = spatial.get_lookup(api.platform, session)
    with api.platform.db.engine.begin() as conn:  # as another process would: straight to the database
        conn.exec_driver_sql(
            "UPDATE registry_area SET version = version + 1 WHERE code = '440304004028-G001'"
        )
    entry = api.platform.caches[spatial.CACHE_KEY]
    api.platform.caches[spatial.CACHE_KEY] = (entry[0], entry[1], entry[2] - spatial.RECHECK_SECONDS - 1)
    assert (
        api.client.get("/api/v1/registry/locate?lon=114.0665&lat=22.5262", headers=admin).status_code == 200
    )
    assert api.platform.caches[spatial.CACHE_KEY][0] is not first
