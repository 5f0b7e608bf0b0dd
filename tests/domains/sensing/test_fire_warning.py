"""IoT fire warning in a Shuiwei building: multi-sensor confirmation, the live stream, restarts, and MQTT
through a real broker (the embedded amqtt and Mosquitto), on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import threading
import uuid

import aiomqtt
import httpx
import pytest
from sqlalchemy import text

from tests.conftest import serving
from tests.domains.sensing.conftest import OWNER_PHONE, shuiwei_building
from urbanbrain.apps.fire_safety.devices import do_install_fire_monitoring
from urbanbrain.core.auth.actions import do_create_api_key, do_create_user
from urbanbrain.core.auth.principal import SYSTEM
from urbanbrain.core.bus.memory import MemoryBus
from urbanbrain.core.context import Platform
from urbanbrain.core.live import feed
from urbanbrain.core.plugins import subscribe_consumers
from urbanbrain.domains.sensing.actions import do_provision_device
from urbanbrain.domains.sensing.ingest.service import MqttService, PipelineService
from urbanbrain.domains.sensing.schemas import DeviceCreate


def _alarms(site, **params):
    return site.client.get("/api/v1/sensing/alarms", params=params, headers=site.admin).json()["items"]


def _smoke_and_heat(site, t):
    return [
        site.message("TMP-1", {"temp_c": 26.0}, ts=t - 60),
        site.message("SMK-1", {"smoke_obscuration": 0.2, "temp_c": 26.0}, ts=t - 60),
        site.message("TMP-1", {"temp_c": 38.0}, ts=t),
        site.message("SMK-1", {"smoke_obscuration": 5.5, "temp_c": 33.0}, ts=t + 20),
    ]


def test_smoke_and_heat_in_one_building_is_a_confirmed_fire_with_a_case(site):
    t = site.now() - 30
    assert site.send(_smoke_and_heat(site, t)).status_code == 202
    site.settle()
    fire = _alarms(site, level="red")
    assert [(a["alarm_type"], a["scope"], a["origin"]) for a in fire] == [("fire", "group", site.building)]
    case = site.client.get(f"/api/v1/cases/{fire[0]['case_number']}", headers=site.admin).json()
    assert case["category_code"] == "E0701" and case["department_code"] == "fire"
    assert fire[0]["event_at"] < fire[0]["raised_at"]  # event time of the readings, raised when processed
    # the owner (SMS), the community work station and the command centre (inboxes) hear of the fire at once
    assert sorted(site.told("%red warning: fire")) == sorted(
        ["smart_city_office", f"station-{site.community}"]
    )
    assert (f"alarm-{fire[0]['id']}", OWNER_PHONE) in site.texted()


def test_one_noisy_smoke_detector_calls_out_no_crew(site):
    t = site.now() - 30
    site.send([site.message("SMK-2", {"smoke_obscuration": 4.5, "temp_c": 26.0}, ts=t),
               site.message("SMK-2", {"smoke_obscuration": 0.3, "temp_c": 26.0}, ts=t + 60)])  # fmt: skip
    site.settle()
    seen = _alarms(site)
    assert [(a["alarm_type"], a["level"], a["status"]) for a in seen] == [("smoke", "yellow", "cleared")]
    assert seen[0]["case_number"] is None


def test_a_sensor_fault_is_not_a_fire(site):
    site.send([site.message("EFM-1", {"residual_current_ma": 20.0, "cable_temp_c": -40.0})])
    site.settle()
    assert [(a["alarm_type"], a["level"], a["case_number"]) for a in _alarms(site)] == [
        ("sensor_fault", "blue", None)
    ]


def test_a_reading_outside_the_measuring_range_is_a_fault_that_no_other_rule_sees(site):
    t = site.now() - 300
    site.send([site.message("SMK-1", {"smoke_obscuration": 0.1, "temp_c": 26.0}, ts=t),
               site.message("SMK-1", {"smoke_obscuration": 0.1, "temp_c": 850.0}, ts=t + 60),
               site.message("SMK-1", {"smoke_obscuration": 0.1, "temp_c": 26.5}, ts=t + 120)])  # fmt: skip
    site.settle()
    seen = [(a["alarm_type"], a["level"], a["status"], a["case_number"]) for a in _alarms(site)]
    # a broken temperature sensor: a fault raised and cleared, no temperature rise, no fire, no owner SMS
    assert seen == [("sensor_fault", "blue", "cleared", None)]
    with site.platform.db.session() as session:
        assert session.execute(text("SELECT count(*) FROM core_delivery")).scalar() == 0
    # what the device sent is kept as sent
    latest = site.client.get("/api/v1/sensing/devices/SMK-1", headers=site.admin).json()["latest"]
    assert latest["temp_c"]["value"] == 26.5


def test_the_command_centre_stream_shows_the_fire(seeded):
    """Through a real server (the test client buffers whole responses, a stream never ends)."""
    platform = seeded
    building, _ = shuiwei_building(platform)
    with platform.db.session() as session:
        do_install_fire_monitoring(session, platform, SYSTEM)
        for device, kind in [("SMK-1", "smoke_detector"), ("TMP-1", "temp_sensor")]:
            do_provision_device(session, platform, SYSTEM, DeviceCreate(device_id=device, type_code=kind,
                                                                        building_code=building, key=device * 6))  # fmt: skip
        do_create_user(session, platform.clock, SYSTEM, username="centre", password="pw-" + "x" * 12,
                       role="operator")  # fmt: skip
    with serving(platform) as base, httpx.Client(base_url=base, timeout=30) as client:
        token = client.post("/api/v1/auth/token", data={"username": "centre", "password": "pw-" + "x" * 12})
        headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
        t = platform.clock.now().timestamp() - 30
        fire = [{"id": "a", "device": "TMP-1", "ts": t - 60, "values": {"temp_c": 26.0}},
                {"id": "b", "device": "TMP-1", "ts": t, "values": {"temp_c": 38.0}},
                {"id": "c", "device": "SMK-1", "ts": t + 20, "values": {"smoke_obscuration": 5.5}}]  # fmt: skip
        with client.stream("GET", "/api/v1/alerts/stream", headers=headers) as r:
            assert r.status_code == 200
            lines = r.iter_lines()
            assert next(lines) == ": connected"
            with httpx.Client(base_url=base, timeout=30) as gateway:
                key = {"X-API-Key": _readings_key(platform)}
                assert gateway.post("/api/v1/sensing/readings", json=fire, headers=key).status_code == 202
            events = []
            for line in lines:
                if line.startswith("data: "):
                    events.append(json.loads(line[6:]))
                    if any(e["alarm_type"] == "fire" for e in events):
                        break
    fire_event = next(e for e in events if e["alarm_type"] == "fire")
    assert (
        fire_event["event"] == "raised"
        and fire_event["level"] == "red"
        and fire_event["building_code"] == building
    )


def _readings_key(platform) -> str:
    with platform.db.session() as session:
        _, secret = do_create_api_key(
            session, platform.clock, SYSTEM, name="gateway", scopes=["devices:write"]
        )
    return secret


def test_a_restart_keeps_rule_state_and_alarms(site):
    platform = site.platform
    t = site.now() - 120
    site.send([site.message("EFM-1", {"cable_temp_c": 75.0}, ts=t)])  # one of the two readings in a row
    site.send([site.message("EFM-1", {"residual_current_ma": 400.0}, ts=t)])
    site.settle()
    assert [a["alarm_type"] for a in _alarms(site, open=True)] == ["residual_current"]
    platform.caches["sensing.pipeline"].stop()
    again = PipelineService(platform)
    again.start()
    try:
        site.send([site.message("EFM-1", {"cable_temp_c": 76.0}, ts=t + 60)])
        site.settle()
        assert sorted(a["alarm_type"] for a in _alarms(site, open=True)) == [
            "cable_overheat",
            "residual_current",
        ]
        # The resent first message is still known after the restart: taken once.
        r = site.send([site.message("EFM-1", {"cable_temp_c": 75.0}, ts=t, mid="m1")])
        assert r.json()["duplicates"] == 1
    finally:
        again.stop()


async def _publish(host: str, port: int, topic: str, payloads: list[bytes], **auth: str) -> None:
    async with aiomqtt.Client(host, port, protocol=aiomqtt.ProtocolVersion.V311, **auth) as client:
        for p in payloads:
            await client.publish(topic, p, qos=1)


def test_the_feed_has_the_alarm_before_its_case_and_the_case_comes_through_the_bus(site):
    screen = feed(site.platform)  # what the command centre's stream reads

    async def watch() -> list:
        sub = screen.subscribe(SYSTEM)
        try:
            await asyncio.to_thread(site.send, [site.message("EFM-1", {"residual_current_ma": 400.0})])
            await asyncio.to_thread(site.settle)
            await asyncio.sleep(0.05)
            # the centre's feed also carries the case's own items (event: case); the alarm's are these
            return [item.data for item in _drain(sub) if item.name == "alarm"]
        finally:
            screen.unsubscribe(sub)

    events = [(item["event"], item["case_number"]) for item in asyncio.run(watch())]
    assert events[0] == ("raised", None)  # on the stream before the case is opened
    assert events[1][0] == "case_opened" and events[1][1]
    case = site.client.get(f"/api/v1/cases/{events[1][1]}", headers=site.admin).json()
    assert case["source"] == "sensor" and case["category_code"] == "E0703"


def test_an_alarm_whose_case_a_crash_interrupted_gets_it_when_the_platform_comes_back(site, tmp_path):
    """The alarm is committed with its event in the outbox; the process dies before the event leaves. The
    next process publishes it, and the cases domain opens the case: redelivery, no special path."""
    platform = site.platform
    platform.relay.stop()  # nothing leaves the outbox from here: as if the process died after the commit
    site.send([site.message("EFM-1", {"residual_current_ma": 400.0})])
    site.pipeline.drain()
    [alarm] = _alarms(site, open=True)
    assert alarm["case_number"] is None
    with platform.db.session() as session:
        pending = session.execute(
            text(
                "SELECT count(*) FROM core_outbox WHERE type = 'sensing.alarm.raised' AND published_at IS NULL"
            )
        ).scalar()
    assert pending == 1
    again = Platform.build(platform.settings, clock=platform.clock, bus=MemoryBus())
    try:
        subscribe_consumers(again)
        again.relay.flush()
        again.relay.flush()  # the case's registration reaches the alarm
    finally:
        again.close()
    [alarm] = _alarms(site, open=True)
    case = site.client.get(f"/api/v1/cases/{alarm['case_number']}", headers=site.admin).json()
    assert case["category_code"] == "E0703" and case["source"] == "sensor"
    with platform.db.session() as session:
        sensor_cases = session.execute(
            text("SELECT count(*) FROM cases_case WHERE source = 'sensor'")
        ).scalar()
    assert sensor_cases == 1


def _drain(sub):
    out = []
    while not sub.queue.empty():
        out.append(sub.queue.get_nowait())
    return out


@pytest.mark.parametrize("broker", ["embedded", "mosquitto"])
def test_mqtt_readings_from_a_device_raise_the_fire(site, broker):
    platform = site.platform
    platform.settings.district_code = "t" + uuid.uuid4().hex[:8]  # this test's own topics
    url = "embedded://127.0.0.1:0" if broker == "embedded" else "mqtt://127.0.0.1:1883"
    door = MqttService(platform, site.pipeline.pipeline, url)
    door.start()
    try:
        host, port = ("127.0.0.1", door.broker.port) if door.broker else ("127.0.0.1", 1883)
        district = platform.settings.district_code
        t = site.now() - 30
        by_device: dict[str, list[bytes]] = {}
        for m in _smoke_and_heat(site, t):
            device = m.pop("device")
            by_device.setdefault(device, []).append(json.dumps(m).encode())
        for device, payloads in by_device.items():
            auth = {"username": device, "password": site.keys[device]} if broker == "embedded" else {}
            asyncio.run(_publish(host, port, f"ub/{district}/devices/{device}/readings", payloads, **auth))
        for _ in range(100):
            site.settle()
            if _alarms(site, level="red"):
                break
            threading.Event().wait(0.1)
        assert [a["alarm_type"] for a in _alarms(site, level="red")] == ["fire"]
        if broker == "embedded":  # the embedded broker checks device keys
            with pytest.raises(aiomqtt.MqttError):
                asyncio.run(_publish(host, port, f"ub/{district}/devices/SMK-1/readings", [b"{}"],
                                     username="SMK-1", password="not-its-key"))  # fmt: skip
    finally:
        door.stop()


def test_on_the_embedded_broker_a_device_publishes_only_its_own_readings(site):
    platform = site.platform
    platform.settings.district_code = "t" + uuid.uuid4().hex[:8]  # this test's own topics
    district = platform.settings.district_code
    door = MqttService(platform, site.pipeline.pipeline, "embedded://127.0.0.1:0")
    door.start()
    try:
        port, t = door.broker.port, site.now() - 30
        smk1 = {"username": "SMK-1", "password": site.keys["SMK-1"]}

        async def publish() -> None:
            async with aiomqtt.Client("127.0.0.1", port, protocol=aiomqtt.ProtocolVersion.V311, **smk1) as c:
                # another device's topic (a forged fire), then its own, in that order on one connection
                forged = {"id": "f1", "ts": t, "values": {"smoke_obscuration": 9.0, "temp_c": 60.0}}
                own = {"id": "o1", "ts": t, "values": {"smoke_obscuration": 0.2, "temp_c": 26.0}}
                await c.publish(f"ub/{district}/devices/SMK-2/readings", json.dumps(forged), qos=1)
                await c.publish(f"ub/{district}/devices/SMK-1/readings", json.dumps(own), qos=1)
                await asyncio.sleep(0.5)  # amqtt drops what it has not routed when the publisher leaves

        before = site.pipeline.stats["bodies"]
        asyncio.run(publish())
        for _ in range(100):
            site.settle()
            if site.pipeline.stats["bodies"] > before:
                break
            threading.Event().wait(0.1)
        assert site.pipeline.stats["bodies"] == before + 1  # its own reading only
        latest = site.client.get("/api/v1/sensing/devices/SMK-2", headers=site.admin).json()["latest"]
        assert latest == {} and _alarms(site) == []
    finally:
        door.stop()


def test_the_platform_being_down_is_not_every_device_going_offline(site):
    platform = site.platform
    site.send([site.message("EFM-1", {"residual_current_ma": 20.0, "cable_temp_c": 30.0})])
    site.settle()
    platform.caches["sensing.pipeline"].stop()
    platform.clock.advance(2 * 3600)  # the platform is down for two hours
    again = PipelineService(platform)
    again.start()
    try:
        again.drain()
        assert [a["alarm_type"] for a in _alarms(site)] == []  # not 'offline' for the platform's outage
        platform.clock.advance(16 * 60)  # but silent for 15 minutes while the platform listens: offline
        again.drain()
        assert [(a["alarm_type"], a["origin"]) for a in _alarms(site, open=True)] == [("offline", "EFM-1")]
    finally:
        again.stop()
