"""Scaling out over NATS JetStream (a real server): doors route readings by building to the workers that own
the partitions; composite fire alarms still need a building whole; a crowd zone's inputs, without a
building, reach one worker by their partition group; what a door acknowledged waits in the stream for a
worker that is not running yet; every process's command-centre stream shows every worker's alarms. On SQLite
and PostgreSQL (two platforms on one database, as two worker processes would be)."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import Iterator
from typing import Any

import msgspec
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from tests.conftest import NATS_URL, Platform
from tests.domains.crowd.conftest import AREA, PLAZA
from urbanbrain.api.app import create_app
from urbanbrain.apps.fire_safety.devices import do_install_fire_monitoring
from urbanbrain.core import live
from urbanbrain.core.auth.principal import SYSTEM
from urbanbrain.core.bus.nats import NatsBus
from urbanbrain.core.errors import UrbanBrainError
from urbanbrain.demo.district import SHUIWEI_VILLAGE
from urbanbrain.domains.crowd.actions import do_install_device_types, do_save_zone
from urbanbrain.domains.crowd.devices import ROLE_TYPES
from urbanbrain.domains.crowd.schemas import ZoneSave
from urbanbrain.domains.sensing.actions import do_provision_device, do_update_device
from urbanbrain.domains.sensing.api import alarm_item
from urbanbrain.domains.sensing.ingest.partition import describe, parse_owned, partition_of
from urbanbrain.domains.sensing.ingest.service import PipelineService
from urbanbrain.domains.sensing.schemas import DeviceCreate, DeviceUpdate

PARTITIONS = 2


def test_partitions_are_named_and_checked():
    assert parse_owned("all", 8) == frozenset(range(8))
    assert parse_owned("none", 8) == frozenset()
    assert parse_owned("0,2,4-6", 8) == frozenset({0, 2, 4, 5, 6})
    assert describe(parse_owned("0,2,4-6", 8), 8) == "0_2_4-6"
    for bad in ("8", "3-1", "x", "0,,1"):
        with pytest.raises(UrbanBrainError) as err:
            parse_owned(bad, 8)
        assert err.value.code == "sensing.bad_partitions"
        assert "0-3,8" in err.value.render("en") and "0-3,8" in err.value.render("zh-CN")
    # the same building lands in the same partition in every process
    assert partition_of("44030400100100100001", 16) == partition_of("44030400100100100001", 16)


def _two_buildings(platform: Platform) -> list[str]:
    """Two Shuiwei buildings in different partitions (of two)."""
    with platform.db.session() as session:
        codes = session.execute(
            text("SELECT code FROM registry_building WHERE village_code = :v ORDER BY code"),
            {"v": SHUIWEI_VILLAGE},
        ).scalars()
        by_part: dict[int, str] = {}
        for code in codes:
            by_part.setdefault(partition_of(code, PARTITIONS), code)
            if len(by_part) == PARTITIONS:
                return [by_part[0], by_part[1]]
    raise AssertionError("Shuiwei's buildings all fall in one partition")


@pytest.fixture
def fleet(seeded: Platform) -> Iterator[tuple[Platform, list[str]]]:
    """Fire monitoring with a smoke detector and a heat sensor in each of two buildings of two partitions."""
    buildings = _two_buildings(seeded)
    with seeded.db.session() as session:
        do_install_fire_monitoring(session, seeded, SYSTEM)
    with seeded.db.session() as session:
        for n, building in enumerate(buildings):
            for device, kind in ((f"SMK-{n}", "smoke_detector"), (f"TMP-{n}", "temp_sensor")):
                do_provision_device(session, seeded, SYSTEM,
                                 DeviceCreate(device_id=device, type_code=kind, building_code=building,
                                              owner_name="王业主", owner_phone="13800138000"))  # fmt: skip
    yield seeded, buildings


def _scaled(base: Platform, tmp: Any, name: str, owned: str, namespace: str) -> Platform:
    settings = base.settings.model_copy(
        update={
            "data_dir": tmp / name,
            "sensing_stream_url": f"{NATS_URL}?namespace={namespace}",
            "sensing_partitions": PARTITIONS,
            "sensing_owned_partitions": owned,
        }
    )
    # Scaled out, processes share events through NATS (each its own connection to one stream).
    bus = NatsBus(f"{NATS_URL}?stream=UBT_{namespace}&prefix={namespace}.")
    return Platform.build(settings, clock=base.clock, bus=bus)


@pytest.fixture
def namespace() -> Iterator[str]:
    ns = "t" + uuid.uuid4().hex[:10] + "_"
    yield ns
    asyncio.run(_delete_stream(f"UB_SENSING_{ns}440304"))
    asyncio.run(_delete_stream(f"UBT_{ns}"))


async def _delete_stream(name: str) -> None:
    import nats

    nc = await nats.connect(NATS_URL)
    with contextlib.suppress(Exception):
        await nc.jetstream().delete_stream(name)
    await nc.close()


def _fire(building_no: int, t: float, tag: str) -> bytes:
    return msgspec.json.encode([
        {"id": f"{tag}a", "device": f"TMP-{building_no}", "ts": t - 60, "values": {"temp_c": 26.0}},
        {"id": f"{tag}b", "device": f"TMP-{building_no}", "ts": t, "values": {"temp_c": 38.0}},
        {"id": f"{tag}c", "device": f"SMK-{building_no}", "ts": t + 20,
         "values": {"smoke_obscuration": 5.5, "temp_c": 33.0}},
    ])  # fmt: skip


def _until(check: Any, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def _fires(platform: Platform) -> list[tuple[str, str]]:
    with platform.db.session() as session:
        rows = session.execute(
            text("SELECT origin, scope FROM sensing_alarm WHERE alarm_type = 'fire' ORDER BY origin")
        ).all()
    return [(r[0], r[1]) for r in rows]


def _lake_devices(svc: PipelineService) -> set[str]:
    svc.pipeline.call(svc.pipeline.checkpoint).result(timeout=30)
    return {r[0] for r in svc.pipeline.lake.query("SELECT DISTINCT device_id FROM readings")}


def test_each_building_goes_to_the_worker_of_its_partition_and_keeps_its_fire_alarm(
    fleet, tmp_path, namespace
):
    base, buildings = fleet
    workers = [_scaled(base, tmp_path, f"w{p}", str(p), namespace) for p in range(PARTITIONS)]
    services = [PipelineService(w) for w in workers]
    try:
        for svc in services:
            svc.start()
        t = base.clock.now().timestamp()
        body = msgspec.json.encode(
            msgspec.json.decode(_fire(0, t, "x")) + msgspec.json.decode(_fire(1, t, "y"))
        )
        receipt = services[0].submit(body).result(timeout=10)  # one body, two buildings, two partitions
        assert (receipt.messages, receipt.readings, receipt.dead) == (6, 8, [])
        _until(lambda: sum(s.pipeline.stats["readings"] for s in services) == 8)
        assert [s.health()["stream"]["owned"] for s in services] == [[0], [1]]
        assert all(s.health()["stream"]["records_taken"] >= 1 for s in services)
        for svc in services:
            svc.pipeline.drain()
        assert _fires(base) == sorted((b, "group") for b in buildings)
        assert _lake_devices(services[0]) == {"TMP-0", "SMK-0"}
        assert _lake_devices(services[1]) == {"TMP-1", "SMK-1"}
        # a worker's rules know only its own devices: no absence alarm for the other partition's
        assert set(services[0].pipeline.catalog.active) == {"TMP-0", "SMK-0"}
    finally:
        for svc in services:
            svc.stop()
        for w in workers:
            w.close()


def test_the_door_follows_a_device_moved_to_another_building_without_waiting_for_a_reading(
    fleet, tmp_path, namespace
):
    """The door reads device changes on a thread of its own (its callers are event loops that must not wait
    for the database): a moved smoke detector goes to its new building's partition."""
    base, buildings = fleet
    door = _scaled(base, tmp_path, "door", "none", namespace)
    svc = PipelineService(door)
    try:
        svc.start()
        assert svc.router.partition("SMK-0") == partition_of(buildings[0], PARTITIONS)
        base.clock.advance(60)  # the change's time differs from the provisioning's
        with base.db.session() as session:
            do_update_device(session, base, SYSTEM, "SMK-0", DeviceUpdate(building_code=buildings[1]))
        _until(lambda: svc.router.partition("SMK-0") == partition_of(buildings[1], PARTITIONS), timeout=10)
    finally:
        svc.stop()
        door.close()


def test_readings_a_door_acknowledged_wait_for_their_worker(fleet, tmp_path, namespace):
    base, buildings = fleet
    door = _scaled(base, tmp_path, "door", "none", namespace)
    worker = _scaled(base, tmp_path, "worker", "all", namespace)
    t = base.clock.now().timestamp()
    with TestClient(create_app(platform=door), raise_server_exceptions=False) as client:
        admin = _token(client, door)
        r = client.post("/api/v1/sensing/readings", content=_fire(1, t, "z"), headers=admin)
        assert r.status_code == 202, r.text
        assert r.json() == {"messages": 3, "readings": 4, "duplicates": 0, "dead_lettered": 0, "reasons": {}}
        bad = client.post("/api/v1/sensing/readings", headers=admin,
                          content=b'[{"id": "q", "device": "NOPE", "ts": 1, "values": {"temp_c": 1}}]')  # fmt: skip
        assert bad.status_code == 422 and bad.json()["code"] == "sensing.no_valid_readings"
        assert door.caches["sensing.pipeline"].pipeline.stats["readings"] == 0  # the door works no partition
    assert _fires(base) == []  # no worker has run yet
    svc = PipelineService(worker)
    try:
        svc.start()
        _until(lambda: svc.pipeline.stats["readings"] == 4 and svc.pipeline.stats["dead"] == 1)
        svc.pipeline.drain()
        assert _fires(base) == [(buildings[1], "group")]
        with base.db.session() as session:
            reasons = session.execute(text("SELECT reason FROM sensing_dead_letter")).scalars().all()
        assert reasons == ["unknown_device"]
    finally:
        svc.stop()
        worker.close()
        door.close()


def test_every_process_streams_the_alarms_of_every_worker(fleet, tmp_path, namespace):
    base, buildings = fleet
    workers = [_scaled(base, tmp_path, f"s{p}", str(p), namespace) for p in range(PARTITIONS)]
    services = [PipelineService(w) for w in workers]
    try:
        for w, svc in zip(workers, services, strict=True):
            w.relay.start()
            svc.start()
        screen = live.feed(workers[0])  # the command centre's feed in worker 0's process
        screen.show("sensing.alarm.*", name="alarm", permission="sensing.alarms.read", render=alarm_item)

        async def watch() -> list[dict[str, Any]]:
            sub = screen.subscribe(SYSTEM)
            t = base.clock.now().timestamp()
            await asyncio.wrap_future(services[0].submit(_fire(1, t, "w")))  # building 1: worker 1's
            seen: list[dict[str, Any]] = []
            while not any(i.get("alarm_type") == "fire" for i in seen):
                seen.append((await asyncio.wait_for(sub.queue.get(), timeout=20)).data)
            return seen

        seen = asyncio.run(watch())
        fire = next(i for i in seen if i.get("alarm_type") == "fire")
        assert fire["origin"] == buildings[1]
        services[1].pipeline.drain()  # alarms are recorded (and streamed) before a group's readings count
        assert services[1].pipeline.stats["readings"] == 4 and services[0].pipeline.stats["readings"] == 0
    finally:
        for svc in services:
            svc.stop()
        for w in workers:
            w.close()


def test_a_crowd_zones_inputs_reach_one_worker_though_their_ids_would_split_them(seeded, tmp_path, namespace):
    """A zone's counters and camera have no building: saving the zone groups them, the door routes them
    all to the group's partition (after its next look at the devices), and that worker alone takes them."""
    inputs = {"CC-E1": "entrance", "CC-E2": "entrance", "CC-X1": "exit", "CC-CAM1": "camera"}
    assert {partition_of(d, PARTITIONS) for d in inputs} == set(range(PARTITIONS))  # by id: split
    group = partition_of("crowd:CC-PLAZA", PARTITIONS)
    with seeded.db.session() as session:
        do_install_device_types(session, seeded, SYSTEM)
        for device, role in inputs.items():
            on_plaza = DeviceCreate(device_id=device, type_code=ROLE_TYPES[role], lon=114.0595, lat=22.5430)
            do_provision_device(session, seeded, SYSTEM, on_plaza)
    workers = [_scaled(seeded, tmp_path, f"z{p}", str(p), namespace) for p in range(PARTITIONS)]
    services = [PipelineService(w) for w in workers]
    try:
        for svc in services:
            svc.start()
        door = services[1 - group].router
        assert {door.partition(d) for d in inputs} == set(range(PARTITIONS))
        with seeded.db.session() as session:
            outline = {"type": "Polygon", "coordinates": [PLAZA]}
            listed = [{"device_id": d, "role": r} for d, r in inputs.items()]
            zone = ZoneSave(name="市民中心广场", area_m2=AREA, geometry=outline, inputs=listed)
            do_save_zone(session, seeded, SYSTEM, "CC-PLAZA", zone)
        _until(lambda: {door.partition(d) for d in inputs} == {group}, timeout=10)
        t = seeded.clock.now().timestamp()
        body = msgspec.json.encode([
            {"id": f"c{n}", "device": d, "ts": t + n,
             "values": {"head_count": 40.0} if r == "camera" else {"in": 3.0, "out": 1.0}}
            for n, (d, r) in enumerate(inputs.items())
        ])  # fmt: skip
        receipt = services[1 - group].submit(body).result(timeout=10)
        assert (receipt.messages, receipt.dead) == (4, [])
        _until(lambda: services[group].pipeline.stats["readings"] == 7)
        assert _lake_devices(services[group]) == set(inputs)
        assert services[1 - group].pipeline.stats["readings"] == 0
    finally:
        for svc in services:
            svc.stop()
        for w in workers:
            w.close()


def _token(client: TestClient, platform: Platform) -> dict[str, str]:
    from urbanbrain.core.auth.actions import do_create_user

    name = "admin-" + uuid.uuid4().hex[:6]
    with platform.db.session() as session:
        do_create_user(session, platform.clock, SYSTEM, username=name, password="correct horse battery staple",
                       role="admin")  # fmt: skip
    r = client.post("/api/v1/auth/token", data={"username": name, "password": "correct horse battery staple"})
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def test_a_worker_checks_consecutive_parts_of_bodies_as_one():
    from urbanbrain.domains.sensing.ingest.records import Record
    from urbanbrain.domains.sensing.ingest.stream import merge
    from urbanbrain.domains.sensing.ingest.wire import Dead

    dead = Dead("unknown_device", "no active device 'X'", b"{}", "X", "m9")
    http = [Record("http", 5.0, b'[{"id":"a"}]', False, None, []),
            Record("http", 4.0, b"", False, None, [dead]),
            Record("http", 6.0, b' [{"id":"b"},{"id":"c"}] ', False, None, [])]  # fmt: skip
    mqtt = Record("mqtt", 7.0, b'{"id":"d"}', False, "SMK-1", [])
    merged = merge([*http, mqtt, http[0]])
    assert [count for _, count in merged] == [3, 1, 1]
    first = merged[0][0]
    assert msgspec.json.decode(first.body) == [{"id": "a"}, {"id": "b"}, {"id": "c"}]
    assert (first.received, first.dead, first.topic_device) == (4.0, [dead], None)
    assert merged[1][0] is mqtt  # the topic names its device: kept apart


def test_a_record_no_door_wrote_is_dead_lettered_not_lost(fleet, tmp_path, namespace):
    base, _ = fleet
    worker = _scaled(base, tmp_path, "w", "all", namespace)
    svc = PipelineService(worker)
    try:
        svc.start()

        async def publish() -> None:
            import nats

            nc = await nats.connect(NATS_URL)
            await nc.jetstream().publish(svc.stream.subject(1), b"not a record")
            await nc.close()

        asyncio.run(publish())
        _until(lambda: svc.pipeline.stats["dead"] == 1)
        svc.pipeline.drain()
        svc.pipeline.call(svc.pipeline.checkpoint).result(timeout=30)
        with base.db.session() as session:
            rows = session.execute(text("SELECT reason, payload FROM sensing_dead_letter")).all()
        assert [(r[0], r[1]) for r in rows] == [("unreadable_record", "not a record")]
    finally:
        svc.stop()
        worker.close()
