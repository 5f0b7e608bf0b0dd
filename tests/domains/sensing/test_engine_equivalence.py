"""The main correctness proof: on random streams the vectorised engine gives exactly the transitions of the
plain per-reading reference, however the stream is cut into batches and whatever the order inside a batch,
and a snapshot taken anywhere goes on exactly."""

import math
import random
from collections import defaultdict

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from urbanbrain.domains.sensing.engine import RuleEngine, RuleSpec
from urbanbrain.domains.sensing.engine.reference import ReferenceEngine

T0 = 1_531_094_400.0
LATENESS = 60.0


def rule(code, kind, **fields):
    return RuleSpec(
        code=code, kind=kind, alarm_type=f"test.{code}", severity="minor", level="yellow", **fields
    )


RULES = [
    rule("hot", "threshold", measurement="temp", op=">", value=70, clear_value=65),
    rule("cold", "threshold", measurement="temp", op="<=", value=50, clear_value=55),
    rule("hot_held", "duration", measurement="temp", op=">=", value=66, minutes=1, device_type="efm"),
    rule("hot_again", "repeat", measurement="temp", op=">", value=68, count=3, clear_value=60),
    rule("rising", "rate", measurement="temp", op=">", value=10.0, clear_value=2.0),
    rule("smoke", "threshold", measurement="smoke", op=">=", value=1, clear_value=0.5, device_type="smoke"),
    rule("silent", "absence", measurement="temp", minutes=2),
    rule("heading_hot", "forecast", measurement="temp", op=">", value=80, clear_value=75, horizon_minutes=5,
         window_minutes=1),
    rule("fire", "composite", parts=["smoke", "rising"], within_minutes=10),
]  # fmt: skip
# A silence joined with smoke: its parts' order in event time depends on when the watermark moved, so it is
# only compared with the reference on the same batches.
SILENT_SMOKE = rule("silent_smoke", "composite", parts=["silent", "smoke"], within_minutes=5)
IDS = ["efm-a", "efm-b", "smoke-a", "efm-c", "smoke-c"]
TYPES = ["efm", "efm", "smoke", "efm", "smoke"]
GROUPS = ["A", "A", "A", "C", None]
VALUES = [0, 1, 40, 49, 50, 55, 60, 64, 65, 66, 68, 69, 70, 71, 75, 79, 80, 81, 90]

reading = st.tuples(
    st.sampled_from([1, 2, 7, 30, 59, 61, 200]),  # seconds since the previous reading of the stream
    st.integers(0, len(IDS) - 1),
    st.sampled_from(["temp", "temp", "temp", "smoke", "volts"]),  # nothing watches volts
    st.sampled_from(VALUES),
    st.sampled_from([None, None, None, None, None, None, 0, 60, 300]),  # then the platform clock advances by
)
stream_of = st.lists(reading, max_size=60)


def build(items, lags=None):
    """Readings (device, measurement, value, event time) with "advance" marks, in arrival order."""
    out, t = [], T0
    for i, (step, dev, meas, value, advance) in enumerate(items):
        t += step
        if meas == "smoke":  # a detector says 0 or 1, about as often
            value = float(value >= 66)
        out.append((dev, meas, float(value), t - (lags[i] if lags else 0)))
        if advance is not None:
            out.append(("advance", t + advance))
    return out


def cut(stream, cuts, rnd):
    """Batches between cut points and at every advance mark, each shuffled."""
    steps, batch = [], []
    for i, item in enumerate(stream):
        if item[0] == "advance":
            steps += [batch, item] if batch else [item]
            batch = []
            continue
        batch.append(item)
        if i < len(cuts) and cuts[i]:
            steps.append(batch)
            batch = []
    if batch:
        steps.append(batch)
    for step in steps:
        if step[0] != "advance":
            rnd.shuffle(step)
    return steps


def play(engine, steps, codes=False):
    """Per step, what the engine said: (transitions, rejected, stats), or the transitions of advance."""
    out = []
    for step in steps:
        if step[0] == "advance":
            out.append(engine.advance(step[1]))
            continue
        dev, meas, values, ts = (list(column) for column in zip(*step, strict=True))
        if codes:
            meas = np.array([engine.measurement_code(m) for m in meas])
        elif isinstance(engine, RuleEngine):
            dev, values, ts = np.array(dev), np.array(values), np.array(ts)
        result = engine.evaluate(dev, meas, values, ts)
        out.append((result.transitions, result.rejected, result.stats))
    return out


def fresh(kind, rules):
    engine = kind(rules, allowed_lateness_s=LATENESS)
    engine.set_devices(IDS, TYPES, GROUPS)
    return engine


def by_alarm(outputs):
    """Each alarm's (rule, device or group) transitions in order: what must not depend on batching."""
    out = defaultdict(list)
    for output in outputs:
        for t in output if isinstance(output, list) else output[0]:
            out[(t.rule_code, t.device)].append(t)
    return dict(out)


@settings(max_examples=500, deadline=None, database=None)
@given(
    items=stream_of,
    lags=st.lists(st.sampled_from([0, 0, 0, 0, 5, 30, 59, 60, 61, 150]), min_size=60, max_size=60),
    broken=st.sets(st.integers(0, 59), max_size=3),
    cuts=st.lists(st.booleans(), min_size=80, max_size=80),
    rnd=st.randoms(use_true_random=False),
    restore_at=st.integers(0, 40),
)
def test_engine_matches_the_reference_on_any_stream(items, lags, broken, cuts, rnd, restore_at):
    stream = build(items, lags)  # readings out of order: late ones and too late ones
    for i in broken:  # readings the door should dead-letter
        if i < len(stream) and stream[i][0] != "advance":
            dev, meas, _, ts = stream[i]
            stream[i] = (dev + 5, meas, 1.0, ts) if i % 2 else (dev, meas, math.nan, ts)
    rules = [*RULES, SILENT_SMOKE]
    steps = cut(stream, cuts, rnd)
    expected = play(fresh(ReferenceEngine, rules), steps)
    engine = fresh(RuleEngine, rules)
    assert play(engine, steps) == expected
    # the same again, through a snapshot and a no-op rule replacement at some step
    head, tail = steps[:restore_at], steps[restore_at:]
    first = fresh(RuleEngine, rules)
    got = play(first, head)
    again = RuleEngine.restore(first.snapshot(), rules)
    assert again.replace_rules(list(rules)) == []
    got += play(again, tail, codes=True)
    assert got == expected
    assert set(again.active()) == set(engine.active())


@settings(max_examples=400, deadline=None, database=None)
@given(
    items=stream_of,
    cuts=st.lists(st.booleans(), min_size=80, max_size=80),
    rnd=st.randoms(use_true_random=False),
)
def test_batch_sizes_and_order_inside_a_batch_do_not_change_the_alarms(items, cuts, rnd):
    stream = build(items)  # in event-time order, as a replay of the readings log gives it
    as_one = cut(stream, [False] * len(stream), random.Random(0))
    any_cut = cut(stream, cuts, rnd)
    one_batch = fresh(RuleEngine, RULES)
    many_batches = fresh(RuleEngine, RULES)
    expected = play(one_batch, as_one)
    assert by_alarm(play(many_batches, any_cut)) == by_alarm(expected)
    assert set(many_batches.active()) == set(one_batch.active())
    assert by_alarm(play(fresh(ReferenceEngine, RULES), any_cut)) == by_alarm(expected)


def test_the_random_streams_reach_every_kind():
    """Guard for the two tests above: a plain stream of theirs raises and clears every rule."""
    rnd = random.Random(3)
    items = [
        (rnd.choice([1, 7, 30, 61, 200]), rnd.randrange(len(IDS)), rnd.choice(["temp", "temp", "smoke"]),
         rnd.choice(VALUES), None)
        for _ in range(400)
    ]  # fmt: skip
    outputs = play(fresh(RuleEngine, [*RULES, SILENT_SMOKE]), cut(build(items), [False] * 400, rnd))
    seen = {(t.rule_code, t.kind) for t in outputs[0][0]}
    assert seen == {(r.code, k) for r in [*RULES, SILENT_SMOKE] for k in ("raise", "clear")}
