"""One crowd scenario run with JuPedSim: people arrive at a venue's entrances at an inflow rate, walk to a
spot in the dwell area, stay, and leave by an open exit; measures close or meter an entrance or open an exit
from a given time. The run records the truth every ``interval_s`` of simulated time: persons in the zone, its
density, each counter line's crossings, each camera's view, the phone cell's count.

The what-if calls :func:`run` with the zone's current occupancy as ``StartState`` and with or without a
:class:`Measure`; the scenario suite calls it for its randomised evenings.
"""

from __future__ import annotations

import heapq
import math
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import jupedsim as jps
import numpy as np
import shapely

from urbanbrain.domains.crowd.geometry import Gate, Venue

DT_S = 0.1  # 0.2 pushes agents through walls at 5 p/m² (CollisionFreeSpeedModel); 0.01 is 5x slower
MeasureKind = Literal["close_entrance", "meter_entrance", "open_exit", "close_exit"]


@dataclass(frozen=True)
class Inflow:
    """Arrivals over all entrances, persons per minute, piecewise linear between ``(t_s, rate)`` points (flat
    past the last); ``shares`` split them between the entrances (equal when left out)."""

    points: tuple[tuple[float, float], ...]
    shares: tuple[float, ...] | None = None

    def rate(self, t_s: float) -> float:
        ts, rates = zip(*self.points, strict=True)
        return float(np.interp(t_s, ts, rates))

    @classmethod
    def evening(
        cls, peak_per_min: float, rise_s: float, *, base_per_min: float = 2.0, hold_s: float = 1e6
    ) -> Inflow:
        """A build-up from ``base`` to ``peak`` over ``rise_s``, then a plateau (``hold_s``), then nothing."""
        return cls(
            (
                (0.0, base_per_min),
                (rise_s, peak_per_min),
                (rise_s + hold_s, peak_per_min),
                (rise_s + hold_s + 1, 0.0),
            )
        )

    def with_surge(self, at_s: float, extra_per_min: float, length_s: float = 60.0) -> Inflow:
        """A train emptying or a crowd arriving at once: ``extra`` persons/min more for ``length_s``."""
        ts = sorted({t for t, _ in self.points} | {at_s - 1, at_s, at_s + length_s, at_s + length_s + 1})
        bump = {at_s: extra_per_min, at_s + length_s: extra_per_min}
        return Inflow(tuple((t, self.rate(t) + bump.get(t, 0.0)) for t in ts), self.shares)


@dataclass(frozen=True)
class Measure:
    """A control measure from ``at_s`` on: close an entrance (arrivals turned away), meter it (at most
    ``rate_per_min`` let in, the rest wait outside), open an extra exit or close one."""

    kind: MeasureKind
    gate: str
    at_s: float = 0.0
    rate_per_min: float | None = None


@dataclass(frozen=True)
class StartState:
    """People already in the zone when the run starts (the what-if's current occupancy), staying on for
    an exponential time of mean ``dwell_left_s``."""

    in_zone: int = 0
    dwell_left_s: float = 600.0


@dataclass(frozen=True)
class Crowd:
    """How people behave: dwell time (gamma, shape 2, at least ``dwell_min_s``), the moment everyone leaves
    (the show ends), walking speed and body radius."""

    dwell_mean_s: float = 900.0
    dwell_min_s: float = 60.0
    leave_all_at_s: float | None = None
    speed_mean: float = 1.2
    speed_sd: float = 0.15
    radius: float = 0.2


@dataclass
class Record:
    """The truth of one run, one row per interval ending at ``t_s[i]``: counts now (zone, cameras, cell) and
    crossings during the interval (``gate_in``/``gate_out`` by gate code; in = into the zone)."""

    venue: str
    zone_area_m2: float
    interval_s: float
    t_s: list[float] = field(default_factory=list)
    in_zone: list[int] = field(default_factory=list)
    density: list[float] = field(default_factory=list)
    gate_in: dict[str, list[int]] = field(default_factory=dict)
    gate_out: dict[str, list[int]] = field(default_factory=dict)
    camera: dict[str, list[int]] = field(default_factory=dict)
    camera_area_m2: dict[str, float] = field(default_factory=dict)
    cell: list[int] = field(default_factory=list)
    waiting: list[int] = field(default_factory=list)  # arrived, not yet let in (metered, or a full corridor)
    start_in_zone: int = 0
    agent_seconds: float = 0.0
    wall_s: float = 0.0

    @property
    def peak_density(self) -> float:
        return max(self.density, default=0.0)

    def first_reaching(self, density: float) -> float | None:
        """The first recorded time at which the zone's density reached ``density`` (None: never)."""
        return next((t for t, d in zip(self.t_s, self.density, strict=True) if d >= density), None)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Record:
        return cls(**data)


def _crossings(prev: np.ndarray, cur: np.ndarray, gate: Gate) -> tuple[int, int]:
    """How many of the moves ``prev[i] -> cur[i]`` cross the gate's line inward and outward."""
    if len(prev) == 0:
        return 0, 0
    (ax, ay), (bx, by) = gate.line
    nx, ny = gate.inward
    s0 = (prev[:, 0] - ax) * nx + (prev[:, 1] - ay) * ny
    s1 = (cur[:, 0] - ax) * nx + (cur[:, 1] - ay) * ny
    changed = (s0 < 0) != (s1 < 0)
    if not changed.any():
        return 0, 0
    # where the move meets the line's infinite extension, and whether that point lies on the segment
    f = s0[changed] / (s0[changed] - s1[changed])
    px = prev[changed, 0] + f * (cur[changed, 0] - prev[changed, 0])
    py = prev[changed, 1] + f * (cur[changed, 1] - prev[changed, 1])
    ux, uy = bx - ax, by - ay
    u = ((px - ax) * ux + (py - ay) * uy) / (ux * ux + uy * uy)
    on = (u >= -0.05) & (u <= 1.05)
    inward = s1[changed] >= 0
    return int((on & inward).sum()), int((on & ~inward).sum())


class _Run:
    def __init__(
        self,
        venue: Venue,
        inflow: Inflow,
        measures: tuple[Measure, ...],
        crowd: Crowd,
        seed: int,
        interval_s: float,
    ) -> None:
        self.venue, self.inflow, self.crowd, self.interval_s = venue, inflow, crowd, interval_s
        self.measures = sorted(measures, key=lambda m: m.at_s)
        self.rng = np.random.default_rng(seed)
        self.sim = jps.Simulation(model=jps.CollisionFreeSpeedModel(), geometry=venue.walkable, dt=DT_S)
        steer = self.sim.add_direct_steering_stage()
        self.steer = (self.sim.add_journey(jps.JourneyDescription([steer])), steer)
        self.exit_journeys: dict[str, tuple[int, int]] = {}
        for g in venue.exits:
            if not g.closed:
                self._exit_stage(g)
        self.exit_open = {g.code: not g.closed for g in venue.exits}
        self.opened: set[str] = set()
        self.entrance_cap: dict[str, float | None] = {g.code: None for g in venue.entrances}
        shares = inflow.shares or (1.0,) * len(venue.entrances)
        total = sum(shares)
        self.shares = {g.code: s / total for g, s in zip(venue.entrances, shares, strict=True)}
        self.waiting = {g.code: 0 for g in venue.entrances}
        self.credit = {g.code: 0.0 for g in venue.entrances}  # a metered entrance's allowance
        self.leave_at: list[tuple[float, int]] = []  # heap
        self.leaving: dict[int, str] = {}  # agent -> exit code
        self.positions: dict[int, tuple[float, float]] = {}

    def _exit_stage(self, g: Gate) -> None:
        stage = self.sim.add_exit_stage(g.far)
        self.exit_journeys[g.code] = (self.sim.add_journey(jps.JourneyDescription([stage])), stage)

    # ------------------------------------------------------------------ people

    def _params(self, position: tuple[float, float]) -> jps.CollisionFreeSpeedModelAgentParameters:
        c = self.crowd
        speed = float(np.clip(self.rng.normal(c.speed_mean, c.speed_sd), 0.5, 1.8))
        journey, stage = self.steer
        return jps.CollisionFreeSpeedModelAgentParameters(
            position=position, desired_speed=speed, radius=c.radius, journey_id=journey, stage_id=stage
        )

    def _free_spot(self, area: shapely.Polygon, tries: int = 8) -> tuple[float, float] | None:
        x0, y0, x1, y1 = area.bounds
        clearance = 2 * self.crowd.radius + 0.05
        for _ in range(tries):
            p = (float(self.rng.uniform(x0 + 0.25, x1 - 0.25)), float(self.rng.uniform(y0 + 0.25, y1 - 0.25)))
            if area.contains(shapely.Point(p)) and not any(
                True for _ in self.sim.agents_in_range(p, clearance)
            ):
                return p
        return None

    def _dwell_spot(self) -> tuple[float, float]:
        """A spot in the dwell area (drawn in its bounds until one falls inside: the what-if's zones are any
        shape, not only rectangles)."""
        area = self.venue.dwell
        x0, y0, x1, y1 = area.bounds
        for _ in range(20):
            p = float(self.rng.uniform(x0, x1)), float(self.rng.uniform(y0, y1))
            if shapely.contains_xy(area, *p):
                return p
        c = area.representative_point()
        return float(c.x), float(c.y)

    def _add(self, position: tuple[float, float], t: float, stay_s: float) -> None:
        agent_id = self.sim.add_agent(self._params(position))
        self.sim.agent(agent_id).target = self._dwell_spot()
        end = self.crowd.leave_all_at_s
        leave = t + stay_s if end is None or t >= end else min(t + stay_s, end)
        heapq.heappush(self.leave_at, (leave, agent_id))

    def _stay(self) -> float:
        c = self.crowd
        return c.dwell_min_s + float(self.rng.gamma(2.0, max(1.0, c.dwell_mean_s - c.dwell_min_s) / 2.0))

    def seed_zone(self, state: StartState) -> None:
        """Place the persons on a shuffled hexagonal grid over the zone (random placement jams near 3.5
        p/m²), the dwell area's spots first. More than the grid holds (about 5.5 p/m², a crush already) wait
        at the entrances, pressing in as room is made."""
        gap = 2 * self.crowd.radius + 0.02
        spots = _hex(self.venue.zone, gap, self.rng)
        dwell = self.venue.dwell
        spots.sort(key=lambda p: not shapely.contains_xy(dwell, *p))  # stable: shuffled within each
        extra, gates = max(0, state.in_zone - len(spots)), self.venue.entrances
        for i, g in enumerate(gates):
            self.waiting[g.code] += extra // len(gates) + (i < extra % len(gates))
        for spot in spots[: state.in_zone]:
            agent_id = self.sim.add_agent(self._params(spot))
            self.sim.agent(agent_id).target = spot
            heapq.heappush(self.leave_at, (float(self.rng.exponential(state.dwell_left_s)), agent_id))

    def arrive(self, t: float, dt: float) -> None:
        rate = self.inflow.rate(t) / 60.0
        for g in self.venue.entrances:
            cap = self.entrance_cap[g.code]
            if cap == 0:
                continue
            self.waiting[g.code] += int(self.rng.poisson(rate * self.shares[g.code] * dt))
            if cap is not None:
                self.credit[g.code] = min(self.credit[g.code] + cap / 60.0 * dt, max(1.0, cap / 60.0 * dt))
            while self.waiting[g.code] > 0 and (cap is None or self.credit[g.code] >= 1.0):
                spot = self._free_spot(g.far, tries=4)
                if spot is None:
                    break  # the corridor's end is full: the rest wait outside
                self._add(spot, t, self._stay())
                self.waiting[g.code] -= 1
                if cap is not None:
                    self.credit[g.code] -= 1.0

    def depart(self, t: float) -> None:
        while self.leave_at and self.leave_at[0][0] <= t:
            _, agent_id = heapq.heappop(self.leave_at)
            self._send_out(agent_id)

    def _send_out(self, agent_id: int) -> None:
        open_exits = [g for g in self.venue.exits if self.exit_open[g.code]]
        if not open_exits:
            heapq.heappush(self.leave_at, (math.inf, agent_id))
            return
        x, y = self.sim.agent(agent_id).position
        weights = np.array([g.width_m / (5.0 + g.corridor.distance(shapely.Point(x, y))) for g in open_exits])
        gate = open_exits[int(self.rng.choice(len(open_exits), p=weights / weights.sum()))]
        journey, stage = self.exit_journeys[gate.code]
        self.sim.switch_agent_journey(agent_id, journey, stage)
        self.leaving[agent_id] = gate.code

    def apply(self, m: Measure) -> None:
        if m.kind == "close_entrance":
            self.entrance_cap[m.gate] = 0.0
            self.waiting[m.gate] = 0  # turned away
        elif m.kind == "meter_entrance":
            self.entrance_cap[m.gate] = float(m.rate_per_min or 0.0)
        elif m.kind == "open_exit":
            if m.gate not in self.exit_journeys:  # a closed exit: its barrier goes, its corridor opens
                self.opened.add(m.gate)
                self.sim.switch_geometry(self.venue.walkable_with(self.opened))
                self._exit_stage(self.venue.gate(m.gate))
            self.exit_open[m.gate] = True
        elif m.kind == "close_exit":
            self.exit_open[m.gate] = False
            for agent_id, code in list(self.leaving.items()):
                if code == m.gate:
                    self._send_out(agent_id)
        else:
            raise ValueError(f"unknown measure {m.kind!r}")


def _hex(area: shapely.Geometry, gap: float, rng: np.random.Generator) -> list[tuple[float, float]]:
    x0, y0, x1, y1 = area.bounds
    xs, ys = np.meshgrid(
        np.arange(x0 + gap / 2, x1, gap), np.arange(y0 + gap / 2, y1, gap * math.sqrt(3) / 2)
    )
    xs = xs + (np.arange(xs.shape[0])[:, None] % 2) * gap / 2
    x, y = xs.ravel(), ys.ravel()
    inside = shapely.contains_xy(area.buffer(-gap / 2), x, y)
    order = rng.permutation(int(inside.sum()))
    return [(float(a), float(b)) for a, b in zip(x[inside][order], y[inside][order], strict=True)]


def run(
    venue: Venue,
    inflow: Inflow,
    *,
    duration_s: float,
    measures: list[Measure] | tuple[Measure, ...] = (),
    start_state: StartState | None = None,
    crowd: Crowd | None = None,
    seed: int = 0,
    interval_s: float = 10.0,
    stop_after_danger_s: float | None = None,
    danger_density: float = 5.0,
) -> Record:
    """Simulate ``duration_s`` seconds of the venue and return the true record. ``stop_after_danger_s``:
    end the run that long after the zone's density first reaches ``danger_density`` (what follows a crush
    costs the most agent-seconds and tells a warning benchmark nothing)."""
    began = time.perf_counter()
    crowd = crowd or Crowd()
    r = _Run(venue, inflow, tuple(measures), crowd, seed, interval_s)
    for m in measures:
        known = [g.code for g in (venue.entrances if m.kind.endswith("entrance") else venue.exits)]
        if m.gate not in known:
            raise ValueError(f"{venue.code} has no {m.kind.split('_')[1]} {m.gate!r}: one of {known}")
    if start_state and start_state.in_zone:
        r.seed_zone(start_state)
    rec = Record(
        venue.code, venue.zone_area_m2, interval_s, start_in_zone=start_state.in_zone if start_state else 0
    )
    gates = (*venue.entrances, *venue.exits)
    for g in gates:
        rec.gate_in[g.code], rec.gate_out[g.code] = [], []
    for cam in venue.cameras:
        rec.camera[cam.code] = []
        rec.camera_area_m2[cam.code] = float(cam.coverage.area)
    crossed = {g.code: [0, 0] for g in gates}
    steps_per_s = round(1.0 / DT_S)
    pending = list(r.measures)
    prev_ids = np.empty(0, dtype=np.int64)
    prev_xy = np.empty((0, 2))
    t = 0.0
    next_record = interval_s
    danger_at: float | None = None
    while t < duration_s - 1e-9:
        while pending and pending[0].at_s <= t:
            r.apply(pending.pop(0))
        r.arrive(t, 1.0)
        r.depart(t)
        r.sim.iterate(steps_per_s)
        t += 1.0
        agents = list(r.sim.agents())
        ids = np.fromiter((a.id for a in agents), dtype=np.int64, count=len(agents))
        xy = np.array([a.position for a in agents], dtype=float).reshape(-1, 2)
        rec.agent_seconds += len(agents)
        # moves of the agents present at both ends of the second
        _, pi, ci = np.intersect1d(prev_ids, ids, assume_unique=True, return_indices=True)
        for g in gates:
            n_in, n_out = _crossings(prev_xy[pi], xy[ci], g)
            crossed[g.code][0] += n_in
            crossed[g.code][1] += n_out
        for gone in set(r.leaving).difference(ids.tolist()):
            del r.leaving[gone]
        prev_ids, prev_xy = ids, xy
        if t >= next_record - 1e-9:
            in_zone = int(shapely.contains_xy(venue.zone, xy[:, 0], xy[:, 1]).sum()) if len(xy) else 0
            rec.t_s.append(t)
            rec.in_zone.append(in_zone)
            rec.density.append(round(in_zone / venue.zone_area_m2, 4))
            for g in gates:
                rec.gate_in[g.code].append(crossed[g.code][0])
                rec.gate_out[g.code].append(crossed[g.code][1])
                crossed[g.code] = [0, 0]
            for cam in venue.cameras:
                seen = shapely.contains_xy(cam.coverage, xy[:, 0], xy[:, 1]).sum() if len(xy) else 0
                rec.camera[cam.code].append(int(seen))
            in_cell = int(shapely.contains_xy(venue.cell, xy[:, 0], xy[:, 1]).sum()) if len(xy) else 0
            rec.cell.append(in_cell + sum(r.waiting.values()))
            rec.waiting.append(sum(r.waiting.values()))
            next_record += interval_s
            if stop_after_danger_s is not None and rec.density[-1] >= danger_density and danger_at is None:
                danger_at = t
            if (
                danger_at is not None
                and stop_after_danger_s is not None
                and t >= danger_at + stop_after_danger_s
            ):
                break
    rec.wall_s = round(time.perf_counter() - began, 3)
    return rec
