"""Each kind of alarm rule with concrete readings, as an operator of the fire-safety platform would check it."""

import math

import numpy as np
import pytest

from urbanbrain.domains.sensing.engine import RuleEngine, RuleSpec

T0 = 1_531_094_400.0  # 2018-07-09 00:00 UTC


def rule(code, kind, **fields):
    fields.setdefault("alarm_type", f"test.{code}")
    fields.setdefault("severity", "major")
    fields.setdefault("level", "orange")
    return RuleSpec(code=code, kind=kind, **fields)


CABLE_HOT = rule("cable_hot", "threshold", measurement="cable_temp", op=">", value=70, clear_value=65)
DEVICES = {
    "efm-1": ("electrical_fire_monitor", "B1"),
    "efm-2": ("electrical_fire_monitor", "B1"),
    "smoke-1": ("smoke_detector", "B1"),
    "efm-3": ("electrical_fire_monitor", "B2"),
    "smoke-3": ("smoke_detector", "B2"),
}


def engine(*rules, lateness=60.0):
    e = RuleEngine(list(rules), allowed_lateness_s=lateness)
    e.set_devices(list(DEVICES), [t for t, _ in DEVICES.values()], [g for _, g in DEVICES.values()])
    return e


def feed(e, readings):
    """readings: (device id, measurement, value, seconds after T0)."""
    index = {d: i for i, d in enumerate(DEVICES)}
    dev = np.array([index.get(d, 99) for d, *_ in readings], dtype=np.int32)
    return e.evaluate(
        dev, [m for _, m, _, _ in readings], [v for *_, v, _ in readings], [T0 + s for *_, s in readings]
    )


def moments(transitions):
    return [(t.rule_code, t.kind, t.device, t.event_ts - T0) for t in transitions]


def test_cable_temperature_raises_over_70_and_clears_only_below_65():
    e = engine(CABLE_HOT)
    result = feed(e, [("efm-1", "cable_temp", v, 60 * i) for i, v in enumerate([68, 71, 69, 64])])
    assert moments(result.transitions) == [
        ("cable_hot", "raise", "efm-1", 60),
        ("cable_hot", "clear", "efm-1", 180),
    ]
    raised = result.transitions[0]
    assert (raised.value, raised.alarm_type, raised.severity, raised.level) == (
        71,
        "test.cable_hot",
        "major",
        "orange",
    )
    assert (raised.group, raised.measurement, raised.scope) == ("B1", "cable_temp", "device")
    assert raised.detail == {"op": ">", "threshold": 70, "clear_value": 65}
    assert list(e.active()) == []


def test_a_reading_per_batch_gives_the_same_alarms_as_one_batch():
    e = engine(CABLE_HOT)
    seen = []
    for i, v in enumerate([68, 71, 69, 64]):
        seen += feed(e, [("efm-1", "cable_temp", v, 60 * i)]).transitions
        assert list(e.active()) == ([("cable_hot", "efm-1")] if i in (1, 2) else [])
    assert moments(seen) == [("cable_hot", "raise", "efm-1", 60), ("cable_hot", "clear", "efm-1", 180)]


def test_readings_of_a_batch_in_any_order_are_taken_in_event_time_order():
    readings = [("efm-1", "cable_temp", v, 10 * i) for i, v in enumerate([68, 71, 69, 64, 72])]
    in_order = feed(engine(CABLE_HOT), readings).transitions
    shuffled = feed(engine(CABLE_HOT), [readings[i] for i in (4, 2, 0, 3, 1)]).transitions
    assert shuffled == in_order
    assert [t.event_ts - T0 for t in in_order] == [10, 30, 40]


def test_low_water_level_uses_the_mirror_hysteresis():
    low = rule("pond_low", "threshold", measurement="water_level_m", op="<", value=1.0, clear_value=1.2)
    result = feed(
        engine(low), [("efm-3", "water_level_m", v, i) for i, v in enumerate([1.3, 0.9, 1.1, 1.25])]
    )
    assert moments(result.transitions) == [
        ("pond_low", "raise", "efm-3", 1),
        ("pond_low", "clear", "efm-3", 3),
    ]


def test_a_rule_for_one_device_type_ignores_other_devices():
    smoke = rule("smoke", "threshold", measurement="smoke", op=">=", value=1, device_type="smoke_detector")
    result = feed(engine(smoke), [("efm-1", "smoke", 1, 0), ("smoke-1", "smoke", 1, 1)])
    assert moments(result.transitions) == [("smoke", "raise", "smoke-1", 1)]


def test_residual_current_over_300ma_for_5_minutes_restarts_after_a_dip():
    held = rule(
        "leak_5min", "duration", measurement="residual_current", op=">", value=300, minutes=5, clear_value=250
    )
    e = engine(held)
    minutes = [(0, 320), (2, 330), (4, 290), (5, 310), (8, 340), (9, 350), (10, 305), (11, 260), (12, 240)]
    result = feed(e, [("efm-2", "residual_current", v, 60 * m) for m, v in minutes])
    # the dip to 290 at minute 4 restarts the run at minute 5; 5 minutes of it are complete at minute 10
    assert moments(result.transitions) == [
        ("leak_5min", "raise", "efm-2", 600),
        ("leak_5min", "clear", "efm-2", 720),
    ]
    assert result.transitions[0].detail["held_since"] == T0 + 300
    assert result.transitions[0].detail["minutes"] == 5


def test_a_duration_run_carries_over_batches():
    held = rule("leak_5min", "duration", measurement="residual_current", op=">", value=300, minutes=5)
    e = engine(held)
    assert (
        feed(e, [("efm-2", "residual_current", 320, 0), ("efm-2", "residual_current", 330, 120)]).transitions
        == []
    )
    assert feed(e, [("efm-2", "residual_current", 310, 240)]).transitions == []
    result = feed(e, [("efm-2", "residual_current", 315, 300)])
    assert moments(result.transitions) == [("leak_5min", "raise", "efm-2", 300)]


def test_three_smoke_readings_in_a_row_raise_and_a_clean_one_resets_the_count():
    thrice = rule("smoke_x3", "repeat", measurement="obscuration", op=">=", value=0.2, count=3)
    e = engine(thrice)
    readings = [0.25, 0.3, 0.1, 0.22, 0.25, 0.3, 0.35, 0.05]
    result = feed(e, [("smoke-1", "obscuration", v, 10 * i) for i, v in enumerate(readings)])
    assert moments(result.transitions) == [
        ("smoke_x3", "raise", "smoke-1", 50),
        ("smoke_x3", "clear", "smoke-1", 70),
    ]
    assert result.transitions[0].detail["count"] == 3


def test_temperature_rising_faster_than_5_degrees_a_minute():
    rising = rule("temp_rising", "rate", measurement="cable_temp", op=">", value=5.0)
    e = engine(rising)
    result = feed(
        e, [("efm-1", "cable_temp", v, s) for s, v in [(0, 30), (60, 31), (120, 40), (150, 44), (210, 45)]]
    )
    assert moments(result.transitions) == [
        ("temp_rising", "raise", "efm-1", 120),
        ("temp_rising", "clear", "efm-1", 210),
    ]
    assert result.transitions[0].detail["rate_per_min"] == pytest.approx(9.0)
    assert result.transitions[1].detail["rate_per_min"] == pytest.approx(1.0)


def test_the_first_reading_and_a_repeated_event_time_have_no_rate():
    rising = rule("temp_rising", "rate", measurement="cable_temp", op=">", value=5.0)
    e = engine(rising)
    assert feed(e, [("efm-1", "cable_temp", 90, 0), ("efm-1", "cable_temp", 99, 0)]).transitions == []
    assert moments(feed(e, [("efm-1", "cable_temp", 110, 60)]).transitions) == [
        ("temp_rising", "raise", "efm-1", 60)
    ]


def test_a_silent_device_raises_absence_when_the_clock_passes_and_clears_on_its_next_reading():
    silent = rule("offline", "absence", measurement="heartbeat", minutes=5)
    e = engine(silent, lateness=30)
    feed(e, [("efm-1", "heartbeat", 1, 0)])
    assert e.advance(T0 + 300) == []  # exactly 5 minutes is not yet absent
    raised = e.advance(T0 + 301)
    assert moments(raised) == [("offline", "raise", "efm-1", 300)]
    assert raised[0].value is None and raised[0].detail == {"minutes": 5, "last_seen": T0}
    assert e.advance(T0 + 900) == []  # raised once
    cleared = feed(e, [("efm-1", "heartbeat", 1, 1000)]).transitions
    assert moments(cleared) == [("offline", "clear", "efm-1", 1000)]


def test_other_devices_readings_move_the_watermark_less_the_allowed_lateness():
    silent = rule("offline", "absence", measurement="heartbeat", minutes=5)
    e = engine(silent, lateness=30)
    feed(e, [("efm-1", "heartbeat", 1, 0), ("efm-2", "heartbeat", 1, 0)])
    assert feed(e, [("efm-2", "heartbeat", 1, 330)]).transitions == []  # watermark 300
    result = feed(e, [("efm-2", "heartbeat", 1, 331)])
    assert moments(result.transitions) == [("offline", "raise", "efm-1", 300)]


def test_a_silence_inside_one_replayed_batch_is_an_absence():
    silent = rule("offline", "absence", measurement="heartbeat", minutes=5)
    e = engine(silent, lateness=30)
    readings = [("efm-1", "heartbeat", 1, s) for s in (0, 200, 600, 700)] + [("efm-2", "heartbeat", 1, 650)]
    result = feed(e, readings)
    assert moments(result.transitions) == [
        ("offline", "raise", "efm-1", 500),
        ("offline", "clear", "efm-1", 600),
    ]


SMOKE = rule("smoke", "threshold", measurement="smoke", op=">=", value=1, clear_value=0.5)
HEAT_RISE = rule("heat_rise", "rate", measurement="cable_temp", op=">", value=5.0)
FIRE = rule(
    "fire", "composite", parts=["smoke", "heat_rise"], within_minutes=2, severity="critical", level="red"
)


def test_smoke_and_a_temperature_rise_in_one_building_within_2_minutes_is_a_fire():
    e = engine(SMOKE, HEAT_RISE, FIRE)
    feed(e, [("efm-2", "cable_temp", 30, 0)])
    result = feed(e, [("smoke-1", "smoke", 1, 100), ("efm-2", "cable_temp", 50, 160)])
    fire = [t for t in result.transitions if t.rule_code == "fire"]
    assert moments(fire) == [("fire", "raise", "B1", 160)]
    assert (fire[0].scope, fire[0].group, fire[0].severity, fire[0].level) == (
        "group",
        "B1",
        "critical",
        "red",
    )
    assert fire[0].detail == {
        "within_minutes": 2,
        "parts": {
            "smoke": {"device": "smoke-1", "raised_at": T0 + 100},
            "heat_rise": {"device": "efm-2", "raised_at": T0 + 160},
        },
    }
    assert ("fire", "B1") in set(e.active())
    # the rise stops (clears) but smoke is still there: the fire stays; it clears with the last part
    assert [t.rule_code for t in feed(e, [("efm-2", "cable_temp", 51, 220)]).transitions] == ["heat_rise"]
    last = feed(e, [("smoke-1", "smoke", 0, 300)]).transitions
    assert moments(last) == [("smoke", "clear", "smoke-1", 300), ("fire", "clear", "B1", 300)]


def test_smoke_and_heat_in_different_buildings_is_no_fire():
    e = engine(SMOKE, HEAT_RISE, FIRE)
    feed(e, [("efm-3", "cable_temp", 30, 0)])
    result = feed(e, [("smoke-1", "smoke", 1, 100), ("efm-3", "cable_temp", 50, 160)])
    assert sorted(t.rule_code for t in result.transitions) == ["heat_rise", "smoke"]


def test_smoke_and_heat_too_far_apart_in_time_is_no_fire():
    e = engine(SMOKE, HEAT_RISE, FIRE)
    feed(e, [("efm-2", "cable_temp", 30, 200)])
    result = feed(e, [("smoke-1", "smoke", 1, 100), ("efm-2", "cable_temp", 60, 260)])  # 160 s apart
    assert sorted(t.rule_code for t in result.transitions) == ["heat_rise", "smoke"]


def test_a_part_that_already_cleared_still_counts_within_the_window():
    e = engine(SMOKE, HEAT_RISE, FIRE)
    feed(e, [("smoke-1", "smoke", 1, 0), ("smoke-1", "smoke", 0, 30), ("efm-1", "cable_temp", 30, 30)])
    result = feed(e, [("efm-1", "cable_temp", 40, 90)])
    assert moments(result.transitions) == [("heat_rise", "raise", "efm-1", 90), ("fire", "raise", "B1", 90)]


def test_forecast_warns_before_the_cable_reaches_80_degrees():
    heading = rule(
        "cable_heading_hot", "forecast", measurement="cable_temp", op=">", value=80, clear_value=75,
        horizon_minutes=10, window_minutes=1,
    )  # fmt: skip
    e = engine(heading)
    # rising 1 degree a minute from 60; projected 10 minutes ahead
    rising = [("efm-1", "cable_temp", 60 + m, 60 * m) for m in range(12)]
    result = feed(e, rising)
    assert moments(result.transitions) == [("cable_heading_hot", "raise", "efm-1", 660)]
    raised = result.transitions[0]
    assert raised.value == 71  # still far below 80
    assert raised.detail["slope_per_min"] == pytest.approx(1.0)
    assert raised.detail["projected"] == pytest.approx(81.0)
    # the temperature levels off: the projection falls back under 75 and the warning clears
    flat = [("efm-1", "cable_temp", 72, 60 * m) for m in range(12, 20)]
    assert moments(feed(e, flat).transitions) == [("cable_heading_hot", "clear", "efm-1", 60 * 14)]


def test_forecast_needs_a_reading_two_windows_back():
    heading = rule(
        "heading_hot",
        "forecast",
        measurement="cable_temp",
        op=">",
        value=80,
        horizon_minutes=10,
        window_minutes=5,
    )
    e = engine(heading)
    # a steep rise, but the first reading is only one window (5 min) back: no trend yet
    assert feed(e, [("efm-1", "cable_temp", 50, 0), ("efm-1", "cable_temp", 70, 300)]).transitions == []
    result = feed(e, [("efm-1", "cable_temp", 71, 600)])
    assert moments(result.transitions) == [("heading_hot", "raise", "efm-1", 600)]
    assert result.transitions[0].detail["slope_per_min"] == pytest.approx(2.1)


def test_a_late_reading_is_counted_and_judged_by_threshold_rules_at_its_own_time():
    thrice = rule("hot_x3", "repeat", measurement="cable_temp", op=">", value=70, count=2)
    e = engine(CABLE_HOT, thrice, lateness=60)
    feed(e, [("efm-1", "cable_temp", 60, 100)])
    result = feed(e, [("efm-1", "cable_temp", 75, 50), ("efm-1", "cable_temp", 75, 110)])
    assert result.stats["late"] == 1
    assert result.rejected == []
    # the late 75 at t=50 raises the threshold rule at its own time but is not a repeat
    assert moments(result.transitions) == [("cable_hot", "raise", "efm-1", 50)]
    assert result.transitions[0].detail["late"] is True


def test_a_reading_older_than_the_allowed_lateness_is_rejected_as_too_late():
    e = engine(CABLE_HOT, lateness=60)
    feed(e, [("efm-1", "cable_temp", 60, 100)])
    result = feed(
        e, [("efm-1", "cable_temp", 99, 39), ("efm-2", "cable_temp", 99, 39), ("efm-1", "cable_temp", 99, 40)]
    )
    assert result.rejected == [(0, "too_late")]
    assert result.stats == {
        "readings": 3,
        "evaluated": 2,
        "late": 1,
        "rejected": 1,
        "ignored": 0,
        "transitions": 2,
    }


def test_unknown_devices_and_broken_values_are_rejected_with_a_reason():
    e = engine(CABLE_HOT)
    result = feed(
        e,
        [
            ("efm-1", "cable_temp", 71, 0),
            ("ghost", "cable_temp", 71, 0),
            ("efm-2", "cable_temp", math.nan, 0),
            ("efm-2", "cable_temp", math.inf, 1),
            ("efm-2", "cable_temp", 71, math.inf),
            ("efm-2", "cable_temp", 71, 1e12),
            ("efm-2", "humidity", 99, 1),
        ],
    )
    assert result.rejected == [
        (1, "unknown_device"),
        (2, "not_a_number"),
        (3, "not_a_number"),
        (4, "not_a_number"),
        (5, "bad_timestamp"),
    ]
    assert result.stats["ignored"] == 1  # no rule watches humidity
    assert moments(result.transitions) == [("cable_hot", "raise", "efm-1", 0)]


def test_measurements_may_come_as_codes():
    e = engine(CABLE_HOT)
    code = e.measurement_code("cable_temp")
    assert e.measurement_code("cable_temp") == code
    result = e.evaluate(
        np.array([0, 0]), np.array([code, 17]), np.array([71.0, 80.0]), np.array([T0, T0 + 1])
    )
    assert [t.kind for t in result.transitions] == ["raise"]
    assert result.rejected == [(1, "unknown_measurement")]
    as_list = e.evaluate([0], [code], [60.0], [T0 + 2])
    assert [t.kind for t in as_list.transitions] == ["clear"]


def test_arrays_of_different_lengths_are_a_caller_error():
    with pytest.raises(ValueError, match="same length"):
        engine(CABLE_HOT).evaluate(np.array([0]), ["cable_temp", "cable_temp"], [1.0], [T0])
