"""The randomised scenario sets: the same every time, tune and report apart, safe and dangerous mixed, runs
cached by the scenario's hash."""

from __future__ import annotations

from dataclasses import replace

from urbanbrain.domains.crowd.physics import Crowd, Inflow, Measure
from urbanbrain.simulate.crowd.devices import QUIET
from urbanbrain.simulate.crowd.suite import Result, Scenario, scenarios


def test_the_sets_are_the_same_every_time_and_kept_apart():
    tune, report, holdout = scenarios("tune"), scenarios("report"), scenarios("holdout")
    assert len(tune) >= 30 and len(report) >= 30 and len(holdout) >= 30
    assert tune == scenarios("tune")
    for a, b in ((tune, report), (tune, holdout), (report, holdout)):
        assert not {s.hash() for s in a} & {s.hash() for s in b}
        assert not {s.seed for s in a} & {s.seed for s in b}
    for chosen in (tune, report, holdout):
        assert {s.intent for s in chosen} == {"safe", "dangerous"}
        assert {s.venue for s in chosen} == {"civic_plaza", "metro_exit", "pedestrian_street"}
        assert any("surges" in s.notes for s in chosen) and any(s.noise.dropouts for s in chosen)
        assert len({s.exit_width_factor for s in chosen}) > 10


def test_a_run_is_cached_by_its_hash_and_its_measures(tmp_path):
    tiny = Scenario(
        key="t", venue="metro_exit", intent="safe", seed=4, duration_s=30, inflow=Inflow(((0.0, 30.0),)),
        crowd=Crowd(dwell_mean_s=20, dwell_min_s=5), noise=QUIET,
    )  # fmt: skip
    first = tiny.record(tmp_path)
    assert len(list(tmp_path.glob("metro_exit-*.json"))) == 1
    again = tiny.record(tmp_path)
    assert again == first  # read back, wall time and all
    cut = tiny.record(tmp_path, (Measure("close_entrance", "E1", 0.0), Measure("close_entrance", "E2", 0.0)))
    assert len(list(tmp_path.glob("*.json"))) == 2 and sum(map(sum, cut.gate_in.values())) == 0
    assert replace(tiny, seed=5).hash() != tiny.hash()
    result = Result(tiny, first)
    assert result.danger_at_s is None and not result.dangerous
    assert {m["device"] for m in result.messages(1_531_094_400.0)} >= {"HZ-EXIT-B-E1", "HZ-EXIT-B-CAM1"}
