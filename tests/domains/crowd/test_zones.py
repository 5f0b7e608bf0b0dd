"""Crowd zones as the centre sets them up: a polygon, its walkable area, its counters and camera; refused
with a clear sentence when something is wrong; seen by the streets they lie in."""

from __future__ import annotations

from sqlalchemy import select, text

from tests.domains.crowd.conftest import AREA, DEVICES, PLAZA
from urbanbrain.core.models import AuditEntry


def test_a_zone_with_its_inputs_is_saved_located_and_listed(plaza):
    zone = plaza.put_zone()
    assert zone["code"] == "FT-CIVIC-PLAZA" and zone["area_m2"] == AREA
    assert zone["street_code"].startswith("440304") and zone["community_code"].startswith(zone["street_code"])
    assert {i["device_id"]: i["role"] for i in zone["inputs"]}["PZ-CAM1"] == "camera"
    assert zone["levels"] == {"density": [2.0, 3.5, 5.0, 6.5]}
    assert zone["occupancy"] is None and zone["as_of"] is None  # nothing reported yet
    listed = plaza.client.get("/api/v1/crowd/zones", headers=plaza.head("operator")).json()
    assert [z["code"] for z in listed["items"]] == ["FT-CIVIC-PLAZA"]
    got = plaza.client.get("/api/v1/crowd/zones/FT-CIVIC-PLAZA", headers=plaza.head("operator")).json()
    assert got["inputs"] == zone["inputs"] and got["version"] == 1


def test_levels_as_capacity_ratios_become_densities(plaza):
    zone = plaza.put_zone(levels={"capacity_ratio": [0.5, 0.7, 0.8, 0.9]})  # capacity 8000 on 2000 m²
    assert zone["levels"]["density"] == [2.0, 2.8, 3.2, 3.6]


def test_replacing_a_zone_replaces_its_inputs_and_checks_the_version(plaza):
    plaza.put_zone()
    two = plaza.client.put("/api/v1/crowd/zones/FT-CIVIC-PLAZA?version=1",
                           json=plaza.zone_body(inputs=[{"device_id": "PZ-CAM1", "role": "camera"}]),
                           headers=plaza.head("operator"))  # fmt: skip
    assert two.status_code == 200, two.text
    assert two.json()["inputs"] == [{"device_id": "PZ-CAM1", "role": "camera"}] and two.json()["version"] == 2
    stale = plaza.client.put("/api/v1/crowd/zones/FT-CIVIC-PLAZA?version=1", json=plaza.zone_body(),
                             headers=plaza.head("operator"))  # fmt: skip
    assert stale.status_code == 409 and stale.json()["code"] == "stale"


def _groups(plaza) -> dict[str, str | None]:
    """Each plaza device's partition group, as the sensing platform's device view shows it."""
    out = {}
    for device in DEVICES:
        r = plaza.client.get(f"/api/v1/sensing/devices/{device}", headers=plaza.admin)
        assert r.status_code == 200, r.text
        out[device] = r.json()["partition_group"]
    return out


def _grouping_audit(plaza) -> list[tuple[str, str, str | None, str | None]]:
    """(actor, device, group before, group after) of each device grouping, oldest first."""
    q = select(AuditEntry).where(AuditEntry.action == "sensing.device.group").order_by(AuditEntry.seq)
    with plaza.platform.db.session() as session:
        rows = session.scalars(q).all()
        return [(r.actor, r.entity_id, r.before["partition_group"], r.after["partition_group"]) for r in rows]


def test_a_zones_inputs_share_a_partition_group_and_leave_it_when_dropped(plaza):
    """Scaled out, readings of devices without a building are partitioned by their group: the zone's inputs
    are grouped in the zone's save, by the operator who saved it (who may not edit devices otherwise)."""
    plaza.put_zone()  # as the operator
    assert _groups(plaza) == dict.fromkeys(DEVICES, "crowd:FT-CIVIC-PLAZA")
    audit = _grouping_audit(plaza)
    assert sorted(e for _, e, _, _ in audit) == sorted(DEVICES)
    assert all(actor.startswith("user:operator-") for actor, _, _, _ in audit)
    assert {(b, af) for _, _, b, af in audit} == {(None, "crowd:FT-CIVIC-PLAZA")}

    fewer = [{"device_id": "PZ-CAM1", "role": "camera"}, {"device_id": "PZ-E1", "role": "entrance"}]
    plaza.put_zone(inputs=fewer)
    assert _groups(plaza) == {"PZ-E1": "crowd:FT-CIVIC-PLAZA", "PZ-E2": None, "PZ-X1": None,
                              "PZ-CAM1": "crowd:FT-CIVIC-PLAZA"}  # fmt: skip
    assert sorted((e, b, af) for _, e, b, af in _grouping_audit(plaza)[len(DEVICES) :]) == [
        ("PZ-E2", "crowd:FT-CIVIC-PLAZA", None),
        ("PZ-X1", "crowd:FT-CIVIC-PLAZA", None),
    ]
    with plaza.platform.db.session() as session:
        changed = session.execute(
            text("SELECT count(*) FROM core_outbox WHERE type = 'sensing.device.changed'")
        ).scalar()
    assert changed == len(DEVICES) + 2


def test_a_device_in_two_zones_is_grouped_with_the_zone_saved_last(plaza):
    plaza.put_zone()
    plaza.put_zone(code="FT-CIVIC-STAGE", inputs=[{"device_id": "PZ-CAM1", "role": "camera"}])
    assert _groups(plaza)["PZ-CAM1"] == "crowd:FT-CIVIC-STAGE"
    assert _groups(plaza)["PZ-E1"] == "crowd:FT-CIVIC-PLAZA"
    plaza.put_zone()  # saved again, the plaza takes its camera back
    assert _groups(plaza)["PZ-CAM1"] == "crowd:FT-CIVIC-PLAZA"
    assert _grouping_audit(plaza)[-1][1:] == ("PZ-CAM1", "crowd:FT-CIVIC-STAGE", "crowd:FT-CIVIC-PLAZA")


def _refused(plaza, expect, code, **changes):
    body = plaza.put_zone(expect=expect, **changes)
    assert body["code"] == code, body
    assert body["messages"]["zh-CN"] and body["messages"]["en"]
    return body


def test_what_is_wrong_with_a_zone_is_said_and_nothing_is_saved(plaza):
    body = _refused(plaza, 422, "crowd.unknown_device", inputs=[{"device_id": "NOPE-1", "role": "entrance"}])
    assert "NOPE-1" in body["messages"]["en"]
    body = _refused(plaza, 422, "crowd.wrong_device_type", inputs=[{"device_id": "PZ-E1", "role": "camera"}])
    assert "line_counter" in body["messages"]["en"] and "crowd_camera" in body["messages"]["en"]
    bowtie = [
        [114.059, 22.5425],
        [114.060, 22.5434],
        [114.060, 22.5425],
        [114.059, 22.5434],
        [114.059, 22.5425],
    ]
    _refused(plaza, 422, "crowd.bad_geometry", geometry={"type": "Polygon", "coordinates": [bowtie]})
    beijing = [[116.39, 39.90], [116.40, 39.90], [116.40, 39.91], [116.39, 39.91], [116.39, 39.90]]
    _refused(plaza, 422, "crowd.outside_district", geometry={"type": "Polygon", "coordinates": [beijing]})
    _refused(
        plaza,
        422,
        "crowd.levels_need_capacity",
        capacity=None,
        levels={"capacity_ratio": [0.5, 0.6, 0.7, 0.8]},
    )
    twice = [{"device_id": "PZ-E1", "role": "entrance"}, {"device_id": "PZ-E1", "role": "exit"}]
    _refused(plaza, 422, "crowd.duplicate_input", inputs=twice)
    _refused(plaza, 422, "request.invalid", levels={"density": [2, 5, 3.5, 6.5]})  # not rising
    _refused(plaza, 422, "request.invalid", area_m2=0)
    r = plaza.client.put(
        "/api/v1/crowd/zones/plaza one", json=plaza.zone_body(), headers=plaza.head("operator")
    )
    assert r.status_code == 422 and r.json()["code"] == "crowd.zone_code"
    listed = plaza.client.get("/api/v1/crowd/zones", headers=plaza.head("operator")).json()
    assert listed["items"] == []


def test_a_street_sees_its_own_zones_and_departments_none(plaza):
    zone = plaza.put_zone()
    own, other = f"street:{zone['street_code']}", "street:440304010"
    assert zone["street_code"] != "440304010"
    assert plaza.client.get("/api/v1/crowd/zones/FT-CIVIC-PLAZA", headers=plaza.head(own)).status_code == 200
    assert (
        plaza.client.get("/api/v1/crowd/zones/FT-CIVIC-PLAZA", headers=plaza.head(other)).status_code == 404
    )
    assert plaza.client.get("/api/v1/crowd/zones", headers=plaza.head(other)).json()["items"] == []
    r = plaza.client.get("/api/v1/crowd/zones", headers=plaza.head("handler"))
    assert r.status_code == 403 and r.json()["code"] == "auth.forbidden"
    r = plaza.client.put("/api/v1/crowd/zones/FT-X", json=plaza.zone_body(), headers=plaza.head(own))
    assert r.status_code == 403
    assert PLAZA[0] == PLAZA[-1]
