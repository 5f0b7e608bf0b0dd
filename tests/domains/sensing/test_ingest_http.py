"""The HTTP door end to end: readings in, latest values and the lake, dead letters, idempotency, alarms
with their cases and notifications, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone

import pytest

from tests.domains.sensing.conftest import OWNER_PHONE


def test_readings_reach_latest_values_and_the_lake(site):
    t0 = site.now() - 120
    msgs = [site.message("EFM-1", {"residual_current_ma": 20.0 + i, "cable_temp_c": 30.0}, ts=t0 + 30 * i)
            for i in range(4)]  # fmt: skip
    r = site.send(msgs, key_of="EFM-1")
    assert r.status_code == 202, r.text
    assert r.json() == {"messages": 4, "readings": 8, "duplicates": 0, "dead_lettered": 0, "reasons": {}}
    site.settle()
    device = site.client.get("/api/v1/sensing/devices/EFM-1", headers=site.admin).json()
    assert device["latest"]["residual_current_ma"]["value"] == 23.0
    assert device["building_code"] == site.building and device["community_code"] == site.community
    assert device["owner_phone"] == OWNER_PHONE  # the admin may read protected fields
    since = "2018-07-09T07:00:00+08:00"
    until = "2018-07-09T09:00:00+08:00"
    hist = site.client.get(
        "/api/v1/sensing/devices/EFM-1/history",
        params={"measurement": "residual_current_ma", "since": since, "until": until},
        headers=site.admin,
    ).json()
    assert [h["value"] for h in hist] == [20.0, 21.0, 22.0, 23.0]


def test_an_operator_sees_the_owners_name_and_phone_masked(site):
    """The outside test: an operator saw a device owner's full name (the phone was masked). Owners' names
    are masked as residents' are, for everyone without the personal-data permission."""
    operator = site.api.user("operator")
    device = site.client.get("/api/v1/sensing/devices/EFM-1", headers=operator).json()
    assert (
        device["owner_name"] == "王**"
        and device["owner_phone"] == OWNER_PHONE[:3] + "****" + OWNER_PHONE[-4:]
    )
    listed = site.client.get("/api/v1/sensing/devices", headers=operator).json()
    assert {d["owner_name"] for d in listed["items"]} == {"王**"}
    admin = site.client.get("/api/v1/sensing/devices/EFM-1", headers=site.admin).json()
    assert admin["owner_name"] == "王业主"


def test_ndjson_and_a_resent_batch_is_taken_once(site):
    msgs = [site.message("SMK-1", {"smoke_obscuration": 0.1, "temp_c": 25.0}) for _ in range(3)]
    body = "\n".join(json.dumps(m) for m in msgs)
    headers = {**site.admin, "Content-Type": "application/x-ndjson"}
    first = site.client.post("/api/v1/sensing/readings", content=body, headers=headers).json()
    again = site.client.post("/api/v1/sensing/readings", content=body, headers=headers).json()
    assert first["messages"] == 3 and first["duplicates"] == 0
    assert again["messages"] == 0 and again["duplicates"] == 3
    site.settle()
    assert site.pipeline.lake.query("SELECT count(*) FROM readings WHERE device_id = 'SMK-1'")[0][0] == 6


def test_bad_messages_are_dead_lettered_with_their_reason(site):
    good = site.message("TMP-1", {"temp_c": 24.0})
    bad = [
        {"id": "x1", "device": "NOPE-9", "ts": site.now(), "values": {"temp_c": 1.0}},
        {"id": "x2", "device": "TMP-1", "ts": site.now(), "values": {"humidity": 50.0}},
        {"id": "x3", "device": "TMP-1", "ts": "yesterday", "values": {"temp_c": 1.0}},
        {"id": "x4", "device": "TMP-1", "ts": site.now(), "values": {"temp_c": "hot"}},
        {"id": "x5", "device": "TMP-1", "ts": site.now() + 86400, "values": {"temp_c": 1.0}},
    ]
    r = site.send([good, *bad])
    assert r.status_code == 202, r.text
    body = r.json()
    assert body["messages"] == 1 and body["dead_lettered"] == 5
    assert body["reasons"] == {"unknown_device": 1, "unknown_measurement": 1, "bad_timestamp": 2,
                               "invalid_message": 1}  # fmt: skip
    site.settle()
    letters = site.client.get("/api/v1/sensing/dead-letters", headers=site.admin).json()["items"]
    assert sorted(d["reason"] for d in letters) == sorted(["unknown_device", "unknown_measurement",
                                                           "bad_timestamp", "bad_timestamp", "invalid_message"])  # fmt: skip
    assert any('"hot"' in d["payload"] for d in letters)  # the message is kept whole


def test_a_body_that_is_not_json_is_refused_and_kept(site):
    r = site.client.post("/api/v1/sensing/readings", content=b"{not json", headers=site.admin)
    assert r.status_code == 422
    assert r.json()["code"] == "sensing.no_valid_readings"
    assert "zh-CN" in r.json()["messages"]
    site.settle()
    letters = site.client.get("/api/v1/sensing/dead-letters?reason=not_json", headers=site.admin).json()
    assert letters["total"] == 1 and letters["items"][0]["payload"] == "{not json"


def test_a_device_key_sends_only_its_own_readings(site):
    r = site.send([site.message("SMK-1", {"smoke_obscuration": 0.2})], key_of="EFM-1")
    assert r.status_code == 422 and r.json()["detail"]["reasons"] == {"wrong_device": 1}
    r = site.client.post(
        "/api/v1/sensing/readings", content="[]", headers={"X-Device-Key": "wrong-key-123456"}
    )
    assert r.status_code == 401 and r.json()["code"] == "sensing.bad_device_key"
    r = site.client.post("/api/v1/sensing/readings", content="[]")
    assert r.status_code == 401


def test_residual_current_alarm_opens_a_wiring_case_and_tells_owner_and_station(site):
    ts = site.now() - 5.123456
    r = site.send(
        [site.message("EFM-1", {"residual_current_ma": 320.0, "cable_temp_c": 35.0}, ts=ts)], key_of="EFM-1"
    )
    assert r.status_code == 202
    site.settle()
    alarms = site.client.get("/api/v1/sensing/alarms?open=true", headers=site.admin).json()["items"]
    assert [(a["alarm_type"], a["level"], a["status"]) for a in alarms] == [
        ("residual_current", "orange", "active")
    ]
    alarm = alarms[0]
    assert alarm["value"] == 320.0 and alarm["building_code"] == site.building and alarm["case_number"]
    case = site.client.get(f"/api/v1/cases/{alarm['case_number']}", headers=site.admin).json()
    assert case["category_code"] == "E0703" and case["source"] == "sensor"
    # Described once in Chinese and once in English, each whole, at the district's time to the second.
    zh, en = case["description"].split("\n")
    local = datetime.fromtimestamp(ts, timezone(timedelta(hours=8))).strftime("%Y-%m-%d %H:%M:%S UTC+8")
    assert zh.startswith("物联感知橙色预警") and "剩余电流 ≥ 300 mA" in zh and local in zh
    assert (
        en.startswith("Orange sensor warning") and "Residual current at or above 300 mA" in en and local in en
    )
    assert not re.search(r"[\u4e00-\u9fff]", en) and not re.search(r"\d:\d\d\.\d", case["description"])
    assert sorted(site.told()) == sorted(["smart_city_office", f"station-{site.community}"])
    assert site.texted() == [(f"alarm-{alarm['id']}", OWNER_PHONE)]
    # The condition holds: the rule stays raised, so there is still one alarm and no second case.
    site.send([site.message("EFM-1", {"residual_current_ma": 330.0}, ts=site.now() + 1)], key_of="EFM-1")
    site.settle()
    again = site.client.get("/api/v1/sensing/alarms?open=true", headers=site.admin).json()["items"]
    assert len(again) == 1 and again[0]["id"] == alarm["id"]
    # Acknowledged by the station, then cleared by the readings (hysteresis: 250 mA).
    r = site.client.post(f"/api/v1/sensing/alarms/{alarm['id']}/acknowledge", json={}, headers=site.admin)
    assert r.json()["status"] == "acknowledged"
    site.send([site.message("EFM-1", {"residual_current_ma": 280.0}, ts=site.now() + 2)], key_of="EFM-1")
    site.settle()
    assert (
        site.client.get(f"/api/v1/sensing/alarms/{alarm['id']}", headers=site.admin).json()["status"]
        == "acknowledged"
    )
    site.send([site.message("EFM-1", {"residual_current_ma": 240.0}, ts=site.now() + 3)], key_of="EFM-1")
    site.settle()
    done = site.client.get(f"/api/v1/sensing/alarms/{alarm['id']}", headers=site.admin).json()
    assert done["status"] == "cleared" and done["cleared_by"] == "rule:fire.residual_current"
    r = site.client.post(f"/api/v1/sensing/alarms/{alarm['id']}/acknowledge", json={}, headers=site.admin)
    assert r.status_code == 409 and r.json()["code"] == "sensing.alarm_closed"


def test_a_sender_that_gives_up_loses_nothing_and_holds_nothing_up(site):
    """An HTTP client that disconnects (or a stopping worker) cancels its wait for the journal: its readings are
    taken all the same, and so are those sent after them."""
    import asyncio

    gave_up = [site.message("TMP-1", {"temp_c": 21.0}), site.message("TMP-1", {"temp_c": 22.0})]

    async def give_up() -> None:
        waiting = asyncio.wrap_future(site.pipeline.submit(json.dumps(gave_up).encode()))
        waiting.cancel()  # before the journal has answered: it is held below
        await asyncio.sleep(0)

    with site.pipeline._journal_lock:
        asyncio.run(give_up())
    r = site.send([site.message("TMP-1", {"temp_c": 23.0})])
    assert r.status_code == 202, r.text
    site.settle()
    taken = site.pipeline.lake.query("SELECT value FROM readings WHERE device_id = 'TMP-1' ORDER BY value")
    assert [v for (v,) in taken] == [21.0, 22.0, 23.0]


def _large_body(site, n: int = 100, prefix: str = "big", ago: float = 200) -> list[dict]:
    """More messages than the body check takes one at a time (wire.SMALL_BODY): checked column by column.
    One a second from ``ago`` seconds before now."""
    t0 = site.now() - ago
    return [site.message("EFM-1", {"residual_current_ma": 10.0 + i % 50, "cable_temp_c": 30.0}, ts=t0 + i,
                         mid=f"{prefix}{i}") for i in range(n)]  # fmt: skip


def test_a_large_body_is_taken_whole_and_its_resent_messages_once(site):
    msgs = _large_body(site)
    first = site.send(msgs).json()
    assert first == {"messages": 100, "readings": 200, "duplicates": 0, "dead_lettered": 0, "reasons": {}}
    again = site.send(msgs).json()
    assert again["messages"] == 0 and again["duplicates"] == 100
    more = _large_body(site, 100, "more", ago=100)  # after the first: in time for the rules engine
    mixed = site.send(msgs[:10] + more[:60] + [{**more[0], "device": "NOPE-1"}]).json()
    assert mixed["messages"] == 60 and mixed["duplicates"] == 10
    assert mixed["reasons"] == {"unknown_device": 1}
    site.settle()
    (count,) = site.pipeline.lake.query("SELECT count(*) FROM readings WHERE device_id = 'EFM-1'")[0]
    assert count == 2 * (100 + 60)


def test_a_large_body_replayed_from_the_journal_after_a_crash_is_not_taken_again(site):
    """A body journaled (acknowledged) but not processed before a crash is processed on restart, and its
    messages are remembered as taken: the device resending them is answered 'duplicate'."""
    from urbanbrain.domains.sensing.ingest.records import Record, encode_record
    from urbanbrain.domains.sensing.ingest.service import PipelineService

    platform = site.platform
    msgs = _large_body(site)
    site.pipeline.stop()
    again = PipelineService(platform)
    body = json.dumps(msgs).encode()
    again.pipeline.journal.append([encode_record(Record("http", site.now(), body, False, None, []))])
    again.start()
    try:
        r = site.send(msgs)
        assert r.json()["duplicates"] == 100 and r.json()["messages"] == 0
        site.settle()
        (count,) = again.pipeline.lake.query("SELECT count(*) FROM readings WHERE device_id = 'EFM-1'")[0]
        assert count == 200
    finally:
        again.stop()


@pytest.mark.parametrize("backend", ["sqlite"])  # the memory of ids is the pipeline's, whatever the database
def test_a_body_resent_after_a_million_other_readings_is_still_a_repeat(site):
    """The outside test: at the default limits a client resent acknowledged bodies 3 s later, during a burst
    of a million readings, and they were stored twice (the memory of ids, counted in messages, had turned
    over). Repeats are exact in time: within the allowed lateness of the device's newest reading, however
    much came in between."""
    pipeline, t0 = site.pipeline, site.now() - 30
    first = [site.message("SMK-1", {"temp_c": 25.0}, ts=t0 + i * 0.001, mid=f"a{i}") for i in range(1000)]
    assert site.send(first).json()["messages"] == 1000
    body = 20_000
    for start in range(0, 1_000_000, body):  # a burst of a million readings from the other devices
        msgs = [{"id": f"b{k}", "device": "EFM-1", "ts": t0 + 1 + k * 1e-5, "values": {"cable_temp_c": 30.0}}
                for k in range(start, start + body)]  # fmt: skip
        receipt = pipeline.ingest(json.dumps(msgs).encode())
        assert receipt.messages == body
    again = site.send(first).json()
    assert again["messages"] == 0 and again["duplicates"] == 1000
    site.settle()
    (count,) = pipeline.lake.query("SELECT count(*) FROM readings WHERE device_id = 'SMK-1'")[0]
    assert count == 1000


def test_a_crash_between_the_lake_files_and_the_saved_state_stores_no_reading_twice(site, monkeypatch):
    """Readings reach the lake at a checkpoint, then the state (what the journal replays from) is saved. A
    crash between the two left lake files the restart's replay wrote again."""
    from urbanbrain.domains.sensing.ingest import pipeline as pipeline_module
    from urbanbrain.domains.sensing.ingest.service import PipelineService

    platform = site.platform
    assert site.send(_large_body(site)).json()["messages"] == 100
    site.pipeline.drain()

    def crash(*_: object) -> bytes:
        raise OSError("the machine went down while saving the state")

    monkeypatch.setattr(pipeline_module.Seen, "encode", staticmethod(crash))
    with pytest.raises(OSError):  # the lake files written, the state not saved
        site.pipeline.call(site.pipeline.checkpoint).result(timeout=30)
    (written,) = site.pipeline.lake.query("SELECT count(*) FROM readings WHERE device_id = 'EFM-1'")[0]
    assert written == 200
    with pytest.raises(OSError):  # its last checkpoint fails too: the state on disk predates the readings
        site.pipeline.stop()
    monkeypatch.undo()
    again = PipelineService(platform)
    again.start()
    try:
        again.pipeline.drain()
        again.pipeline.call(again.pipeline.checkpoint).result(timeout=30)
        (count,) = again.pipeline.lake.query("SELECT count(*) FROM readings WHERE device_id = 'EFM-1'")[0]
        assert count == 200
    finally:
        again.stop()


def test_a_refused_batch_explains_its_first_messages_in_the_answer(site):
    """The outside test: a 422 named only a reason code (`bad_timestamp ×1`). The answer now says, for the first
    few messages, what was wrong with each, as the dead letters do."""
    msgs = [
        site.message("EFM-1", {"cable_temp_c": 30.0}, ts=site.now() + 3600, mid=f"late-{i}") for i in range(7)
    ]
    r = site.send(msgs, key_of="EFM-1")
    assert r.status_code == 422
    body = r.json()
    assert body["code"] == "sensing.no_valid_readings"
    shown = body["detail"]["dead"]
    assert len(shown) == 5 and {d["reason"] for d in shown} == {"bad_timestamp"}
    assert shown[0]["message"] == "late-0" and shown[0]["device"] == "EFM-1" and shown[0]["detail"]
    assert "late-0" in body["messages"]["en"] and shown[0]["detail"] in body["messages"]["en"]
    assert "and 2 more" in body["messages"]["en"] and "另有 2 条" in body["messages"]["zh-CN"]


def test_a_whole_body_nested_a_thousand_deep_is_answered_and_dead_lettered(site):
    """As the whole body, JSON nested ~1,000 deep reset the connection with no answer."""
    r = site.client.post(
        "/api/v1/sensing/readings",
        content=b"[" * 1000 + b"]" * 1000,
        headers={"X-Device-Key": site.keys["EFM-1"]},
    )
    assert r.status_code == 422, r.text
    assert r.json()["code"] == "sensing.no_valid_readings"
    site.settle()
    dead = site.client.get("/api/v1/sensing/dead-letters", headers=site.admin).json()["items"]
    assert [d["reason"] for d in dead] == ["not_json"]


def test_the_door_answers_429_without_reading_a_body_while_other_bodies_fill_its_budget(site):
    """The outside test: 200 bodies sent at once were all read into memory, whatever the pending limit, for
    a body is read whole before it is checked. The door holds bodies' bytes against a budget before reading
    them; a sender past it is told to come back, and its resend is taken."""
    from urbanbrain.domains.sensing.api import _body_budget

    budget = _body_budget(site.platform)
    msgs = [site.message("EFM-1", {"cable_temp_c": 30.0}, mid="in-a-crowd")]
    assert budget.reserve(budget.limit)  # other senders' bodies, being read
    try:
        r = site.send(msgs, key_of="EFM-1")
        assert r.status_code == 429 and r.headers["Retry-After"] == "1"
        assert r.json()["code"] == "sensing.busy"
        assert budget.held == budget.limit  # nothing of this body held
    finally:
        budget.release(budget.limit)
    r = site.send(msgs, key_of="EFM-1")
    assert r.status_code == 202 and r.json()["messages"] == 1
    assert budget.held == 0 and budget.bodies == 0  # given back once answered
