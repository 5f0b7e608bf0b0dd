"""Simulated 水围村 devices (``urbanbrain simulate devices``): provisioned through the CSV import, a replayed
stretch raises what the scenarios call for, and live devices publish through the embedded broker as a
gateway. On SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import threading

import aiomqtt
import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from urbanbrain.cli.main import app as cli
from urbanbrain.core.auth.actions import do_create_api_key
from urbanbrain.core.auth.principal import SYSTEM
from urbanbrain.domains.cases.models import Case
from urbanbrain.domains.sensing.ingest.pipeline import Pipeline
from urbanbrain.domains.sensing.ingest.service import MqttService
from urbanbrain.domains.sensing.models import Alarm, Device, Latest
from urbanbrain.simulate import fire_village as simulation
from urbanbrain.simulate.devices import Fire, NoisyDetector, Simulator
from urbanbrain.simulate.publish import MqttPublisher, run


def _alarms(platform):
    with platform.db.session() as s:
        return [
            (a.origin, a.alarm_type, a.level, a.case_number)
            for a in s.scalars(select(Alarm).order_by(Alarm.id))
        ]


def test_a_replayed_hour_raises_the_fire_and_not_the_noisy_detector(seeded, tmp_path):
    fleet = simulation.village_fleet(seeded, limit=12, seed=3)
    first = simulation.provision(seeded, fleet, tmp_path)
    assert first == {"rules_installed": 1, "devices_added": 48, "devices": 48}
    assert simulation.provision(seeded, fleet, tmp_path)["devices_added"] == 0  # idempotent
    buildings = sorted(fleet.by_building)
    burning, quiet = buildings[4], buildings[9]
    noisy = f"SMK-{quiet}-01"
    start = seeded.clock.now().timestamp()
    scenarios = [Fire(burning, start + 1800), NoisyDetector(noisy, start + 600)]
    stats = simulation.replay(seeded, fleet, scenarios, start_ts=start, end_ts=start + 3600)
    assert stats.ticks == 60 and stats.messages == 48 * 60
    alarms = _alarms(seeded)
    fires = [a for a in alarms if a[1] == "fire"]
    assert [(origin, level) for origin, _, level, _ in fires] == [(burning, "red")]
    with seeded.db.session() as s:
        case = s.scalar(select(Case).where(Case.number == fires[0][3]))
        assert case is not None and case.category_code == "E0701"
        # one latest value per device and measurement: 2 + 2 × 2 + 1 per building
        assert s.scalar(select(func.count()).select_from(Latest)) == 12 * 7
    assert (noisy, "smoke", "yellow", None) in alarms  # the lone detector warns, calls out no crew
    assert not [a for a in alarms if a[0] == quiet and a[1] == "fire"]


def test_the_demos_fire_comes_when_its_timeline_says(seeded, tmp_path):
    """The live demo prints when its fire's alarms will come: the rules, run ahead on the same readings, say
    the same event times the platform then raises; and the staged fire shows the smoke first."""
    fleet = simulation.village_fleet(seeded, limit=12, seed=1)
    simulation.provision(seeded, fleet, tmp_path)
    building = sorted(fleet.by_building)[6]
    start = seeded.clock.now().timestamp()
    fire, timeline = simulation.staged_fire(
        fleet, building, simulation.active_rules(seeded), start_ts=start, not_before=start + 130.0, seed=1
    )
    assert start + 130.0 <= fire.start_ts < start + 190.0
    assert fire.start_ts < timeline["smoke"] <= timeline["fire"] - 15.0
    assert timeline["fire"] < fire.start_ts + 240.0
    simulation.replay(seeded, fleet, [fire], start_ts=start, end_ts=start + 900, seed=1)
    with seeded.db.session() as s:
        raised = {}
        for a in s.scalars(select(Alarm).where(Alarm.building_code == building).order_by(Alarm.event_at)):
            raised.setdefault(a.alarm_type, a.event_at.timestamp())
    assert raised["smoke"] == pytest.approx(timeline["smoke"], abs=0.001)
    assert raised["fire"] == pytest.approx(timeline["fire"], abs=0.001)
    assert raised["temp_rise"] == pytest.approx(timeline["temp_rise"], abs=0.001)


def test_simulate_devices_command_provisions_and_replays(seeded, monkeypatch):
    s = seeded.settings
    for name, value in (("DATABASE_URL", s.database_url), ("DATA_DIR", str(s.data_dir)),
                        ("PII_KEY", s.pii_key), ("SECRET_KEY", s.secret_key)):  # fmt: skip
        monkeypatch.setenv(f"URBANBRAIN_{name}", value)
    result = CliRunner().invoke(
        cli, ["simulate", "devices", "--buildings", "5", "--hours", "1", "--seed", "4"]
    )
    assert result.exit_code == 0, result.output
    assert "20 devices, 20 newly provisioned" in result.output
    assert "replayed 1 h" in result.output and "60 ticks" in result.output
    with seeded.db.session() as session:
        assert session.scalar(select(func.count()).select_from(Device)) == 20
    bad = CliRunner().invoke(cli, ["simulate", "devices", "--village", "NOPE"])
    assert bad.exit_code != 0 and "NOPE" in bad.output


def test_live_devices_publish_as_a_gateway_through_the_embedded_broker(seeded, tmp_path):
    fleet = simulation.village_fleet(seeded, limit=3, seed=5)
    simulation.provision(seeded, fleet, tmp_path)
    with seeded.db.session() as session:
        _, key = do_create_api_key(session, seeded.clock, SYSTEM, name="gateway", scopes=["devices:write"])
        _, reader = do_create_api_key(session, seeded.clock, SYSTEM, name="reader", scopes=["open311"])
    pipeline = Pipeline(seeded)
    pipeline.start()
    door = MqttService(seeded, pipeline, "embedded://127.0.0.1:0")
    door.start()
    try:
        start = seeded.clock.now().timestamp() - 300
        simulator = Simulator(fleet, [], start_ts=start, interval_s=60, seed=5)
        publisher = MqttPublisher("127.0.0.1", door.broker.port, seeded.settings.district_code,
                                  username="gateway", password=key)  # fmt: skip

        async def publish() -> int:
            try:
                stats = await run(simulator, publisher, speed=0, until_ts=start + 300)
                await asyncio.sleep(0.5)  # amqtt drops what it has not routed when the publisher leaves
                return stats.messages
            finally:
                await publisher.close()

        sent = asyncio.run(publish())
        assert sent == 12 * 5
        for _ in range(100):
            pipeline.drain()
            if pipeline.stats["bodies"] >= sent:
                break
            threading.Event().wait(0.1)
        assert pipeline.stats["bodies"] == sent and pipeline.stats["dead"] == 0
        refused = MqttPublisher("127.0.0.1", door.broker.port, username="gateway", password=reader)
        with pytest.raises(aiomqtt.MqttError):  # an API key that may not write readings is no gateway
            asyncio.run(
                refused.publish(
                    [{"id": "x", "device": fleet.devices[0].device_id, "ts": start, "values": {}}]
                )
            )
    finally:
        door.stop()
        pipeline.stop()
