"""The what-if: from a zone's state, the next minutes simulated in JuPedSim with and without a measure.

The venue it builds from a declared zone (outline at the walkable area, a gate per counter where the device
stands, the exit nobody leaves by taken as closed, a miniature for a big crowd), and the API end to end on
the plaza: a crowd reported through the HTTP door, a measure tried, the runs polled until they are back."""

from __future__ import annotations

import math
import time

import pytest
import shapely
from sqlalchemy import select

from tests.domains.crowd.conftest import PLAZA
from tests.domains.crowd.test_warning_flow import _build_up
from urbanbrain.core.models import AuditEntry
from urbanbrain.domains.crowd import whatif

# an L-shaped square off the plaza's corner (lon/lat),
L_SHAPE = [[114.0590, 22.5425], [114.0594, 22.5425], [114.0594, 22.5428], [114.0592, 22.5428],
           [114.0592, 22.5431], [114.0590, 22.5431], [114.0590, 22.5425]]  # fmt: skip
ANCHOR = (114.0591, 22.5426)


def _start(**changes):
    args = dict(
        geometry={"type": "Polygon", "coordinates": [L_SHAPE]},
        anchor=ANCHOR,
        area_m2=900.0,
        occupancy=1800.0,
        gate_rates={"E1": [40.0, 0.0], "E2": [20.0, 0.0], "X1": [0.0, 30.0], "X2": [0.0, 0.0]},
        inputs=[
            ("E1", "entrance", (114.0590, 22.5427)),
            ("E2", "entrance", None),
            ("X1", "exit", (114.0594, 22.5426)),
            ("X2", "exit", (114.0591, 22.5431)),
        ],  # fmt: skip
        minutes=20,
    )
    return whatif.start_of(**{**args, **changes})


def test_the_venue_is_the_zones_outline_at_its_walkable_area_with_a_gate_at_each_counter():
    start = _start(occupancy=10.0, gate_rates={"X1": [0.0, 1.0]})
    assert start.scale == 1.0  # a handful of people: life size
    venue = whatif.venue_of(start)
    assert venue.zone.area == pytest.approx(900.0, rel=1e-6)  # the outline shrunk to where people can stand
    assert not venue.zone.convex_hull.equals(venue.zone)  # still an L
    assert [g.code for g in venue.entrances] == ["E1", "E2"]
    assert [g.code for g in venue.exits] == ["X1", "X2"]
    walkable = venue.walkable
    assert walkable.is_valid and walkable.area > venue.zone.area
    for gate in (*venue.entrances, *venue.exits):
        mouth = shapely.LineString(gate.line)
        assert venue.zone.exterior.distance(mouth.centroid) < 1e-6  # the counter's line lies on the outline
        inside = shapely.Point(mouth.centroid.x + gate.inward[0], mouth.centroid.y + gate.inward[1])
        assert venue.zone.contains(inside)  # and ``inward`` points into the zone
    # E1 was installed on the west edge: its gate is there, not spread along the outline
    e1 = shapely.LineString(venue.gate("E1").line).centroid
    assert e1.x == pytest.approx(venue.zone.bounds[0], abs=1e-6)


def test_counters_installed_at_one_spot_get_gates_side_by_side():
    everyone_here = (114.0590, 22.5427)
    start = _start(inputs=[(d, r, everyone_here) for d, r in
                           (("E1", "entrance"), ("E2", "entrance"), ("X1", "exit"))])  # fmt: skip
    venue = whatif.venue_of(start)
    mouths = [shapely.LineString(g.line) for g in (*venue.entrances, *venue.exits)]
    for a in range(len(mouths)):
        for b in range(a + 1, len(mouths)):
            assert mouths[a].distance(mouths[b]) >= 0.5 - 1e-6
    assert venue.walkable.is_valid


def test_an_exit_nobody_leaves_by_while_others_do_is_taken_as_closed():
    start = _start()
    assert {g.device_id: g.closed for g in start.gates} == {"E1": False, "E2": False, "X1": False, "X2": True}
    # nobody leaves anywhere yet (the show is on): no exit can be told closed, and people stay the evening
    idle = _start(gate_rates={"E1": [40.0, 0.0]})
    assert not any(g.closed for g in idle.gates)
    # a trickle by one exit is no evidence that the other is shut
    trickle = _start(gate_rates={"E1": [40.0, 0.0], "X1": [0.0, 2.0]})
    assert not any(g.closed for g in trickle.gates)
    assert idle.dwell_s == whatif.IDLE_DWELL_S
    # Little's law: 1,800 people, 30 leaving a minute: an hour's stay
    assert start.dwell_s == pytest.approx(3600.0)


def test_a_big_crowd_runs_as_a_miniature_at_the_same_density():
    start = _start(area_m2=9000.0)
    assert 0 < start.scale < 1
    venue = whatif.venue_of(start)
    assert venue.zone.area == pytest.approx(9000.0 * start.scale, rel=1e-6)
    # the fluid picture of the scaled crowd costs no more than the budget
    n, cost = start.occupancy * start.scale, 0.0
    inflow, tau = 60.0 * start.scale, start.dwell_s / 60.0
    for _ in range(20):
        n = inflow * tau + (n - inflow * tau) * math.exp(-1 / tau)
        cost += n * 60 * whatif.CORRIDORS
    assert cost == pytest.approx(whatif.AGENT_BUDGET, rel=0.01)
    # however small the budget, never a miniature of less than the smallest venue
    assert _start(occupancy=100_000.0).scale == pytest.approx(whatif.MIN_AREA_M2 / 900.0)
    # and a gate never narrower than two abreast
    assert min(g.width_m for g in (*venue.entrances, *venue.exits)) >= whatif.MIN_GATE_WIDTH_M - 1e-9


# --------------------------------------------------------------------------------------------- the API


def _wait(plaza, location: str, timeout_s: float = 240.0) -> dict:
    deadline = time.monotonic() + timeout_s
    while True:
        r = plaza.client.get(location, headers=plaza.head("operator"))
        assert r.status_code == 200, r.text
        body = r.json()
        if body["status"] != "running" or time.monotonic() > deadline:
            return body
        time.sleep(0.5)


@pytest.fixture
def crowded(plaza, monkeypatch):
    """The plaza with 4,000 people and 150 more a minute, as its counters and camera reported them; a small
    budget keeps the test's miniature quick."""
    monkeypatch.setattr(whatif, "AGENT_BUDGET", 15_000.0)
    plaza.put_zone()
    t0 = plaza.platform.clock.now().timestamp() - 3600
    _build_up(plaza, t0, 12, start=4000, net_per_min=150)
    plaza.settle(until=t0 + 12 * 60)
    return plaza


def test_closing_the_busier_entrance_lowers_the_peak_and_the_result_can_be_read_back(crowded):
    plaza = crowded
    body = {"measure": {"kind": "close_entrance", "input": "PZ-E1"}, "minutes": 4}
    r = plaza.client.post(
        "/api/v1/crowd/zones/FT-CIVIC-PLAZA/what-if", json=body, headers=plaza.head("operator")
    )
    assert r.status_code == 202, r.text
    started = r.json()
    assert started["status"] == "running" and started["without"] is None
    assert started["start"]["occupancy"] == pytest.approx(5800, rel=0.05)  # 4,000 + 12 x 150
    assert started["start"]["inflow_per_min"] == pytest.approx(170, rel=0.05)  # both entrances
    assert started["start"]["outflow_per_min"] == pytest.approx(20, rel=0.05)
    assert 0 < started["start"]["scale"] < 1  # thousands: a miniature
    done = _wait(plaza, r.headers["Location"])
    assert done["status"] == "done", done
    without, with_ = done["without"], done["with"]
    assert without["series"][0] == with_["series"][0]  # both start from the zone's density now
    assert without["series"][0][1] == pytest.approx(5800 / 2000, rel=0.05)
    assert with_["series"][-1][0] == without["series"][-1][0] == 4.0
    # 60% of the arrivals turned away: the crowd keeps growing without the measure and grows less with it
    assert without["peak_density"] > without["series"][0][1]
    assert with_["series"][-1][1] < without["series"][-1][1]
    assert with_["peak_density"] <= without["peak_density"]
    assert done["computed_in_s"] > 0
    with plaza.platform.db.session() as s:
        rows = (
            select(AuditEntry.action).where(AuditEntry.entity_type == "crowd_what_if").order_by(AuditEntry.id)
        )
        actions = list(s.scalars(rows))
    assert actions == ["crowd.what_if.request", "crowd.what_if.finish"]


def test_a_measure_that_cannot_apply_is_refused_with_the_reason(crowded):
    plaza = crowded
    url = "/api/v1/crowd/zones/FT-CIVIC-PLAZA/what-if"
    op = plaza.head("operator")

    def post(measure, who=op, minutes=4):
        return plaza.client.post(url, json={"measure": measure, "minutes": minutes}, headers=who)

    r = post({"kind": "close_entrance", "input": "PZ-X1"})  # an exit, not an entrance
    assert r.status_code == 422 and r.json()["code"] == "crowd.what_if_input"
    assert "PZ-E1" in r.json()["message"]  # the choices are named
    r = post({"kind": "open_exit", "input": "PZ-X1"})  # people are leaving by it: open already
    assert r.status_code == 422 and r.json()["code"] == "crowd.what_if_exit_open"
    r = post({"kind": "meter_entrance", "input": "PZ-E1"})
    assert r.status_code == 422 and r.json()["code"] == "crowd.what_if_rate"
    assert post({"kind": "close_entrance", "input": "PZ-E1"}, minutes=500).status_code == 422
    assert post({"kind": "close_entrance", "input": "PZ-E1"}, who=plaza.head("handler")).status_code == 403
    missing = plaza.client.get(f"{url}/999999", headers=op)
    assert missing.status_code == 404 and missing.json()["code"] == "crowd.what_if_not_found"
    with plaza.platform.db.session() as s:
        assert not list(s.scalars(select(AuditEntry).where(AuditEntry.entity_type == "crowd_what_if")))


def test_a_zone_without_an_estimate_has_no_state_to_simulate_from(plaza):
    plaza.put_zone(code="FT-QUIET", geometry={"type": "Polygon", "coordinates": [PLAZA]})
    r = plaza.client.post(
        "/api/v1/crowd/zones/FT-QUIET/what-if",
        json={"measure": {"kind": "close_entrance", "input": "PZ-E1"}},
        headers=plaza.head("operator"),
    )
    assert r.status_code == 409 and r.json()["code"] == "crowd.no_estimate"
