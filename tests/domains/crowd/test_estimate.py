"""The zone's estimate on synthetic crowds whose truth is known: counters for the trend, cameras for the
level, either surviving the other's silence; forecasts that see a known crossing coming; the same answer
however the messages are batched."""

from __future__ import annotations

import random

import pytest

from urbanbrain.domains.crowd.estimate import Params, ZoneEstimator
from urbanbrain.domains.crowd.levels import Thresholds, rank

AREA = 1000.0  # m²
T0 = 1_530_000_000.0
INPUTS = {"E1": "entrance", "X1": "exit", "CAM": "camera"}


def crowd(
    minutes: int, inflow: float, outflow: float, start: float = 0.0
) -> list[tuple[float, float, float]]:
    """(ts, in, out) every 10 s, with the true occupancy implied: inflow and outflow in persons/min."""
    return [(T0 + 10 * (i + 1), inflow / 6, outflow / 6) for i in range(minutes * 6)]


def feed(z: ZoneEstimator, steps, *, counter_bias=1.0, camera=True, rng=None, silent=(), start=0.0):
    """Send what the devices would; return the true occupancy at each step's time."""
    truth, n = {}, start
    for ts, i, o in steps:
        n += i - o
        truth[ts] = n
        if not any(a <= ts < b for a, b in silent):
            z.add("E1", ts, {"in": i * counter_bias, "out": 0.0})
            z.add("X1", ts, {"in": 0.0, "out": o * counter_bias})
        if camera and int(ts - T0) % 30 == 0:
            density = n / AREA
            seen = n * (1 - 0.05 * density) + 3.0
            if rng is not None:
                seen *= rng.gauss(1.0, 0.05)
            z.add("CAM", ts, {"head_count": seen})
    return truth


def test_counters_give_the_trend_and_the_known_crossing():
    z = ZoneEstimator(AREA, {"E1": "entrance", "X1": "exit"})
    feed(z, crowd(40, inflow=130, outflow=30), camera=False)  # net +100/min: 5 p/m² (5,000) at 50 min
    snaps = z.advance(until=T0 + 40 * 60)
    last = snaps[-1]
    assert last.occupancy == pytest.approx(4000, rel=0.01)
    assert last.flow_per_min == pytest.approx(100, rel=0.02)
    assert last.minutes_to_danger == pytest.approx(10, abs=0.5)
    ten = next(f for f in last.forecast if f.minutes_ahead == 10)
    assert ten.low < 5.0 < ten.high and ten.density == pytest.approx(5.0, rel=0.03)


def test_the_camera_corrects_counters_that_miss_people():
    truth_steps = crowd(30, inflow=90, outflow=10)
    alone = ZoneEstimator(AREA, {"E1": "entrance", "X1": "exit"})
    feed(alone, truth_steps, counter_bias=0.85, camera=False)
    fused = ZoneEstimator(AREA, INPUTS)
    truth = feed(fused, truth_steps, counter_bias=0.85, rng=random.Random(1))
    end = T0 + 30 * 60
    a, f = alone.advance(until=end)[-1], fused.advance(until=end)[-1]
    true = truth[end]
    assert abs(a.occupancy - true) / true > 0.12  # counters alone drift with what they miss
    assert abs(f.occupancy - true) / true < 0.06  # the camera, corrected for occlusion, pulls it back


def test_counters_silent_for_minutes_are_carried_on_and_the_camera_keeps_the_level():
    z = ZoneEstimator(AREA, INPUTS)
    silence = (T0 + 10 * 60, T0 + 16 * 60)  # six minutes in which the counters' messages are lost
    truth = feed(z, crowd(20, inflow=60, outflow=0), silent=[silence], rng=random.Random(7))
    snaps = {s.at: s for s in z.advance(until=T0 + 20 * 60)}
    during = snaps[T0 + 15 * 60]
    assert during.occupancy == pytest.approx(truth[T0 + 15 * 60], rel=0.08)
    assert during.flow_per_min == pytest.approx(60, rel=0.25)  # the trend survives the silence
    assert snaps[T0 + 20 * 60].occupancy == pytest.approx(truth[T0 + 20 * 60], rel=0.08)


def _silent_counter() -> ZoneEstimator:
    """10 persons every 10 s for 5 minutes, then 5 minutes of silence."""
    z = ZoneEstimator(AREA, {"E1": "entrance"})
    for k in range(1, 31):
        z.add("E1", T0 + 10 * k, {"in": 10, "out": 0})
    z.advance(until=T0 + 600)
    return z


def test_a_count_that_covers_the_silence_replaces_what_was_assumed():
    z = _silent_counter()
    assumed = z.occupancy
    assert assumed > 300 + 100  # it carried the old rate on
    z.add("E1", T0 + 600, {"in": 240, "out": 0})  # a counter that kept counting: the silence's total
    z.advance(until=T0 + 600)
    assert z.occupancy == pytest.approx(540)


def test_a_rebooted_counter_does_not_take_back_the_flow_it_missed():
    z = _silent_counter()
    assumed = z.occupancy
    z.add("E1", T0 + 600, {"in": 10, "out": 0})  # back after a reboot: only its last 10 s
    z.advance(until=T0 + 600)
    assert z.occupancy == pytest.approx(assumed + 10)


def test_cameras_alone_carry_the_level():
    z = ZoneEstimator(AREA, {"CAM": "camera"})
    truth = feed(z, crowd(20, inflow=60, outflow=0, start=0.0), rng=random.Random(2))
    last = z.advance(until=T0 + 20 * 60)[-1]
    assert last.occupancy == pytest.approx(truth[T0 + 20 * 60], rel=0.08)


@pytest.mark.parametrize("seed", [3, 4])
def test_the_same_messages_in_any_batching_give_the_same_snapshots(seed):
    steps = crowd(15, inflow=120, outflow=40)
    messages = []
    probe = ZoneEstimator(AREA, INPUTS)
    probe.add = lambda d, ts, v: messages.append((d, ts, v))  # type: ignore[method-assign]
    feed(probe, steps, rng=random.Random(seed))

    def run(order, batch):
        z = ZoneEstimator(AREA, INPUTS)
        out = []
        for k in range(0, len(order), batch):
            for d, ts, v in order[k : k + batch]:
                z.add(d, ts, v)
            out += z.advance()
        return out + z.advance(until=T0 + 15 * 60)

    rng = random.Random(seed)
    jittered = sorted(messages, key=lambda m: m[1] + rng.uniform(0, 50))  # arrive up to 50 s out of order
    a, b = run(messages, 1), run(jittered, 37)
    assert [(s.at, round(s.occupancy, 6), round(s.flow_per_min, 6)) for s in a] == [
        (s.at, round(s.occupancy, 6), round(s.flow_per_min, 6)) for s in b
    ]
    assert len(a) == 15 * 2  # a snapshot every 30 s of event time


def test_levels_from_density_or_capacity():
    t = Thresholds()
    assert [t.level(d) for d in (1.9, 2.0, 3.6, 5.0, 7.0)] == [None, "blue", "yellow", "orange", "red"]
    cap = Thresholds.from_capacity((0.5, 0.7, 0.8, 0.9), capacity=4000, area_m2=1000)
    assert cap.level(3.3) == "orange" and cap.danger == pytest.approx(3.2)
    assert rank("red") > rank("orange") > rank(None)


def test_a_flat_crowd_is_not_forecast_to_danger():
    z = ZoneEstimator(AREA, INPUTS, params=Params())
    feed(z, crowd(20, inflow=50, outflow=50), start=0.0, rng=random.Random(5))
    last = z.advance(until=T0 + 20 * 60)[-1]
    assert last.minutes_to_danger is None or last.minutes_to_danger > 60


def _resumed(z: ZoneEstimator, at: float) -> ZoneEstimator:
    """A new estimator (a restarted process) given what the engine kept of ``z`` at ``at``."""
    from urbanbrain.domains.crowd.estimate import Resume

    snap = next(s for s in z.advance(until=at) if s.at == at) if z.now is None or z.now < at else None
    assert snap is not None
    again = ZoneEstimator(AREA, {"E1": "entrance", "X1": "exit"})
    again.resume(Resume(snap.at, snap.occupancy, snap.sd, snap.gates))
    return again


def test_after_a_restart_a_zone_with_counters_alone_takes_up_its_crowd_and_trend():
    steps = crowd(40, inflow=130, outflow=30)  # net +100/min
    before, after = steps[: 20 * 6], steps[20 * 6 :]
    whole = ZoneEstimator(AREA, {"E1": "entrance", "X1": "exit"})
    feed(whole, steps, camera=False)
    first = ZoneEstimator(AREA, {"E1": "entrance", "X1": "exit"})
    feed(first, before, camera=False)
    again = _resumed(first, T0 + 20 * 60)
    # the device resends its last minute (it never heard the platform's answer), then goes on
    feed(again, steps[20 * 6 - 6 :], camera=False)
    end = T0 + 40 * 60
    kept, uninterrupted = again.advance(until=end)[-1], whole.advance(until=end)[-1]
    assert kept.occupancy == pytest.approx(uninterrupted.occupancy, rel=0.01)  # 4,000, not 2,000
    assert kept.flow_per_min == pytest.approx(100, rel=0.02)
    assert kept.minutes_to_danger == pytest.approx(uninterrupted.minutes_to_danger, abs=0.5)
    # right after the restart the trend is already there (it was kept), not zero for two minutes
    early = ZoneEstimator(AREA, {"E1": "entrance", "X1": "exit"})
    feed(early, before, camera=False)
    resumed = _resumed(early, T0 + 20 * 60)
    feed(resumed, after[:3], camera=False)
    assert resumed.advance(until=T0 + 20 * 60 + 30)[-1].flow_per_min == pytest.approx(100, rel=0.05)


def test_a_kept_state_too_old_for_the_crowd_now_is_not_taken_up():
    first = ZoneEstimator(AREA, {"E1": "entrance", "X1": "exit"})
    feed(first, crowd(20, inflow=130, outflow=30), camera=False)
    again = _resumed(first, T0 + 20 * 60)
    later = T0 + 20 * 60 + 2 * 3600  # the server was down two hours: that crowd has gone home
    again.add("E1", later + 10, {"in": 5.0, "out": 0.0})
    again.add("X1", later + 10, {"in": 0.0, "out": 1.0})
    assert again.advance(until=later + 30)[-1].occupancy == pytest.approx(4.0)
