"""A what-if (推演): from a zone's current state, simulate the next minutes with and without a control
measure (close or meter an entrance, open an exit) in JuPedSim, and compare the peak densities.

The venue is built from what the platform knows of the zone:

- **the outline**, in metres around the zone's point, scaled so that its area is the declared walkable area
  (an outline that includes planters and stages is larger than where people can stand);
- **the gates**: each counter of the zone is an entrance or exit corridor on the nearest point of the outline
  to where the device was installed (spread evenly along it when a device has no location). An exit whose
  counter counts nobody out while at least 5 persons a minute leave by the others is taken as closed (an
  emergency gate behind its barrier), which is what ``open_exit`` opens;
- **the people**: the estimated occupancy now; arrivals at each entrance go on at the rate its counter saw
  over the trend's window; people stay as long as Little's law gives from the occupancy and the rate they
  leave at now (an evening when nobody leaves yet: the show has not ended).

A district plaza holds thousands; simulating each of them for twenty minutes would take the centre longer
than the crowd gives it. So a zone whose people would outgrow ``AGENT_BUDGET`` agent-seconds is simulated
as a **miniature at the same density**: area, arrivals, occupancy and gate widths all scaled by one factor
(densities and times unchanged; a gate is never narrower than two people abreast, which makes a very small
miniature's exits a little generous). The reply says the scale it used.

The two runs share their random draws (one seed), so their difference is the measure's, not the dice's.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any, Literal

import shapely
from shapely.geometry import Polygon, box
from shapely.geometry.polygon import orient

from urbanbrain.domains.crowd.geometry import EARTH_RADIUS_M, Gate, Venue

MeasureKind = Literal["close_entrance", "meter_entrance", "open_exit"]
GATE_WIDTH_M = 3.0  # a counter's gate when nothing says how wide it is: a plaza entrance or a metro exit
MIN_GATE_WIDTH_M = 1.0  # two people abreast
CORRIDOR_M = 5.0
CLOSED_EXIT_EVIDENCE = 5.0  # persons/min leaving by the other exits before a silent exit counts as closed
AGENT_BUDGET = 200_000.0  # agent-seconds per run: 20-40 s of one core here (docs/performance.md)
CORRIDORS = 1.3  # agents in the corridors, on top of those in the zone (seen: 20-30%)
MIN_AREA_M2 = 60.0  # a smaller miniature is all edge: its corridors and walls shape the crowd
LONGEST_DWELL_S = 4 * 3600.0  # the longest stay Little's law may give: an evening
IDLE_DWELL_S = LONGEST_DWELL_S  # when nobody leaves yet (the show has not ended), they stay
SERIES_STEP_S = 30.0


@dataclass(frozen=True)
class GateStart:
    device_id: str
    role: str  # entrance | exit
    at: tuple[float, float]  # on the outline, local metres (before the miniature's scale)
    width_m: float
    in_per_min: float
    out_per_min: float
    closed: bool


@dataclass(frozen=True)
class Start:
    """What a what-if starts from (kept with it, so a reader can see what was assumed)."""

    outline: list[tuple[float, float]]  # local metres, area = the walkable area
    area_m2: float
    occupancy: float
    dwell_s: float
    gates: list[GateStart]
    scale: float  # the miniature's factor on areas and flows (1: life size)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Start:
        gates = [GateStart(**{**g, "at": tuple(g["at"])}) for g in data["gates"]]
        outline = [(float(x), float(y)) for x, y in data["outline"]]
        return cls(outline, data["area_m2"], data["occupancy"], data["dwell_s"], gates, data["scale"])

    @property
    def inflow_per_min(self) -> float:
        return sum(g.in_per_min for g in self.gates if g.role == "entrance" and not g.closed)

    @property
    def outflow_per_min(self) -> float:
        return sum(g.out_per_min for g in self.gates)


def local_frame(lon0: float, lat0: float) -> tuple[float, float]:
    """Metres per degree of longitude and latitude around (lon0, lat0) (a local tangent plane)."""
    per_lat = math.radians(1.0) * EARTH_RADIUS_M
    return per_lat * math.cos(math.radians(lat0)), per_lat


def start_of(
    *,
    geometry: dict[str, Any],
    anchor: tuple[float, float],
    area_m2: float,
    occupancy: float,
    gate_rates: dict[str, list[float]],
    inputs: list[tuple[str, str, tuple[float, float] | None]],
    minutes: int,
) -> Start:
    """The what-if's start from a zone: its outline (lon/lat), anchor, walkable area and estimate, each
    counter's recent rates, its counters ``(device, role, (lon, lat) or None)``."""
    mx, my = local_frame(*anchor)
    ring = geometry["coordinates"][0]
    raw = orient(Polygon([((lon - anchor[0]) * mx, (lat - anchor[1]) * my) for lon, lat in ring]))
    k = math.sqrt(area_m2 / raw.area)  # the outline scaled to the walkable area, about the anchor
    outline = shapely.affinity.scale(raw, k, k, origin=(0.0, 0.0))
    counters = [(d, r, at) for d, r, at in inputs if r in ("entrance", "exit")]
    outs = {d: gate_rates.get(d, [0.0, 0.0])[1] for d, r, _ in counters if r == "exit"}
    # only a steady stream leaving elsewhere tells a closed exit from one few happened to take yet
    leaving = sum(outs.values()) >= CLOSED_EXIT_EVIDENCE
    ring_line = outline.exterior
    gates: list[GateStart] = []
    for (device, role, _), along in zip(counters, _places(ring_line, counters, anchor, (mx * k, my * k)),
                                         strict=True):  # fmt: skip
        p = ring_line.interpolate(along)
        rates = gate_rates.get(device, [0.0, 0.0])
        closed = role == "exit" and leaving and outs.get(device, 0.0) <= 0.5
        gates.append(GateStart(device, role, (p.x, p.y), GATE_WIDTH_M, rates[0], rates[1], closed))
    out = sum(r[1] for d, r in gate_rates.items() if any(d == c[0] for c in counters))
    dwell = occupancy / out * 60.0 if out > 0.5 else IDLE_DWELL_S
    dwell = min(max(dwell, 120.0), LONGEST_DWELL_S)
    inflow = sum(g.in_per_min for g in gates if g.role == "entrance" and not g.closed)
    scale = miniature(occupancy, inflow, dwell, minutes, area_m2)
    coords = [(float(x), float(y)) for x, y in outline.exterior.coords]
    return Start(coords, float(outline.area), occupancy, dwell, gates, scale)


def _places(
    ring: shapely.LinearRing,
    counters: list[tuple[str, str, tuple[float, float] | None]],
    anchor: tuple[float, float],
    per_degree: tuple[float, float],
) -> list[float]:
    """Where along the outline each counter's gate goes: nearest to where the device was installed (spread
    evenly in the order listed when it has no location)."""
    n = len(counters)
    spots = []
    for i, (_, _, where) in enumerate(counters):
        if where is None:
            spots.append((i + 0.5) / n * ring.length)
        else:
            x, y = (where[0] - anchor[0]) * per_degree[0], (where[1] - anchor[1]) * per_degree[1]
            spots.append(ring.project(shapely.Point(x, y)))
    return [s % ring.length for s in spots]


def miniature(occupancy: float, inflow_per_min: float, dwell_s: float, minutes: int, area_m2: float) -> float:
    """The scale at which the run costs at most ``AGENT_BUDGET`` agent-seconds (1: life size), from the
    fluid picture of the zone: arrivals at their rate, each person leaving at rate 1/dwell (so the crowd
    tends to ``inflow x dwell``). Never smaller than ``MIN_AREA_M2`` (the simulator's own venues are 48-100
    m²)."""
    tau, steady = dwell_s / 60.0, inflow_per_min * dwell_s / 60.0
    n, cost = occupancy, 0.0
    for _ in range(minutes):
        n = steady + (n - steady) * math.exp(-1.0 / tau)
        cost += n * 60.0 * CORRIDORS
    if cost <= AGENT_BUDGET:
        return 1.0
    return min(1.0, max(AGENT_BUDGET / cost, MIN_AREA_M2 / area_m2))


# ------------------------------------------------------------------------------------------- the venue


def _corridor(ring: shapely.LinearRing, at: tuple[float, float], width: float, code: str, name: str,
              closed: bool) -> Gate:  # fmt: skip
    """A corridor of ``width`` leaving the (counter-clockwise) outline outward at its point ``at``: its mouth
    is the counter's line."""
    coords = list(ring.coords)
    d = ring.project(shapely.Point(at))
    # the outline's edge at that point, and where along it
    walked = 0.0
    for (ax, ay), (bx, by) in zip(coords, coords[1:], strict=False):
        seg = math.hypot(bx - ax, by - ay)
        if seg > 0 and walked + seg >= d - 1e-9:
            break
        walked += seg
    ux, uy = (bx - ax) / seg, (by - ay) / seg
    width = max(min(width, 0.9 * seg), min(MIN_GATE_WIDTH_M, seg))
    along = min(max(d - walked, width / 2), seg - width / 2)  # the whole mouth on this edge
    cx, cy = ax + ux * along, ay + uy * along
    nx, ny = uy, -ux  # outward, for a counter-clockwise ring
    h = width / 2
    a, b = (cx - ux * h, cy - uy * h), (cx + ux * h, cy + uy * h)

    def band(d0: float, d1: float) -> Polygon:
        return Polygon([
            (a[0] + nx * d0, a[1] + ny * d0), (b[0] + nx * d0, b[1] + ny * d0),
            (b[0] + nx * d1, b[1] + ny * d1), (a[0] + nx * d1, a[1] + ny * d1),
        ])  # fmt: skip

    return Gate(code, name, band(0.0, CORRIDOR_M), (a, b), (-nx, -ny), band(CORRIDOR_M - 1.0, CORRIDOR_M),
                closed)  # fmt: skip


def venue_of(start: Start, code: str = "what-if") -> Venue:
    """The start's venue at its miniature's scale: zone, corridors, and the zone's inner part to stand in."""
    f = math.sqrt(start.scale)
    zone = orient(Polygon([(x * f, y * f) for x, y in start.outline]))
    ring = zone.exterior
    entrances: list[Gate] = []
    exits: list[Gate] = []
    widths = [max(MIN_GATE_WIDTH_M, g.width_m * start.scale) for g in start.gates]
    along = [ring.project(shapely.Point(g.at[0] * f, g.at[1] * f)) for g in start.gates]
    # counters installed at one spot: their mouths side by side, half a metre apart
    order = sorted(range(len(along)), key=lambda i: along[i])
    for before, i in zip(order, order[1:], strict=False):
        along[i] = max(along[i], along[before] + (widths[before] + widths[i]) / 2 + 0.5)
    for g, width, d in zip(start.gates, widths, along, strict=True):
        p = ring.interpolate(d % ring.length)
        gate = _corridor(ring, (p.x, p.y), width, g.device_id, g.device_id, g.closed)
        (entrances if g.role == "entrance" else exits).append(gate)
    inner = zone.buffer(-0.6)
    dwell = inner if isinstance(inner, Polygon) and inner.area > 0.3 * zone.area else zone
    return Venue(
        code=code,
        prefix=code,
        name=code,
        anchor=(0.0, 0.0),
        zone=zone,
        dwell=dwell,
        entrances=tuple(entrances),
        exits=tuple(exits),
        cameras=(),
        cell=box(*zone.buffer(CORRIDOR_M + 5.0).bounds),
    )


# ------------------------------------------------------------------------------------------- the runs


def simulate(
    start_json: dict[str, Any], measure: dict[str, Any] | None, minutes: int, seed: int
) -> dict[str, Any]:
    """One run (in a worker process): the zone's next ``minutes`` with or without ``measure``, as
    ``{"peak_density", "peak_minute", "series": [[minute, density], ...], "agent_seconds", "wall_s"}``."""
    from urbanbrain.domains.crowd import physics  # JuPedSim: only where a what-if runs

    start = Start.from_json(start_json)
    venue = venue_of(start)
    entrances = [g for g in start.gates if g.role == "entrance"]  # venue.entrances, in the same order
    total_in = sum(g.in_per_min for g in entrances)
    shares = tuple(g.in_per_min / total_in for g in entrances) if total_in > 0 else None
    inflow = physics.Inflow(((0.0, total_in * start.scale),), shares)
    measures = []
    if measure is not None:
        rate = measure.get("rate_per_min")
        measures.append(
            physics.Measure(
                measure["kind"], measure["input"], 0.0, None if rate is None else rate * start.scale
            )
        )
    crowd = physics.Crowd(dwell_mean_s=start.dwell_s, dwell_min_s=min(60.0, start.dwell_s / 2))
    record = physics.run(
        venue,
        inflow,
        duration_s=minutes * 60.0,
        measures=measures,
        start_state=physics.StartState(round(start.occupancy * start.scale), start.dwell_s),
        crowd=crowd,
        seed=seed,
        interval_s=SERIES_STEP_S,
    )
    series = [[round(t / 60.0, 2), round(d, 3)] for t, d in zip(record.t_s, record.density, strict=True)]
    series.insert(0, [0.0, round(start.occupancy / start.area_m2, 3)])
    peak = max(series, key=lambda p: p[1])
    return {
        "peak_density": peak[1],
        "peak_minute": peak[0],
        "series": series,
        "agent_seconds": round(record.agent_seconds),
        "wall_s": record.wall_s,
    }
