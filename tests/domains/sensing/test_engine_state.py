"""The engine's state across its life: snapshots, rule changes through the API, new devices, memory."""

import numpy as np
import pytest

from urbanbrain.domains.sensing.engine import RuleEngine, RuleSpec

T0 = 1_531_094_400.0


def rule(code, kind, **fields):
    return RuleSpec(
        code=code, kind=kind, alarm_type=f"test.{code}", severity="major", level="orange", **fields
    )


RULES = [
    rule("cable_hot", "threshold", measurement="cable_temp", op=">", value=70, clear_value=65),
    rule("cable_hot_3min", "duration", measurement="cable_temp", op=">", value=60, minutes=3),
    rule("smoke_x2", "repeat", measurement="smoke", op=">=", value=1, count=2),
    rule("heat_rise", "rate", measurement="cable_temp", op=">", value=5.0),
    rule("offline", "absence", measurement="cable_temp", minutes=10),
    rule(
        "heading_hot",
        "forecast",
        measurement="cable_temp",
        op=">",
        value=80,
        horizon_minutes=10,
        window_minutes=1,
    ),
    rule("fire", "composite", parts=["smoke_x2", "heat_rise"], within_minutes=5),
]
IDS = ["efm-1", "efm-2", "smoke-1", "efm-3"]
TYPES = ["efm", "efm", "smoke", "efm"]
GROUPS = ["B1", "B1", "B1", "B2"]


def engine(rules=RULES):
    e = RuleEngine(rules)
    e.set_devices(IDS, TYPES, GROUPS)
    return e


def batches(seed=7, n=12, size=40):
    """A day-in-the-life stream: temperatures drifting up and down, smoke now and then, silences."""
    rng = np.random.default_rng(seed)
    t = T0
    for _ in range(n):
        dev = rng.integers(0, len(IDS), size)
        smoke = dev == 2
        values = np.where(smoke, rng.integers(0, 2, size), rng.choice([40, 58, 62, 66, 69, 71, 75, 85], size))
        ts = t + np.sort(rng.uniform(0, 300, size))
        t += 300 + (900 if rng.random() < 0.2 else 0)
        yield dev, np.where(smoke, "smoke", "cable_temp").tolist(), values.astype(float), ts, t


def run(e, stream):
    out = []
    for dev, meas, values, ts, now in stream:
        out.append(e.evaluate(dev, meas, values, ts).transitions)
        out.append(e.advance(now))
    return out


def test_a_restored_snapshot_goes_on_exactly_where_the_engine_was():
    stream = list(batches())
    straight = engine()
    expected = run(straight, stream)
    assert sum(len(t) for t in expected) > 20  # the stream raises and clears plenty
    first = engine()
    got = run(first, stream[:5])
    again = RuleEngine.restore(first.snapshot(), RULES)
    got += run(again, stream[5:])
    assert got == expected
    assert set(again.active()) == set(straight.active())
    assert again.watermark == straight.watermark


def test_a_snapshot_keeps_the_measurement_codes_callers_hold():
    e = engine()
    code = e.measurement_code("smoke")
    restored = RuleEngine.restore(e.snapshot(), RULES)
    assert restored.measurement_code("smoke") == code
    assert restored.device_ids == IDS


def test_garbage_is_not_a_snapshot():
    with pytest.raises(ValueError, match="not a rule engine snapshot"):
        RuleEngine.restore(b"certainly not npz", RULES)


def test_restoring_with_changed_rules_keeps_only_the_unchanged_ones_state():
    e = engine()
    e.evaluate([0, 0], ["cable_temp", "cable_temp"], [75.0, 76.0], [T0, T0 + 60])
    assert {("cable_hot", "efm-1")} <= set(e.active())
    stricter = rule("cable_hot", "threshold", measurement="cable_temp", op=">", value=72, clear_value=65)
    restored = RuleEngine.restore(e.snapshot(), [stricter, *RULES[1:]])
    assert ("cable_hot", "efm-1") not in set(restored.active())
    # the duration run (since T0, over 60) survived: 3 minutes in, it raises
    result = restored.evaluate([0], ["cable_temp"], [66.0], [T0 + 180])
    assert [(t.rule_code, t.kind) for t in result.transitions] == [("cable_hot_3min", "raise")]


def test_replacing_rules_keeps_unchanged_rules_state_and_reports_alarms_of_changed_ones():
    e = engine()
    e.evaluate([0, 0], ["cable_temp", "cable_temp"], [75.0, 76.0], [T0, T0 + 60])
    stricter = rule("cable_hot", "threshold", measurement="cable_temp", op=">", value=72, clear_value=65)
    dropped = e.replace_rules([stricter, *RULES[1:]])
    assert dropped == [("cable_hot", "efm-1")]
    result = e.evaluate([0], ["cable_temp"], [76.0], [T0 + 180])
    # the new cable_hot starts afresh and raises again; the duration run went on from T0
    assert [(t.rule_code, t.kind, t.event_ts) for t in result.transitions] == [
        ("cable_hot", "raise", T0 + 180),
        ("cable_hot_3min", "raise", T0 + 180),
    ]


def test_a_changed_part_resets_its_composite():
    e = engine()
    e.evaluate([2, 2], ["smoke", "smoke"], [1.0, 1.0], [T0, T0 + 1])
    e.evaluate([0, 0], ["cable_temp", "cable_temp"], [30.0, 50.0], [T0, T0 + 60])
    assert ("fire", "B1") in set(e.active())
    slower = rule("heat_rise", "rate", measurement="cable_temp", op=">", value=10.0)
    dropped = e.replace_rules([*RULES[:3], slower, *RULES[4:]])
    assert sorted(dropped) == [("fire", "B1"), ("heat_rise", "efm-1")]
    assert ("smoke_x2", "smoke-1") in set(e.active())


def test_devices_added_later_get_fresh_state_and_old_ones_keep_theirs():
    e = engine()
    e.evaluate([0], ["cable_temp"], [75.0], [T0])
    e.set_devices(
        [*IDS, *(f"efm-new-{i}" for i in range(1000))], [*TYPES, *["efm"] * 1000], [*GROUPS, *["B9"] * 1000]
    )
    assert ("cable_hot", "efm-1") in set(e.active())
    result = e.evaluate([1003, 0], ["cable_temp", "cable_temp"], [75.0, 60.0], [T0 + 1, T0 + 1])
    assert [(t.device, t.kind, t.group) for t in result.transitions if t.rule_code == "cable_hot"] == [
        ("efm-1", "clear", "B1"),
        ("efm-new-999", "raise", "B9"),
    ]


def test_set_devices_keeps_indices_stable():
    e = engine()
    with pytest.raises(ValueError, match="known devices first"):
        e.set_devices(["efm-2", "efm-1", "smoke-1", "efm-3"], TYPES, GROUPS)
    with pytest.raises(ValueError, match="unique"):
        e.set_devices([*IDS, "efm-1"], [*TYPES, "efm"], [*GROUPS, "B1"])
    with pytest.raises(ValueError, match="same length"):
        e.set_devices([*IDS, "x"], TYPES, GROUPS)


# Per device: 8 (type, group) + 16 per watched measurement (last event time, value), and per rule:
# threshold 1, duration 9, repeat 5, rate 1, absence 1, forecast 33, composite 0 (groups kept in dicts).
PER_RULE = {
    "threshold": 1,
    "duration": 9,
    "repeat": 5,
    "rate": 1,
    "absence": 1,
    "forecast": 33,
    "composite": 0,
}


def test_state_per_device_is_a_few_bytes_per_rule():
    assert RuleEngine.bytes_per_device(RULES) == 8 + 16 * 2 + sum(PER_RULE[r.kind] for r in RULES)
    n = 20_000
    e = RuleEngine(RULES)
    ids = [f"efm-{i:07d}" for i in range(n)]
    e.set_devices(ids, ["efm"] * n, [f"B{i // 50}" for i in range(n)])
    ids_bytes = e.memory_bytes() - n * RuleEngine.bytes_per_device(RULES)
    assert 0 < ids_bytes / n < 200  # the id string, its list slot and index entry
    # a million devices under these seven rules, ids included, stay far below 2 GB
    million = 1_000_000 * (RuleEngine.bytes_per_device(RULES) + ids_bytes / n)
    assert million < 0.5e9


def test_the_usual_four_rules_need_under_60_bytes_per_device():
    usual = [
        RULES[0],
        RULES[1],
        rule("leak", "threshold", measurement="residual_current", op=">", value=300),
        RULES[3],
    ]
    assert RuleEngine.bytes_per_device(usual) == 52
