"""Rules are data: every kind survives its JSON form, and a bad rule is refused with a message that says why."""

import pytest

from urbanbrain.domains.sensing.engine import RuleEngine, RuleSpec

COMMON = {"alarm_type": "electrical_fire.residual_current", "severity": "major", "level": "orange"}
EXAMPLES = [
    {"code": "leak", "kind": "threshold", "measurement": "residual_current", "op": ">", "value": 300},
    {
        "code": "leak_5min",
        "kind": "duration",
        "measurement": "residual_current",
        "op": ">=",
        "value": 300,
        "clear_value": 250,
        "minutes": 5,
        "device_type": "electrical_fire_monitor",
    },
    {"code": "smoke_x3", "kind": "repeat", "measurement": "obscuration", "op": ">", "value": 0.2, "count": 3},
    {"code": "rising", "kind": "rate", "measurement": "cable_temp", "op": ">", "value": 5.0},
    {"code": "offline", "kind": "absence", "measurement": "heartbeat", "minutes": 15},
    {"code": "fire", "kind": "composite", "parts": ["leak", "rising"], "within_minutes": 2},
    {
        "code": "heading_hot",
        "kind": "forecast",
        "measurement": "cable_temp",
        "op": ">",
        "value": 80,
        "clear_value": 75,
        "horizon_minutes": 10,
        "window_minutes": 5,
    },
]


@pytest.mark.parametrize("data", EXAMPLES, ids=[d["kind"] for d in EXAMPLES])
def test_every_kind_round_trips_through_its_json_form(data):
    spec = RuleSpec.from_dict({**data, **COMMON})
    assert spec.to_dict() == {**data, **COMMON}
    assert RuleSpec.from_dict(spec.to_dict()) == spec


def test_the_clear_value_defaults_to_the_threshold():
    spec = RuleSpec.from_dict({**EXAMPLES[0], **COMMON})
    assert (spec.threshold, spec.clear) == (300, 300)


def test_equal_numbers_make_equal_rules():
    assert RuleSpec.from_dict({**EXAMPLES[0], **COMMON}) == RuleSpec.from_dict(
        {**EXAMPLES[0], **COMMON, "value": 300.0}
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"kind": "sometimes"}, "'kind' must be one of"),
        ({"measurement": None}, "needs 'measurement'"),
        ({"op": "=="}, "'op' must be one of"),
        ({"value": "hot"}, "'value' must be a finite number"),
        ({"value": float("nan")}, "'value' must be a finite number"),
        ({"value": True}, "'value' must be a finite number"),
        ({"clear_value": 350}, "'clear_value' 350 must lie at or below 'value' 300"),
        ({"minutes": 5}, "'minutes' does not apply to a rule of kind 'threshold'"),
        ({"severity": "urgent"}, "'severity' must be one of critical, major"),
        ({"level": "purple"}, "'level' must be one of blue, yellow, orange, red"),
        ({"alarm_type": ""}, "'alarm_type' must be a non-empty string"),
        ({"colour": "red"}, "unknown field(s) 'colour'"),
        ({"code": None}, "missing field(s) 'code'"),
    ],
)
def test_a_bad_threshold_rule_is_refused_with_a_clear_message(change, message):
    with pytest.raises(ValueError, match="rule ") as caught:
        RuleSpec.from_dict({**EXAMPLES[0], **COMMON, **change})
    assert message in str(caught.value)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({**EXAMPLES[1], "minutes": 0}, "'minutes' must be greater than 0"),
        ({**EXAMPLES[1], "op": "<", "clear_value": 250}, "must lie at or above 'value' 300"),
        ({**EXAMPLES[2], "count": 0}, "'count' must be a whole number of at least 1"),
        ({**EXAMPLES[2], "count": 2.5}, "'count' must be a whole number"),
        ({**EXAMPLES[4], "op": ">"}, "'op' does not apply to a rule of kind 'absence'"),
        ({**EXAMPLES[5], "parts": ["leak"]}, "'parts' must name at least 2 different rules"),
        ({**EXAMPLES[5], "parts": ["leak", "leak"]}, "'parts' must name at least 2 different rules"),
        ({**EXAMPLES[5], "parts": ["fire", "leak"]}, "cannot be one of its own parts"),
        ({**EXAMPLES[5], "parts": "leak,rising"}, "'parts' must be a list of rule codes"),
        ({**EXAMPLES[5], "device_type": "x"}, "'device_type' does not apply to a rule of kind 'composite'"),
        ({**EXAMPLES[6], "window_minutes": 0.001}, "'window_minutes' must be at least one second"),
        ({**EXAMPLES[6], "horizon_minutes": None}, "needs 'horizon_minutes'"),
    ],
)
def test_kind_specific_mistakes_are_refused(data, message):
    with pytest.raises(ValueError) as caught:
        RuleSpec.from_dict({**data, **COMMON})
    assert message in str(caught.value)
    assert repr(data["code"]) in str(caught.value)


def test_a_rule_set_needs_unique_codes_and_existing_non_composite_parts():
    leak, rising, fire = (RuleSpec.from_dict({**EXAMPLES[i], **COMMON}) for i in (0, 3, 5))
    with pytest.raises(ValueError, match="two rules have this code"):
        RuleEngine([leak, leak])
    with pytest.raises(ValueError, match="part 'rising' is not a rule"):
        RuleEngine([leak, fire])
    nested = RuleSpec.from_dict({**EXAMPLES[5], **COMMON, "code": "fire2", "parts": ["fire", "leak"]})
    with pytest.raises(ValueError, match="part 'fire' is itself a composite rule"):
        RuleEngine([leak, rising, fire, nested])
    with pytest.raises(ValueError, match="allowed_lateness_s"):
        RuleEngine([leak], allowed_lateness_s=-1)
