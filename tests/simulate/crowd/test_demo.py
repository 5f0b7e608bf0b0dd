"""The demo's light show: where its evening lies in event time and when each message leaves, the record
read from the data dir once simulated, the warnings it announces being those the platform raises (and the
plan they start), the last evening closed before the next, and a demo that goes on without JuPedSim."""

from __future__ import annotations

import json
import sys
from datetime import datetime

import httpx
import pytest

from urbanbrain.cli import crowd as cli
from urbanbrain.core.auth.actions import do_create_api_key
from urbanbrain.core.auth.principal import SYSTEM
from urbanbrain.core.config import Settings
from urbanbrain.domains.crowd.physics import Record
from urbanbrain.simulate.crowd import demo, publish

NOW = 1_796_600_000.0  # an evening of the demo, in wall-clock seconds


def rising_evening(minutes: float = 30.0, peak: float = 6.0) -> Record:
    """A plaza record without JuPedSim: the crowd grows as t² to ``peak`` p/m², a few leaving all along,
    arrivals split over the three entrances, leavers over the two open exits, each camera seeing its share."""
    site = demo.scenario().site()
    area = site.zone_area_m2
    t_s = [10.0 * i for i in range(1, int(minutes * 6) + 1)]
    present = [round(peak * area * (t / t_s[-1]) ** 2) for t in t_s]
    rec = Record(site.code, area, 10.0, t_s=t_s, in_zone=present, density=[n / area for n in present])
    entrances, exits = [g.code for g in site.entrances], [g.code for g in site.exits]
    for g in (*entrances, *exits):
        rec.gate_in[g], rec.gate_out[g] = [], []
    before = 0
    for n in present:
        leaving = 2 if before > 20 else 0
        arriving = n - before + leaving
        for k, g in enumerate(entrances):
            rec.gate_in[g].append(arriving // 3 + (1 if k < arriving % 3 else 0))
            rec.gate_out[g].append(0)
        for k, g in enumerate(exits):
            rec.gate_in[g].append(0)
            rec.gate_out[g].append(leaving // 2 if k < 2 else 0)
        before = n
    for cam in site.cameras:
        rec.camera_area_m2[cam.code] = float(cam.coverage.area)
        rec.camera[cam.code] = [round(n * cam.coverage.area / area) for n in present]
    rec.cell = [n + 40 for n in present]
    rec.waiting = [0] * len(present)
    return rec


def test_the_evening_catches_up_with_the_clock_from_a_whole_minute():
    chosen, messages = demo.plan(rising_evening(), now=NOW)
    assert chosen.start_ts % 60 == 0 and chosen.first_ts == messages[0]["ts"]
    assert chosen.end_ts == messages[-1]["ts"]
    sent = [chosen.sent_at(m["ts"]) for m in messages]
    assert sent[0] == NOW and sent == sorted(sent)
    assert all(m["ts"] <= at for m, at in zip(messages, sent, strict=True))  # none from the future
    assert sent[-1] - 60 < messages[-1]["ts"]  # the last within a minute of its time
    assert sent[-1] - NOW == pytest.approx((chosen.last_s - chosen.first_s) / demo.SPEED)
    assert not chosen.held_back


def test_an_evening_after_recent_readings_starts_after_them_and_never_too_far_ahead():
    newest = NOW + 100.0  # the last evening's readings reach beyond the clock
    chosen, messages = demo.plan(rising_evening(), now=NOW, after=newest)
    assert messages[0]["ts"] >= newest + demo.GAP_S and chosen.start_ts % 60 == 0
    sent = [chosen.sent_at(m["ts"]) for m in messages]
    assert max(m["ts"] - at for m, at in zip(messages, sent, strict=True)) == pytest.approx(demo.AHEAD_S)
    assert sent == sorted(sent) and chosen.held_back


def test_the_stream_sends_each_message_when_the_evening_says():
    chosen, messages = demo.plan(rising_evening(10), now=NOW, after=NOW - 60, speed=8.0)
    waited = [0.0]
    posted: list[tuple[float, float]] = []

    def door(request: httpx.Request) -> httpx.Response:
        posted.extend((NOW + waited[0], m["ts"]) for m in json.loads(request.content))
        return httpx.Response(202, json={})

    with httpx.Client(base_url="http://platform", transport=httpx.MockTransport(door)) as client:
        sent = publish.stream(
            client, messages, api_key="k", speed=chosen.speed, ahead_s=demo.AHEAD_S,
            sleep=lambda s: waited.__setitem__(0, waited[0] + s), clock=lambda: waited[0],
            wall=lambda: NOW + waited[0],
        )  # fmt: skip
    assert sent == len(messages) == len(posted)
    for at, ts in posted:
        assert at == pytest.approx(chosen.sent_at(ts), abs=1e-6)


def test_the_record_is_read_from_the_data_dir_once_simulated(tmp_path):
    assert not demo.cached(tmp_path)
    rec = rising_evening()
    path = demo.scenario().cache_path(tmp_path / demo.CACHE)
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(rec.to_json()))  # as Scenario.record leaves it
    assert demo.cached(tmp_path) and demo.simulate_apart(tmp_path) is None
    assert demo.record(tmp_path) == rec
    chosen, _ = demo.plan(rec, now=NOW)
    saved = json.loads(demo.save(tmp_path, chosen).read_text())
    assert (tmp_path / saved["record"]) == path
    danger = rec.first_reaching(5.0)
    assert danger is not None and saved["danger_ts"] == chosen.start_ts + danger
    first = chosen.warnings[0]
    assert saved["warnings"][0] == {"alarm_type": first.alarm_type, "level": first.level,
                                    "event_ts": first.event_ts, "sent_ts": first.sent_ts}  # fmt: skip


@pytest.fixture
def plaza(api):
    """The light show's doors as the demo uses them: an admin's headers and the gateway's API key."""
    admin = api.user("admin")
    with api.platform.db.session() as session:
        _, key = do_create_api_key(
            session, api.platform.clock, SYSTEM, name="gateway", scopes=["devices:write"]
        )
    site = demo.scenario().site()
    publish.install_device_types(api.client, admin)
    publish.provision(api.client, site, admin)
    publish.declare_zone(api.client, site, admin, code=cli.ZONE)
    api.platform.caches["sensing.pipeline"].reload()
    return admin, key


def _stream_evening(api, admin, key):
    """One evening streamed as fast as the door takes it, the clock moved past it; its plan, the zone's
    alarms raised for it and its incidents."""
    now = api.platform.clock.now().timestamp()
    chosen, messages = demo.plan(rising_evening(), now=now)
    api.platform.clock.advance(max(0.0, messages[-1]["ts"] - now))  # the door takes nothing from the future
    assert publish.stream(api.client, messages, api_key=key, speed=0) == len(messages)
    pipeline = api.platform.caches["sensing.pipeline"]
    pipeline.drain()
    pipeline.call(pipeline.checkpoint).result(timeout=30)  # the devices' latest values written
    api.platform.relay.flush()
    alarms = api.client.get(
        "/api/v1/sensing/alarms", params={"origin": f"crowd:{cli.ZONE}", "page_size": 100}, headers=admin
    ).json()["items"]
    mine = [
        a for a in reversed(alarms) if datetime.fromisoformat(a["event_at"]).timestamp() >= chosen.first_ts
    ]
    incidents = api.client.get("/api/v1/linkage/incidents", params={"zone": cli.ZONE}, headers=admin).json()
    return chosen, mine, incidents["items"]


def test_the_warnings_announced_are_those_the_platform_raises_and_the_plan_starts(api, plaza):
    admin, key = plaza
    chosen, alarms, incidents = _stream_evening(api, admin, key)
    raised = [
        (a["alarm_type"], a["level"], datetime.fromisoformat(a["event_at"]).timestamp()) for a in alarms
    ]
    assert raised == [(w.alarm_type, w.level, w.event_ts) for w in chosen.warnings]
    start = chosen.plan_start()
    assert start is not None and chosen.first_warning() is not None
    started = next(a for a in alarms if datetime.fromisoformat(a["event_at"]).timestamp() == start.event_ts
                   and a["alarm_type"] == start.alarm_type)  # fmt: skip
    assert [(i["zone_code"], i["state"], i["alarm_id"]) for i in incidents] == [
        (cli.ZONE, "active", started["id"])
    ]

    # the next start closes the evening before the server starts, and places the next one after its readings
    assert cli.end_last_evening(api.platform) == {
        "stood_down": 1,
        "cleared": sum(a["status"] != "cleared" for a in alarms),
        "forgotten": 1,
    }
    (incident,) = api.client.get(
        "/api/v1/linkage/incidents", params={"zone": cli.ZONE}, headers=admin
    ).json()["items"]
    assert incident["state"] == "stood_down"
    still = api.client.get("/api/v1/sensing/alarms", params={"origin": f"crowd:{cli.ZONE}", "open": "true"},
                           headers=admin).json()  # fmt: skip
    assert still["items"] == [] and cli.end_last_evening(api.platform) == {"stood_down": 0, "cleared": 0,
                                                                            "forgotten": 0}  # fmt: skip
    zone = api.client.get(f"/api/v1/crowd/zones/{cli.ZONE}", headers=admin).json()
    assert zone["occupancy"] is None  # the next evening is estimated afresh
    newest = publish.newest_reading(api.client, demo.scenario().site(), admin)
    assert newest == chosen.end_ts
    again, _ = demo.plan(rising_evening(), now=api.platform.clock.now().timestamp(), after=newest)
    assert again.first_ts >= newest + demo.GAP_S  # after the devices' newest readings


def test_without_jupedsim_the_demo_says_so_and_goes_on(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "jupedsim", None)  # as if `make install` had not installed it
    assert cli.begin(Settings(data_dir=tmp_path)) is None
    printed = capsys.readouterr().out
    assert printed.count("\n") == 1 and "light show: skipped, JuPedSim cannot be loaded" in printed
