"""The device simulator: a fleet in Shuiwei's buildings, signals with the day's rhythm, scenarios that look
like what they are (a fire is smoke plus heat in one building, a noisy detector is not), and the publishers
against a real HTTP handler and a real MQTT broker."""

from __future__ import annotations

import asyncio
import csv
import re
import socket
import time
import uuid
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

import aiomqtt
import httpx
import msgspec
import numpy as np
import pytest

from urbanbrain.domains.sensing.ingest.wire import split_body
from urbanbrain.simulate.devices import (
    CSV_FIELDS,
    BuildingRef,
    Dropout,
    Fault,
    Fire,
    Fleet,
    Message,
    NoisyDetector,
    Overheat,
    Overload,
    Simulator,
    encode_batch,
    encode_ndjson,
    encode_one,
    random_scenarios,
    scenario_from_dict,
    scenario_to_dict,
)
from urbanbrain.simulate.publish import HttpPublisher, MqttPublisher, PublishError, run

VILLAGE = "440304004028-V01"  # Shuiwei (水围村)
# 2024-05-01 08:00 in Shenzhen
START = datetime(2024, 5, 1, 0, 0, tzinfo=UTC).timestamp()
MINUTE = 60.0


def shuiwei(n: int) -> list[BuildingRef]:
    return [
        BuildingRef(f"{VILLAGE}-B{k + 1:03d}", 114.0598 + k * 1e-5, 22.5302 + k * 1e-5, "440304004028")
        for k in range(n)
    ]


@pytest.fixture(scope="module")
def fleet() -> Fleet:
    return Fleet.generate(shuiwei(20), seed=11)


def readings(sim: Simulator, until_ts: float) -> dict[str, list[Message]]:
    """Every message until ``until_ts``, by device, in time order."""
    by_device: dict[str, list[Message]] = defaultdict(list)
    for tick in sim.ticks(until_ts):
        for m in tick.messages:
            by_device[m["device"]].append(m)
    return by_device


def series(by_device: dict[str, list[Message]], device: str, measurement: str) -> list[tuple[float, float]]:
    return [(m["ts"], m["values"][measurement]) for m in by_device[device]]


# ---------------------------------------------------------------------------------------------- fleet


def test_fleet_has_stable_ids_and_a_provisioning_csv(fleet: Fleet, tmp_path: Path) -> None:
    assert len(fleet) == 20 * 4
    ids = [d.device_id for d in fleet.devices]
    assert ids[:4] == [
        f"EFM-{VILLAGE}-B001-01",
        f"SMK-{VILLAGE}-B001-01",
        f"SMK-{VILLAGE}-B001-02",
        f"TMP-{VILLAGE}-B001-01",
    ]
    assert len({d.key for d in fleet.devices}) == len(fleet)
    assert Fleet.generate(shuiwei(20), seed=11).devices == fleet.devices
    assert Fleet.generate(shuiwei(20), seed=12).devices[0].key != fleet.devices[0].key

    path = tmp_path / "devices.csv"
    fleet.to_csv(path)
    with open(path, encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    assert tuple(rows[0]) == CSV_FIELDS
    assert len(rows) == len(fleet)
    for row in rows:
        assert re.fullmatch(r"[\u4e00-\u9fff]{2,3}", row["owner_name"])
        assert re.fullmatch(r"13\d{9}", row["owner_phone"])
        assert re.fullmatch(r"[0-9a-f]{32}", row["key"])
    # Devices of one building share its owner.
    assert len({(r["building_code"], r["owner_name"]) for r in rows}) == 20
    assert [d.device_id for d in Fleet.from_csv(path).devices] == ids


def test_fleet_counts_per_building_by_type() -> None:
    fleet = Fleet.generate(shuiwei(3), per_building={"smoke_detector": 3}, seed=1)
    assert [d.device_id for d in fleet.devices][:3] == [f"SMK-{VILLAGE}-B001-0{k}" for k in (1, 2, 3)]
    assert len(fleet) == 9
    with pytest.raises(ValueError, match="unknown device types"):
        Fleet.generate(shuiwei(1), per_building={"sprinkler": 1}, seed=1)


# -------------------------------------------------------------------------------------------- signals


def test_same_seed_gives_the_same_messages_and_ids_are_unique(fleet: Fleet) -> None:
    scenarios = random_scenarios(fleet, start_ts=START, seed=5, hours=2)
    first = [t.messages for t in Simulator(fleet, scenarios, start_ts=START, seed=3).ticks(START + 3600)]
    again = [t.messages for t in Simulator(fleet, scenarios, start_ts=START, seed=3).ticks(START + 3600)]
    other = [t.messages for t in Simulator(fleet, scenarios, start_ts=START, seed=4).ticks(START + 3600)]
    assert first == again
    assert first != other
    ids = [m["id"] for tick in first for m in tick]
    assert len(ids) == len(set(ids))
    assert all(m["id"].startswith(m["device"] + "-") for tick in first for m in tick)


def test_messages_are_on_the_wire_format_in_time_order_within_their_interval(fleet: Fleet) -> None:
    sim = Simulator(fleet, start_ts=START, seed=1)
    tick = next(sim.ticks(START + MINUTE))
    times = [m["ts"] for m in tick.messages]
    assert len(tick.messages) == len(fleet)  # one reading per device per interval
    assert times == sorted(times) and times[0] >= START and times[-1] < START + MINUTE
    assert len({round(t) for t in times}) > 20  # jittered, not all at once
    good, dead = split_body(encode_batch(tick.messages), ndjson=False)
    assert not dead and good is not None and len(good) == len(fleet)
    smoke = next(m for m in tick.messages if m["device"].startswith("SMK-"))
    assert set(smoke["values"]) == {"smoke_obscuration", "temp_c"}
    assert 0 <= smoke["values"]["smoke_obscuration"] <= 0.5


def test_residual_current_follows_the_day_higher_in_the_evening(fleet: Fleet) -> None:
    sim = Simulator(fleet, start_ts=START - 8 * 3600, interval_s=600, seed=2)  # local midnight
    by_hour: dict[int, list[float]] = defaultdict(list)
    cable: list[float] = []
    for tick in sim.ticks(START + 16 * 3600):
        for m in tick.messages:
            if "residual_current_ma" in m["values"]:
                by_hour[int((m["ts"] + 8 * 3600) % 86400 // 3600)].append(m["values"]["residual_current_ma"])
                cable.append(m["values"]["cable_temp_c"])
    evening = np.mean([v for h in range(18, 23) for v in by_hour[h]])
    early = np.mean([v for h in range(2, 6) for v in by_hour[h]])
    assert evening > 1.8 * early
    everything = [v for values in by_hour.values() for v in values]
    assert min(everything) >= 3 and max(everything) <= 65
    assert min(cable) >= 18 and max(cable) <= 48


# ------------------------------------------------------------------------------------------ scenarios


def test_overload_crosses_300_ma_at_its_planned_time(fleet: Fleet) -> None:
    device = f"EFM-{VILLAGE}-B003-01"
    scenario = Overload(device, START + 10 * MINUTE, crossing_s=15 * MINUTE)
    by_device = readings(Simulator(fleet, [scenario], start_ts=START, seed=1), START + 3600)
    values = series(by_device, device, "residual_current_ma")
    crossed = next(ts for ts, v in values if v >= 300)
    assert abs(crossed - (START + 25 * MINUTE)) <= MINUTE
    before = [v for ts, v in values if ts < START + 10 * MINUTE]
    assert max(before) < 100
    assert [v for ts, v in values if ts > crossed] == sorted(
        v for ts, v in values if ts > crossed
    )  # climbing
    assert max(v for _, v in values) <= 500
    # Another monitor is untouched.
    assert max(v for _, v in series(by_device, f"EFM-{VILLAGE}-B004-01", "residual_current_ma")) < 100


def test_overheat_takes_a_cable_past_70_degrees(fleet: Fleet) -> None:
    device = f"EFM-{VILLAGE}-B005-01"
    by_device = readings(
        Simulator(fleet, [Overheat(device, START, crossing_s=20 * MINUTE)], start_ts=START, seed=1),
        START + 3600,
    )
    values = series(by_device, device, "cable_temp_c")
    crossed = next(ts for ts, v in values if v >= 70)
    assert abs(crossed - (START + 20 * MINUTE)) <= MINUTE


def test_fire_is_smoke_and_a_temperature_rise_in_one_building_within_two_minutes(fleet: Fleet) -> None:
    building = f"{VILLAGE}-B007"
    fire_at = START + 30 * MINUTE
    by_device = readings(Simulator(fleet, [Fire(building, fire_at)], start_ts=START, seed=1), START + 3600)
    inside = [d.device_id for d in fleet.devices if d.building_code == building]

    smoky = [
        (ts, dev)
        for dev in inside
        if dev.startswith("SMK-")
        for ts, v in series(by_device, dev, "smoke_obscuration")
        if v > 3
    ]
    assert smoky
    first_smoke = min(ts for ts, _ in smoky)
    assert first_smoke - fire_at <= 65 + MINUTE  # past 3 %/m within 65 s, seen at the next report

    def rise_by(dev: str, when: float) -> float:
        temps = series(by_device, dev, "temp_c")
        before = [v for ts, v in temps if ts < fire_at][-1]
        return max(v for ts, v in temps if ts <= when) - before

    heated = [
        dev for dev in inside if not dev.startswith("EFM-") and rise_by(dev, first_smoke + 2 * MINUTE) >= 3
    ]
    assert len(heated) >= 2
    # Nothing burns elsewhere.
    for dev, messages in by_device.items():
        if dev not in inside:
            assert all(m["values"].get("smoke_obscuration", 0) <= 0.5 for m in messages)
            assert all(m["values"].get("temp_c", 30) < 40 for m in messages)


def test_a_noisy_detector_spikes_alone(fleet: Fleet) -> None:
    device = f"SMK-{VILLAGE}-B009-02"
    by_device = readings(
        Simulator(fleet, [NoisyDetector(device, START + 10 * MINUTE)], start_ts=START, seed=1), START + 3600
    )
    spikes = [
        (m["device"], m["ts"])
        for ms in by_device.values()
        for m in ms
        if m["values"].get("smoke_obscuration", 0) > 3
    ]
    assert spikes and {dev for dev, _ in spikes} == {device}
    assert len(spikes) <= 2  # briefly
    neighbours = [d.device_id for d in fleet.devices if d.building_code == f"{VILLAGE}-B009"]
    for dev in neighbours:
        temps = [m["values"].get("temp_c", m["values"].get("cable_temp_c")) for m in by_device[dev]]
        assert max(temps) - min(temps) < 5  # no heat: multi-sensor confirmation has nothing to confirm


def test_a_dropout_leaves_a_gap(fleet: Fleet) -> None:
    device = f"TMP-{VILLAGE}-B002-01"
    by_device = readings(
        Simulator(fleet, [Dropout(device, START + 10 * MINUTE, 15 * MINUTE)], start_ts=START, seed=1),
        START + 3600,
    )
    times = [m["ts"] for m in by_device[device]]
    gaps = np.diff(times)
    assert gaps.max() >= 15 * MINUTE
    assert sorted(gaps)[-2] < 2 * MINUTE  # only one gap
    assert not [t for t in times if START + 10 * MINUTE <= t < START + 25 * MINUTE]


def test_a_fault_reads_physically_impossible_values(fleet: Fleet) -> None:
    device = f"SMK-{VILLAGE}-B004-01"
    scenarios = [
        Fault(device, START + 5 * MINUTE, 10 * MINUTE),  # temperature, 850 °C by default
        Fault(f"EFM-{VILLAGE}-B004-01", START, 10 * MINUTE, "cable_temp_c", -40.0),
    ]
    by_device = readings(Simulator(fleet, scenarios, start_ts=START, seed=1), START + 1800)
    during = [
        v for ts, v in series(by_device, device, "temp_c") if START + 5 * MINUTE <= ts < START + 15 * MINUTE
    ]
    assert len(during) in (9, 10, 11) and set(during) == {850.0}
    assert max(v for ts, v in series(by_device, device, "temp_c") if ts >= START + 15 * MINUTE) < 40
    assert {
        v for ts, v in series(by_device, f"EFM-{VILLAGE}-B004-01", "cable_temp_c") if ts < START + 9 * MINUTE
    } == {-40.0}
    # The fault does not touch the detector's smoke reading: no fire.
    assert max(v for _, v in series(by_device, device, "smoke_obscuration")) <= 0.5


def test_scenarios_name_real_devices_of_the_right_type(fleet: Fleet) -> None:
    with pytest.raises(ValueError, match="no device 'EFM-nowhere-01'"):
        Simulator(fleet, [Overload("EFM-nowhere-01", START)], start_ts=START)
    with pytest.raises(ValueError, match="overload needs a device measuring residual_current_ma"):
        Simulator(fleet, [Overload(f"SMK-{VILLAGE}-B001-01", START)], start_ts=START)
    with pytest.raises(ValueError, match="fire in nowhere"):
        Simulator(fleet, [Fire("nowhere", START)], start_ts=START)


def test_a_random_day_of_scenarios_is_repeatable_and_round_trips(fleet: Fleet) -> None:
    day = random_scenarios(fleet, start_ts=START, seed=9)
    assert day == random_scenarios(fleet, start_ts=START, seed=9)
    assert day != random_scenarios(fleet, start_ts=START, seed=10)
    kinds = [s.kind for s in day]
    assert {"fault", "dropout", "overload", "overheat", "fire", "noisy_detector"} == set(kinds)
    assert all(START <= s.start_ts < START + 86400 for s in day)
    assert [scenario_from_dict(scenario_to_dict(s)) for s in day] == day
    assert scenario_to_dict(day[0])["kind"] == day[0].kind
    with pytest.raises(ValueError, match="unknown scenario kind 'flood'"):
        scenario_from_dict({"kind": "flood", "start_ts": 0})
    Simulator(fleet, day, start_ts=START)  # every random scenario fits the fleet


def test_five_thousand_devices_make_one_tick_of_vectorised_work() -> None:
    buildings = [BuildingRef(f"{VILLAGE}-B{k:04d}", 114.06, 22.53) for k in range(1000)]
    big = Fleet.generate(
        buildings, per_building={"electrical_fire_monitor": 1, "smoke_detector": 2, "temp_sensor": 2}
    )
    sim = Simulator(big, random_scenarios(big, start_ts=START, seed=1, hours=1), start_ts=START)
    began = time.perf_counter()
    tick = next(sim.ticks(START + MINUTE))
    elapsed = time.perf_counter() - began
    assert 4990 <= len(tick.messages) <= 5000
    print(f"5000 devices, one tick: {elapsed * 1000:.1f} ms")


# ------------------------------------------------------------------------------------------- encoding


def test_encodings_decode_back_to_the_messages(fleet: Fleet) -> None:
    messages = next(Simulator(fleet, start_ts=START).ticks(START + MINUTE)).messages
    assert msgspec.json.decode(encode_batch(messages)) == messages
    lines = encode_ndjson(messages).splitlines()
    assert [msgspec.json.decode(line) for line in lines] == messages
    assert msgspec.json.decode(encode_one(messages[0])) == messages[0]
    assert b" " not in encode_one(messages[0])  # compact


# ----------------------------------------------------------------------------------------- publishers


async def test_http_publisher_waits_out_429_and_resends_the_same_batch(fleet: Fleet) -> None:
    bodies: list[bytes] = []
    answers = iter([429, 202, 202, 202])

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/api/v1/sensing/readings"
        assert request.headers["X-API-Key"] == "ub_dev_secret"
        bodies.append(request.content)
        status = next(answers)
        if status == 429:
            return httpx.Response(429, headers={"Retry-After": "0.05"}, json={"code": "rate_limited"})
        return httpx.Response(202, json={"accepted": len(msgspec.json.decode(request.content))})

    messages = [m for t in Simulator(fleet, start_ts=START).ticks(START + 2 * MINUTE) for m in t.messages]
    publisher = HttpPublisher(
        "http://platform.test/", "ub_dev_secret", batch=70, transport=httpx.MockTransport(handler)
    )
    began = time.monotonic()
    assert await publisher.publish(messages) == 160
    await publisher.close()
    assert time.monotonic() - began >= 0.05
    assert bodies[0] == bodies[1]  # the refused batch, sent again
    assert [len(msgspec.json.decode(b)) for b in bodies[1:]] == [70, 70, 20]
    assert publisher.throttled == 1 and publisher.sent == 160


async def test_http_publisher_raises_on_a_refusal() -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(401, json={"code": "auth.invalid_key"}))
    publisher = HttpPublisher("http://platform.test", "wrong", transport=transport)
    with pytest.raises(PublishError, match="401"):
        await publisher.publish([{"id": "x-1", "device": "x", "ts": START, "values": {"temp_c": 20.0}}])
    await publisher.close()


def mosquitto_running() -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", 1883)) == 0


@pytest.mark.skipif(not mosquitto_running(), reason="needs an MQTT broker on 127.0.0.1:1883")
@pytest.mark.parametrize("batch_per_message", [False, True])
async def test_mqtt_publisher_sends_to_each_devices_topic(fleet: Fleet, batch_per_message: bool) -> None:
    district = f"test-{uuid.uuid4().hex[:8]}"
    messages = [m for t in Simulator(fleet, start_ts=START).ticks(START + 2 * MINUTE) for m in t.messages]
    received: list[tuple[str, bytes]] = []
    expected = len({m["device"] for m in messages}) if batch_per_message else len(messages)
    async with aiomqtt.Client("127.0.0.1", 1883) as subscriber:
        await subscriber.subscribe(f"ub/{district}/devices/+/readings", qos=1)
        publisher = MqttPublisher("127.0.0.1", 1883, district, batch_per_message=batch_per_message)
        await publisher.publish(messages)
        await publisher.close()

        async def collect() -> None:
            async for message in subscriber.messages:
                assert isinstance(message.payload, bytes)
                received.append((str(message.topic), message.payload))
                if len(received) == expected:
                    return

        await asyncio.wait_for(collect(), timeout=10)
    got: list[Message] = []
    for topic, payload in received:
        decoded = msgspec.json.decode(payload)
        for m in decoded if batch_per_message else [decoded]:
            assert topic == f"ub/{district}/devices/{m['device']}/readings"
            got.append(m)
    assert sorted(m["id"] for m in got) == sorted(m["id"] for m in messages)


class Collecting:
    def __init__(self) -> None:
        self.calls: list[tuple[float, list[Message]]] = []

    async def publish(self, messages: list[Message]) -> int:
        self.calls.append((time.monotonic(), list(messages)))
        return len(messages)

    async def close(self) -> None:
        pass


async def test_run_as_fast_as_possible_publishes_every_tick(fleet: Fleet) -> None:
    publisher = Collecting()
    stats = await run(Simulator(fleet, start_ts=START), publisher, speed=0, until_ts=START + 10 * MINUTE)
    assert (stats.ticks, stats.messages, stats.sim_seconds) == (10, 800, 600)
    assert len(publisher.calls) == 10


async def test_run_paces_simulated_time_at_the_given_speed(fleet: Fleet) -> None:
    publisher = Collecting()
    began = time.monotonic()
    stats = await run(Simulator(fleet, start_ts=START), publisher, speed=600, until_ts=START + 2 * MINUTE)
    assert stats.messages == 160
    assert stats.wall_seconds >= 0.19  # two simulated minutes at 600x: 0.2 s
    for sent_at, batch in publisher.calls:
        # No reading leaves before its own simulated time has come.
        assert sent_at - began >= (max(m["ts"] for m in batch) - START) / 600 - 0.005
