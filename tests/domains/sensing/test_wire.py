"""The body check: a large body whose messages are all good is checked column by column; any flaw sends it
through the message-by-message loop. Both must give the same readings, dead letters and repeats."""

from __future__ import annotations

import msgspec
import numpy as np
import pytest

from urbanbrain.domains.sensing.ingest.dedupe import Seen
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
            seen.fresh(device, mid)
        parsed = parse(
            body,
            devices=KNOWN.get,
            now_s=NOW,
            fresh=seen.fresh,
            fresh_all=seen.fresh_all if columns else None,
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
    assert seen_a.snapshot()[:2] == seen_b.snapshot()[:2]


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
        m["ts"] = "2023-11-14T22:12:20+08:00"
    elif flaw == "no_device":
        del m["device"]
    elif flaw == "repeated_within":
        m["id"], m["device"] = msgs[41]["id"], msgs[41]["device"]
    elif flaw == "not_my_device":
        kw["only_device"] = "EFM-1"
    elif flaw == "topic_names_them":  # good: an MQTT payload of one device's messages, the topic naming it
        msgs = [{k: v for k, v in x.items() if k != "device"} for x in msgs if x["device"] == "EFM-1"] * 5
        for k, x in enumerate(msgs):
            msgs[k] = {**x, "id": f"t{k}"}
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
    assert seen.fresh_all(["A", "B"], ["1", "1"])
    assert not seen.fresh("A", "1") and not seen.fresh("B", "1")
    assert not seen.fresh_all(["C", "A"], ["1", "1"])  # A/1 was taken before
    assert not seen.fresh_all(["D", "D"], ["1", "1"])  # the same message twice in one body
    assert len(seen) == 2  # neither refused body left anything behind
    assert seen.fresh("C", "1") and seen.fresh("D", "1")


def test_the_generations_still_turn_over_a_body_at_a_time():
    seen = Seen(per_generation=4)
    assert seen.fresh_all(["A"] * 3, ["1", "2", "3"])
    assert seen.fresh_all(["A"] * 3, ["4", "5", "6"])  # the first generation is full: it becomes the old one
    assert not seen.fresh("A", "1")  # still remembered, in the old generation
    assert not seen.fresh_all(["A", "A"], ["11", "2"])  # a body with one message of the old generation
    assert seen.fresh_all(["A"] * 4, ["7", "8", "9", "10"])
    assert seen.fresh("A", "1")  # two generations later: forgotten
