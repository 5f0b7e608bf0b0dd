"""The body check: a large body whose messages are all good is checked column by column; any flaw sends it
through the message-by-message loop. Both must give the same readings, dead letters and repeats."""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone

import msgspec
import numpy as np
import pytest

from urbanbrain.domains.sensing.ingest.dedupe import Seen, Verdict
from urbanbrain.domains.sensing.ingest.wire import SMALL_BODY, DeviceInfo, parse

NOW = 1_700_000_000.0
KNOWN = {
    **{f"EFM-{i}": DeviceInfo(i, frozenset({"residual_current_ma", "cable_temp_c"})) for i in range(10)},
    **{f"SMK-{i}": DeviceInfo(10 + i, frozenset({"smoke_obscuration", "temp_c"})) for i in range(5)},
}
N = 3 * SMALL_BODY  # large enough for the column-by-column check


def _messages(n: int = N) -> list[dict]:
    out = []
    for k in range(n):
        if k % 3:
            device, values = f"EFM-{k % 10}", {"residual_current_ma": 10.0 + k, "cable_temp_c": 30.0 + k / 10}
        else:
            device, values = f"SMK-{k % 5}", {"smoke_obscuration": k / 1000}
        out.append({"id": f"m{k}", "device": device, "ts": NOW - 60 + k, "values": values})
    return out


def _both(body: bytes, seen_before: list[tuple[str, str]] = (), **kw):
    """The body through the whole check (the column path where it applies) and through the loop alone."""
    results = []
    for columns in (True, False):
        seen = Seen()
        for device, mid in seen_before:
            seen.check(device, mid, NOW - 60)
        parsed = parse(
            body,
            devices=KNOWN.get,
            now_s=NOW,
            fresh=seen.check,
            fresh_all=seen.check_all if columns else None,
            known=KNOWN if columns else None,
            **kw,
        )
        results.append((parsed, seen))
    return results


def _same(a, b) -> None:
    (pa, seen_a), (pb, seen_b) = a, b
    np.testing.assert_array_equal(pa.device_index, pb.device_index)
    np.testing.assert_array_equal(pa.value, pb.value)
    np.testing.assert_array_equal(pa.ts, pb.ts)
    assert pa.measurement == pb.measurement
    assert pa.message_id == pb.message_id
    assert pa.keys == pb.keys
    assert [m.id for m in pa.messages] == [m.id for m in pb.messages]
    assert [(d.reason, d.message_id) for d in pa.dead] == [(d.reason, d.message_id) for d in pb.dead]
    assert pa.duplicates == pb.duplicates
    assert _remembered(seen_a) == _remembered(seen_b)


def _remembered(seen: Seen) -> tuple[dict[str, float], list[tuple[int, float]]]:
    names, newest, (h, ts, dev), (rh, rts, rdev), _ = seen.snapshot()
    pairs = list(zip(h.tolist() + rh.tolist(), ts.tolist() + rts.tolist(), strict=True))
    return seen.newest, sorted(pairs)


def test_a_large_good_body_gives_every_reading_in_order():
    msgs = _messages()
    columns, loop = _both(msgspec.json.encode(msgs))
    _same(columns, loop)
    parsed, seen = columns
    assert parsed.readings == sum(len(m["values"]) for m in msgs)
    assert not parsed.dead and parsed.duplicates == 0 and len(seen) == N
    # Reading by reading: the device's index, the measurement, the value, its time and its message.
    first = msgs[1]  # an electrical-fire monitor: two readings
    at = 1  # the first message (a smoke detector) has one reading
    assert parsed.device_index[at] == KNOWN[first["device"]].index
    assert parsed.measurement[at : at + 2] == ["residual_current_ma", "cable_temp_c"]
    assert list(parsed.value[at : at + 2]) == [11.0, 30.1]
    assert list(parsed.ts[at : at + 2]) == [first["ts"]] * 2
    assert parsed.message_id[at : at + 2] == ["m1", "m1"]


def _flawed(flaw: str) -> tuple[list[dict], dict]:
    msgs, kw = _messages(), {}
    m = msgs[40]
    if flaw == "unknown_device":
        m["device"] = "EFM-404"
    elif flaw == "unknown_measurement":
        m["values"]["humidity"] = 50.0
    elif flaw == "ahead":
        m["ts"] = NOW + 3600
    elif flaw == "too_large":  # JSON has no infinity; a number beyond a float's range is refused by decoding
        m["values"]["cable_temp_c"] = 123456.5
    elif flaw == "iso_time":  # good, but converted by the loop
        m["ts"] = datetime.fromtimestamp(
            m["ts"], timezone(timedelta(hours=8))
        ).isoformat()  # the same instant
    elif flaw == "no_device":
        del m["device"]
    elif flaw == "repeated_within":
        m["id"], m["device"] = msgs[41]["id"], msgs[41]["device"]
    elif flaw == "not_my_device":
        kw["only_device"] = "EFM-1"
    elif flaw == "topic_names_them":  # good: an MQTT payload of one device's messages, the topic naming it
        msgs = [{k: v for k, v in x.items() if k != "device"} for x in msgs if x["device"] == "EFM-1"] * 5
        for k, x in enumerate(msgs):
            msgs[k] = {**x, "id": f"t{k}", "ts": NOW - 40 + k}
        kw["topic_device"] = "EFM-1"
    elif flaw == "topic_names_another":
        msgs = [{**x, "device": "EFM-1"} for x in msgs if x["device"].startswith("EFM")]
        msgs[40]["device"] = "EFM-2"
        kw["topic_device"] = "EFM-1"
    return msgs, kw


@pytest.mark.parametrize(
    "flaw",
    [
        "unknown_device",
        "unknown_measurement",
        "ahead",
        "too_large",
        "iso_time",
        "no_device",
        "repeated_within",
        "not_my_device",
        "topic_names_them",
        "topic_names_another",
    ],  # fmt: skip
)
def test_a_flaw_anywhere_in_a_large_body_is_found_as_the_loop_finds_it(flaw):
    msgs, kw = _flawed(flaw)
    columns, loop = _both(msgspec.json.encode(msgs).replace(b"123456.5", b"1e999"), **kw)
    _same(columns, loop)
    parsed = columns[0]
    if flaw == "iso_time":
        assert not parsed.dead and len(parsed.messages) == N
    elif flaw == "repeated_within":
        assert parsed.duplicates == 1 and len(parsed.messages) == N - 1
    elif flaw == "not_my_device":
        assert {d.reason for d in parsed.dead} == {"wrong_device"}
        assert {m.device for m in parsed.messages} == {"EFM-1"}
    elif flaw == "topic_names_them":
        assert not parsed.dead and len(parsed.messages) == len(msgs)
        assert set(parsed.device_index.tolist()) == {KNOWN["EFM-1"].index}
    elif flaw == "topic_names_another":
        assert [(d.reason, d.message_id) for d in parsed.dead] == [("wrong_device", msgs[40]["id"])]
    elif flaw == "too_large":
        assert [d.reason for d in parsed.dead] == ["invalid_message"] and b'"m40"' in parsed.dead[0].payload
    else:
        assert len(parsed.dead) == 1 and parsed.dead[0].message_id == "m40"
        assert len(parsed.messages) == N - 1


def test_messages_seen_before_are_dropped_and_the_rest_taken():
    msgs = _messages()
    columns, loop = _both(msgspec.json.encode(msgs), seen_before=[("EFM-1", "m1"), ("SMK-4", "m9")])
    _same(columns, loop)
    parsed, seen = columns
    assert parsed.duplicates == 2 and len(parsed.messages) == N - 2 and len(seen) == N


def test_a_whole_body_is_remembered_only_when_all_of_it_is_new():
    seen = Seen()
    assert seen.check_all(["A", "B"], ["1", "1"], [NOW, NOW])
    assert seen.check("A", "1", NOW) is Verdict.REPEAT and seen.check("B", "1", NOW) is Verdict.REPEAT
    assert not seen.check_all(["C", "A"], ["1", "1"], [NOW, NOW])  # A/1 was taken before
    assert not seen.check_all(["D", "D"], ["1", "1"], [NOW, NOW])  # the same message twice in one body
    assert not seen.check_all(["A", "E"], ["2", "1"], [NOW - 61, NOW])  # A/2 is too late for A's newest
    assert len(seen) == 2  # no refused body left anything behind
    assert seen.check("C", "1", NOW) is Verdict.NEW and seen.check("D", "1", NOW) is Verdict.NEW


def test_repeats_are_exact_whatever_the_traffic_in_between():
    """A million messages of other devices, then a resend: still a repeat (the old memory of two
    generations of ids had forgotten it). Only what no longer matters is forgotten."""
    seen = Seen(window_s=60, chunk=5_000)
    assert seen.check("EFM-1", "m1", NOW) is Verdict.NEW
    for burst in range(100):
        ids = [f"b{burst}-{i}" for i in range(10_000)]
        assert seen.check_all([f"D{i % 5000}" for i in range(10_000)], ids, [NOW + burst * 0.01] * 10_000)
    assert seen.check("EFM-1", "m1", NOW) is Verdict.REPEAT  # its device has sent nothing newer
    assert len(seen) == 1_000_001  # the bursts' ids are within their devices' lateness: all kept
    # Once the devices have moved on, their old ids go at the next merge (after a sixteenth of those
    # held are new); resending one of them is too late, never taken twice.
    for i in range(5000):
        seen.check(f"D{i}", "later", NOW + 3600)
    seen.check_all(["X"] * 70_000, [f"x{i}" for i in range(70_000)], [NOW + 3600] * 70_000)
    assert len(seen) == 70_000 + 5000 + 1
    assert seen.check("D7", "b0-7", NOW) is Verdict.TOO_LATE
    assert seen.check("EFM-1", "m1", NOW) is Verdict.REPEAT  # EFM-1 kept its last window all along


def test_a_message_far_behind_its_device_is_too_late_and_a_new_device_is_not():
    seen = Seen(window_s=60)
    assert seen.check("A", "1", NOW) is Verdict.NEW
    assert seen.check("A", "2", NOW - 59) is Verdict.NEW  # late, within the lateness
    assert seen.check("A", "3", NOW - 61) is Verdict.TOO_LATE
    assert seen.check("B", "3", NOW - 3600) is Verdict.NEW  # B's own clock: its first message
    assert not seen.holds("A", "3")  # a refused message is not remembered


def test_readings_older_than_the_horizon_are_too_old():
    body = msgspec.json.encode(
        [
            {
                "id": "old",
                "device": "EFM-1",
                "ts": -37_875_000_000.0,
                "values": {"cable_temp_c": 30.0},
            },  # year -1199
            {"id": "1970", "device": "EFM-1", "ts": 0.0, "values": {"cable_temp_c": 30.0}},
            {"id": "ok", "device": "EFM-1", "ts": NOW - 6 * 86400, "values": {"cable_temp_c": 30.0}},
        ]
    )
    parsed = parse(body, devices=KNOWN.get, now_s=NOW, max_age_s=7 * 86400)
    assert [(d.reason, d.message_id) for d in parsed.dead] == [("too_old", "old"), ("too_old", "1970")]
    assert [m.id for m in parsed.messages] == ["ok"]
    assert "7 days" in parsed.dead[0].detail


def test_a_bad_element_costs_only_itself_when_the_body_is_still_a_list():
    good = b'{"id":"g","device":"EFM-1","ts":%d,"values":{"cable_temp_c":30.0}}' % int(NOW)
    for bad in (b"NaN", b'{"id":"n","device":"EFM-1","ts":1,"values":{"cable_temp_c":NaN}}', b"[[[[["):
        body = b"[" + good + b", " + bad + b"]"
        parsed = parse(body, devices=KNOWN.get, now_s=NOW)
        if bad == b"[[[[[":  # not a list any more: the whole body is refused, and kept
            assert [d.reason for d in parsed.dead] == ["not_json"] and not parsed.messages
        else:
            assert [m.id for m in parsed.messages] == ["g"]
            assert [d.reason for d in parsed.dead] == ["invalid_message"]


def test_json_nested_a_thousand_deep_is_refused_not_a_crash():
    for body in (b"[" * 5000 + b"]" * 5000, b'[{"id":"x","values":' + b"[" * 5000 + b"]" * 5000 + b"}]"):
        parsed = parse(body, devices=KNOWN.get, now_s=NOW)
        assert not parsed.messages and parsed.dead
        assert parsed.dead[0].reason in ("not_json", "invalid_message")


def test_a_body_going_back_in_time_further_than_the_lateness_has_its_late_messages_refused():
    """One device's messages, newest first, spanning two minutes: those more than the allowed lateness
    (60 s) behind the newest before them are too late, by the column check as by the loop."""
    msgs = [
        {"id": f"r{k}", "device": "EFM-3", "ts": NOW - k, "values": {"cable_temp_c": 30.0}}
        for k in range(120)
    ]
    columns, loop = _both(msgspec.json.encode(msgs))
    _same(columns, loop)
    parsed = columns[0]
    assert [m.id for m in parsed.messages] == [f"r{k}" for k in range(61)]
    assert {d.reason for d in parsed.dead} == {"too_late"} and len(parsed.dead) == 59


def test_the_compact_store_answers_as_a_plain_model_of_the_rule_does():
    """Random traffic with resends, late messages and forgotten ids (journal failures), merged often: every
    verdict, and the store after a save and a load, as a plain dictionary model of the rule gives them."""
    import random

    rng = random.Random(14)
    seen = Seen(window_s=60, chunk=37)  # merged every 37 ids: many merges, with forgets between
    kept: dict[tuple[str, str], float] = {}  # the model: taken ids and their times
    newest: dict[str, float] = {}
    sent: list[tuple[str, str, float]] = []
    for step in range(4000):
        device = f"D{rng.randrange(12)}"
        if sent and rng.random() < 0.2:
            device, mid, ts = rng.choice(sent)  # a resend
        else:
            mid, ts = f"m{step}", NOW + step * 0.5 - rng.uniform(0, 90)
        top = newest.get(device, -math.inf)
        late, taken = ts < top - 60, (device, mid) in kept
        got = seen.check(device, mid, ts)
        if taken and late:  # refused either way; a held id may linger until the next merge
            assert got in (Verdict.REPEAT, Verdict.TOO_LATE), step
        else:
            assert got is (Verdict.REPEAT if taken else Verdict.TOO_LATE if late else Verdict.NEW), step
        expected = got
        if expected is Verdict.NEW:
            kept[(device, mid)] = ts
            newest[device] = max(top, ts)
            sent.append((device, mid, ts))
        if rng.random() < 0.05:  # a recent body's journal write failed: not taken after all
            lost = list(dict.fromkeys((d, m) for d, m, _ in sent[-60:] if (d, m) in kept))[
                -rng.randrange(1, 30) :
            ]
            seen.forget(lost)
            for pair in lost:
                del kept[pair]
    loaded = Seen.load(Seen.encode(seen.snapshot()))
    for (device, mid), ts in kept.items():
        within = ts >= newest[device] - 60
        assert seen.holds(device, mid) or not within
        assert loaded.holds(device, mid) == seen.holds(device, mid)
    assert loaded.newest == seen.newest


def test_one_message_and_a_whole_body_hash_an_id_alike():
    """A body's ids are hashed column by column, a lone message's in a loop: a message first sent in a body
    and resent alone (or the other way round) must meet the same hash."""
    from urbanbrain.domains.sensing.ingest.dedupe import key_hash, key_hashes

    devices = ["EFM-1", "SMK-4", "设备-七", "D", "EFM-1", "EFM-1"]
    ids = ["m1", "a-much-longer-message-id-0001", "消息一", "x", "m1\0", ""]
    together = key_hashes(devices, ids).tolist()
    assert together == [key_hash(d, m) for d, m in zip(devices, ids, strict=True)]
    assert len(set(together[:4])) == 4
