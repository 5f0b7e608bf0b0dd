"""A short JuPedSim scenario through the platform's real HTTP door: its devices provisioned, its zone
declared, its readings landed with the simulated event times."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from urbanbrain.core.auth.actions import do_create_api_key
from urbanbrain.core.auth.principal import SYSTEM
from urbanbrain.domains.crowd.physics import Crowd, Inflow, run
from urbanbrain.simulate.crowd.devices import messages, virtual_devices
from urbanbrain.simulate.crowd.publish import declare_zone, device_bodies, provision, stream, zone_body
from urbanbrain.simulate.crowd.venues import venue

MEASUREMENTS = {"line_counter": ["in", "out"], "crowd_camera": ["head_count"], "cell_signal": ["persons"]}


@pytest.fixture
def door(api):
    """An admin's headers and a gateway's API key; the crowd device types where the domain has not put them."""
    admin = api.user("admin")
    have = {t["code"] for t in api.client.get("/api/v1/sensing/device-types", headers=admin).json()}
    for code, names in MEASUREMENTS.items():
        if code not in have:
            body = {"code": code, "name_zh": code, "name_en": code,
                    "measurements": [{"name": n, "unit": "persons", "min": 0} for n in names]}  # fmt: skip
            assert api.client.put(f"/api/v1/sensing/device-types/{code}", json=body, headers=admin).is_success
    with api.platform.db.session() as session:
        _, key = do_create_api_key(
            session, api.platform.clock, SYSTEM, name="crowd gateway", scopes=["devices:write"]
        )
    return admin, key


def test_a_scenario_streamed_through_the_http_door_lands_its_readings(api, door):
    admin, key = door
    site = venue("metro_exit")
    rec = run(
        site, Inflow(((0.0, 40.0),)), duration_s=60, crowd=Crowd(dwell_mean_s=30, dwell_min_s=10), seed=5
    )
    now = api.platform.clock.now().timestamp()
    start = now - 120
    sent = messages(site, rec, start_ts=start, seed=5)
    provision(api.client, site, admin)
    pipeline = api.platform.caches["sensing.pipeline"]
    pipeline.reload()
    assert stream(api.client, sent, api_key=key, speed=0, batch=10) == len(sent)
    pipeline.drain()
    pipeline.call(pipeline.checkpoint).result(timeout=30)

    device = api.client.get("/api/v1/sensing/devices/HZ-EXIT-B-E1", headers=admin).json()
    assert device["type_code"] == "line_counter"
    since, until = (datetime.fromtimestamp(t, UTC).isoformat() for t in (start - 1, now))
    landed = api.client.get(
        "/api/v1/sensing/devices/HZ-EXIT-B-E1/history",
        params={"measurement": "in", "since": since, "until": until},
        headers=admin,
    ).json()
    e1 = [m for m in sent if m["device"] == "HZ-EXIT-B-E1"]
    assert [h["value"] for h in landed] == [m["values"]["in"] for m in e1]
    assert sum(h["value"] for h in landed) > 0

    # paced on a clock that moves only while it waits: it waits out the simulated hour at 600x, moment by
    # moment (resent, the messages are repeats)
    slept = [0.0]
    waits: list[float] = []

    def sleep(s: float) -> None:
        waits.append(s)
        slept[0] += s

    assert stream(api.client, sent, api_key=key, speed=600, sleep=sleep, clock=lambda: slept[0]) == len(sent)
    assert len(waits) == len({m["ts"] for m in sent}) - 1
    assert sum(waits) == pytest.approx((sent[-1]["ts"] - sent[0]["ts"]) / 600)


def test_the_zone_is_declared_with_the_virtual_devices_as_inputs(api, door):
    admin, _ = door
    site = venue("civic_plaza")
    provision(api.client, site, admin)
    declare_zone(api.client, site, admin, capacity=400)
    zone = api.client.get("/api/v1/crowd/zones/CC-PLAZA", headers=admin).json()
    assert zone["area_m2"] == pytest.approx(96.0)
    assert {i["device_id"] for i in zone["inputs"]} == {d.device_id for d in virtual_devices(site)}


def test_the_bodies_name_every_device_and_a_lonlat_zone():
    site = venue("civic_plaza")
    assert [b["device_id"] for b in device_bodies(site)] == [d.device_id for d in virtual_devices(site)]
    body = zone_body(site)
    lon, lat = body["geometry"]["coordinates"][0][0]
    assert 114.05 < lon < 114.07 and 22.53 < lat < 22.55
    assert {i["role"] for i in body["inputs"]} == {"entrance", "exit", "camera", "cell"}
