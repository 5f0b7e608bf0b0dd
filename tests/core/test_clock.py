from datetime import UTC, datetime, timedelta

import pytest

from urbanbrain.core.clock import RealClock, SimulatedClock, clock_from_spec


def test_frozen_simulated_clock_moves_only_when_advanced():
    start = datetime(2018, 7, 9, tzinfo=UTC)
    clock = SimulatedClock(start, speed=0)
    assert clock.now() == start
    clock.advance(timedelta(minutes=90))
    assert clock.now() == start + timedelta(minutes=90)


def test_simulated_clock_runs_faster_than_the_wall():
    clock = SimulatedClock(datetime(2018, 7, 9, tzinfo=UTC), speed=3600)
    first = clock.now()
    import time

    time.sleep(0.05)
    assert clock.now() - first >= timedelta(seconds=150)  # 0.05 s of wall time is 3 simulated minutes


def test_clock_never_runs_backward():
    clock = SimulatedClock(datetime(2018, 7, 9, tzinfo=UTC), speed=0)
    with pytest.raises(ValueError):
        clock.advance(-1)


def test_clock_spec_parsing():
    clock = clock_from_spec("simulated:2018-07-09T08:00:00+08:00:0")
    assert clock.now() == datetime(2018, 7, 9, 0, 0, tzinfo=UTC)
    assert isinstance(clock_from_spec("real"), RealClock)
    assert clock_from_spec("real").now().tzinfo is not None
    with pytest.raises(ValueError):
        clock_from_spec("tomorrow")
