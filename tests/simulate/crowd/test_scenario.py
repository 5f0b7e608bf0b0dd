"""JuPedSim runs of the crowd venues: people are conserved, dangerous set-ups reach 5 p/m² and safe ones do
not, and the what-if's measures change what happens."""

from __future__ import annotations

import numpy as np

from urbanbrain.domains.crowd.physics import Crowd, Inflow, Measure, StartState, run
from urbanbrain.simulate.crowd.venues import VENUES, venue

NOBODY = Inflow(((0.0, 0.0),))


def test_a_short_evening_conserves_people():
    plaza = venue("civic_plaza")
    rec = run(
        plaza, Inflow.evening(40, 60), duration_s=150, crowd=Crowd(dwell_mean_s=60, dwell_min_s=20), seed=3
    )
    net = np.zeros(len(rec.t_s), dtype=int)
    for code in rec.gate_in:
        net += np.cumsum(rec.gate_in[code]) - np.cumsum(rec.gate_out[code])
    assert max(rec.in_zone) > 20
    assert sum(sum(rec.gate_out[g.code]) for g in plaza.exits) > 0  # some have left already
    assert list(net) == rec.in_zone  # entered - left = in the zone, at every record


def test_a_forecourt_with_its_exits_closed_passes_5_persons_per_m2():
    rec = run(
        venue("metro_exit"),
        Inflow(((0.0, 150.0),)),
        duration_s=80,
        measures=[Measure("close_exit", "X1"), Measure("close_exit", "X2")],
        start_state=StartState(in_zone=200, dwell_left_s=600),
        crowd=Crowd(radius=0.18),
        seed=1,
    )
    assert rec.first_reaching(5.0) is not None and rec.peak_density > 5.0


def test_a_quiet_forecourt_stays_safe():
    rec = run(
        venue("metro_exit"),
        Inflow(((0.0, 10.0),)),
        duration_s=60,
        start_state=StartState(in_zone=50, dwell_left_s=60),
        crowd=Crowd(dwell_mean_s=120),
        seed=1,
    )
    assert rec.peak_density < 2.0 and rec.first_reaching(5.0) is None


def test_closing_the_entrances_stops_the_inflow_and_an_opened_exit_is_used():
    site = venue("metro_exit")
    seeded = StartState(in_zone=80, dwell_left_s=10)
    closing = [Measure("close_entrance", g.code, 0.0) for g in site.entrances]
    closed = run(site, Inflow(((0.0, 60.0),)), duration_s=40, measures=closing, start_state=seeded, seed=2)
    assert all(sum(closed.gate_in[g.code]) == 0 for g in site.entrances)
    assert sum(closed.gate_out["X3"]) == 0  # the barrier gap is shut unless a measure opens it
    opened = run(
        site, NOBODY, duration_s=40, measures=[Measure("open_exit", "X3")], start_state=seeded, seed=2
    )
    assert sum(opened.gate_out["X3"]) > 0


def test_every_venue_is_one_walkable_polygon_with_its_zone_inside():
    for make in VENUES.values():
        v = make()
        assert v.walkable.contains(v.zone.buffer(-0.01))
        assert v.zone.contains(v.dwell) and v.entrances and v.exits
        ring = v.geojson(v.zone)["coordinates"][0]
        assert all(abs(lon - v.anchor[0]) < 0.001 and abs(lat - v.anchor[1]) < 0.001 for lon, lat in ring)
