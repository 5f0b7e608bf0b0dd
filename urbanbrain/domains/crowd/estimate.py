"""One zone's crowd, estimated in event time from imperfect inputs (a state estimate, like a Kalman filter).

- **Counters** at entrances and exits say how many crossed since their previous message: their net flow moves
  the occupancy and gives the trend. Integrated alone they drift (a missed count is never taken back), and
  a counter that drops out says nothing for minutes.
- **Cameras** see how many are in the zone now: the level, but they miss people in a dense crowd (occlusion)
  and double-count at the edges.
- **Phone-signal cells** give a coarse, late count of a larger area: a weak check on the level.

So the occupancy is predicted from the counters' flow (the trend) and corrected by the cameras (the level),
each weighted by how much it is trusted. A silent counter's flow is carried on at its recent rate, and when
it speaks again its count (which covers the whole silence) replaces what was assumed. If the cameras are
silent, the counters carry the estimate and its uncertainty grows; if the counters are silent, the cameras
alone carry it.

Messages are applied in event-time order once the watermark (the latest event time seen, less
``lateness_s``) has passed them, and the zone is judged at fixed ticks of event time. So a replay at any
speed, in any batching, gives the same estimates at the same event times.
"""

from __future__ import annotations

import heapq
import math
from collections import deque
from dataclasses import dataclass, field

ROLES = ("entrance", "exit", "camera", "cell")
UNKNOWN = 1e12  # the variance of an occupancy nobody has counted yet


@dataclass(frozen=True)
class Params:
    tick_s: float = 30.0  # the zone is judged every tick of event time
    lateness_s: float = 60.0  # how late a message may arrive and still be applied in order
    # the trend: net flow over the last 2 minutes, chosen on the tune scenarios (benchmarks/crowd_tune.py)
    # together with the yellow forecast's longer hold (warnings.Policy)
    flow_window_s: float = 120.0
    counter_silence_s: float = 120.0  # a counter silent this long is carried on at its recent rate
    camera_miss_per_density: float = 0.05  # share of people a camera misses per person/m² (occlusion)
    camera_edge: float = 3.0  # people counted twice at the edges, on average
    camera_sd: float = 0.08  # relative error of a corrected camera count
    cell_sd: float = 0.35  # relative error of a phone-signal estimate
    counter_error: float = (
        0.1  # a counter's error, relative to what it counts; it adds up, it does not cancel
    )
    level_noise: float = 0.03  # how far a crowd may wander from its trend, relative, per minute
    horizon_min: tuple[int, ...] = (5, 10, 15)
    # after a restart, the kept state is taken up again if the zone's next message comes within this long of
    # it (a longer gap and the crowd may be anything: start again from the inputs)
    resume_within_s: float = 900.0


@dataclass
class _Counter:
    role: str
    last_ts: float | None = None
    rate: float = 0.0  # net persons/s into the zone, recent
    assumed: float = 0.0  # net persons assumed while it was silent, to be replaced by its next count
    window: deque[tuple[float, float]] = field(default_factory=deque)  # (ts, net persons) it counted lately
    crossings: deque[tuple[float, float, float]] = field(default_factory=deque)  # (ts, in, out), same window
    in_rate: float = 0.0  # persons/s in and out at its last message (a silent counter's, for the what-if)
    out_rate: float = 0.0


@dataclass
class Forecast:
    minutes_ahead: int
    density: float
    low: float
    high: float


@dataclass
class Snapshot:
    """The zone at one tick of event time."""

    at: float  # event time, Unix seconds
    occupancy: float
    density: float
    sd: float  # of the occupancy
    flow_per_min: float  # net persons per minute into the zone (the trend)
    forecast: list[Forecast]
    minutes_to_danger: (
        float | None
    )  # when the central forecast reaches ``danger`` density; None if not rising
    # each counter's persons/min in and out over the flow window (a silent one's at its last rates): what
    # the what-if continues at each entrance and exit
    gates: dict[str, tuple[float, float]] = field(default_factory=dict)


@dataclass(frozen=True)
class Resume:
    """A zone's estimate as kept before a restart (its state row)."""

    at: float
    occupancy: float
    sd: float
    gates: dict[str, tuple[float, float]]  # counter -> persons/min in, out


@dataclass
class ZoneEstimator:
    area_m2: float
    inputs: dict[str, str]  # device id -> role
    danger: float = 5.0
    params: Params = field(default_factory=Params)
    occupancy: float = 0.0
    var: float = 0.0
    now: float | None = None  # event time applied so far
    _queue: list[tuple[float, str, int, dict[str, float]]] = field(default_factory=list)
    _seq: int = 0
    _counters: dict[str, _Counter] = field(default_factory=dict)
    _cameras: dict[str, tuple[float, float]] = field(default_factory=dict)  # device -> (ts, count)
    _history: deque[tuple[float, float]] = field(default_factory=deque)  # (ts, occupancy) without counters
    _next_tick: float | None = None
    _watermark: float = -math.inf
    _resume: Resume | None = None

    def __post_init__(self) -> None:
        for device, role in self.inputs.items():
            if role in ("entrance", "exit"):
                self._counters[device] = _Counter(role)
        if any(role in ("camera", "cell") for role in self.inputs.values()):
            # the crowd already there is unknown until a camera or a cell has counted it (a restart);
            # counters alone can only assume the zone was empty when they started
            self.var = UNKNOWN

    def resume(self, kept: Resume) -> None:
        """Take up the estimate kept before a restart, if the zone's next message comes soon enough after it;
        messages from before it were applied before the restart and are not applied again."""
        self._resume = kept

    def _take_up(self, ts: float) -> bool:
        kept, self._resume = self._resume, None
        if kept is None or not 0 <= ts - kept.at <= self.params.resume_within_s:
            return False
        self.now, self.occupancy, self.var = kept.at, kept.occupancy, kept.sd**2
        for device, (i, o) in kept.gates.items():
            c = self._counters.get(device)
            if c is None:
                continue
            # carried on at these rates if it stays silent; the trend's window filled at them, in steps that
            # leave it as the counter's own messages come in
            c.last_ts, c.in_rate, c.out_rate, c.rate = kept.at, i / 60.0, o / 60.0, (i - o) / 60.0
            step = 10.0
            for k in range(int(self.params.flow_window_s // step)):
                t = kept.at - k * step
                c.window.appendleft((t, c.rate * step))
                c.crossings.appendleft((t, c.in_rate * step, c.out_rate * step))
        self._next_tick = math.floor(kept.at / self.params.tick_s) * self.params.tick_s + self.params.tick_s
        return True

    # ---- input -------------------------------------------------------------------------------------------
    def add(self, device: str, ts: float, values: dict[str, float]) -> None:
        """Queue one message of one of the zone's inputs (other devices are ignored)."""
        if device not in self.inputs:
            return
        if self._resume is not None and ts <= self._resume.at:
            return  # applied before the restart
        self._seq += 1
        heapq.heappush(self._queue, (ts, device, self._seq, values))  # equal times: by device
        self._watermark = max(self._watermark, ts - self.params.lateness_s)

    def advance(self, until: float | None = None) -> list[Snapshot]:
        """Apply what the watermark (or ``until``, e.g. the end of a replay) has passed; a snapshot per tick."""
        limit = self._watermark if until is None else until
        out: list[Snapshot] = []
        while self._queue and self._queue[0][0] <= limit:
            ts, device, _, values = heapq.heappop(self._queue)
            if self.now is None and not self._take_up(ts):  # the first message starts its event time
                self.now = ts
                self._next_tick = (
                    math.floor(ts / self.params.tick_s) * self.params.tick_s + self.params.tick_s
                )
            out += self._ticks_until(ts)
            self._apply(device, max(ts, self.now or ts), values)
        out += self._ticks_until(limit)
        return out

    # ---- the estimate ------------------------------------------------------------------------------------
    def _ticks_until(self, ts: float) -> list[Snapshot]:
        if self.now is None or not math.isfinite(ts):
            return []
        out = []
        assert self._next_tick is not None
        while self._next_tick <= ts:
            self._predict(self._next_tick)
            out.append(self.snapshot())
            self._next_tick += self.params.tick_s
        return out

    def _predict(self, ts: float) -> None:
        """Move the estimate to ``ts``: silent counters carried on at their recent rate; uncertainty grows."""
        assert self.now is not None
        dt = ts - self.now
        if dt <= 0:
            return
        for c in self._counters.values():
            if c.last_ts is not None and ts - c.last_ts > self.params.counter_silence_s:
                # silent: carried on at its recent rate from its last message (the threshold back-filled)
                guess = c.rate * (ts - max(self.now, c.last_ts))
                c.assumed += guess
                self.occupancy += guess
                self._grow(0.5 * abs(guess))  # an assumption, not a count
        if not self._counted():  # nothing counts the flow: follow the estimate's own trend
            self.occupancy += self.flow_per_min() / 60.0 * dt
        wander = self.params.level_noise * max(self.occupancy, 20.0)
        self.var += wander**2 * dt / 60.0
        self.occupancy = max(self.occupancy, 0.0)
        self.now = ts
        if not self._counted():
            self._history.append((ts, self.occupancy))

    def _grow(self, sd: float) -> None:
        """Add an error that accumulates with the others (a counter's misses all go the same way)."""
        self.var = (math.sqrt(max(self.var, 0.0)) + sd) ** 2

    def _counted(self) -> bool:
        """Whether counters give the trend: some counter has spoken (a silent one goes on at its rate)."""
        return any(c.last_ts is not None for c in self._counters.values())

    def _apply(self, device: str, ts: float, values: dict[str, float]) -> None:
        self._predict(ts)
        role = self.inputs[device]
        if role in ("entrance", "exit"):
            self._count(device, ts, values)
        elif role == "camera" and "head_count" in values:
            self._cameras[device] = (ts, values["head_count"])
            self._correct_by_cameras(ts)
        elif role == "cell" and "persons" in values:
            self._correct(values["persons"], (self.params.cell_sd * max(values["persons"], 10.0)) ** 2)

    def _count(self, device: str, ts: float, values: dict[str, float]) -> None:
        c = self._counters[device]
        net = values.get("in", 0.0) - values.get("out", 0.0)
        span = ts - c.last_ts if c.last_ts is not None and ts > c.last_ts else 0.0
        correction = net
        if c.assumed:
            # Back from a silence. A counter that kept counting sends the whole silence's total (it replaces
            # what was assumed); one that rebooted, or whose messages were lost, sends only its last interval
            # (what was assumed stands: the flow went on). Told apart by size against the assumed flow.
            if abs(net) >= 0.5 * abs(c.assumed):
                correction = net - c.assumed
            else:
                span = min(span, self.params.counter_silence_s)
        if span:
            c.rate = net / span
            c.in_rate, c.out_rate = values.get("in", 0.0) / span, values.get("out", 0.0) / span
        c.assumed = 0.0
        c.last_ts = ts
        self.occupancy = max(self.occupancy + correction, 0.0)
        # for the trend, only the part of a long span's count that falls inside the window
        window = self.params.flow_window_s
        part = min(1.0, window / span) if span > window else 1.0
        c.window.append((ts, net * part))
        c.crossings.append((ts, values.get("in", 0.0) * part, values.get("out", 0.0) * part))
        self._grow(self.params.counter_error * (values.get("in", 0.0) + values.get("out", 0.0)))

    def _correct_by_cameras(self, ts: float) -> None:
        """The cameras' count now, corrected for what they miss at this density, as a measurement."""
        fresh = [n for t, n in self._cameras.values() if ts - t <= self.params.counter_silence_s]
        if len(fresh) < len(self._cameras):
            return  # wait until every camera of the zone has spoken again: a partial sum undercounts
        seen = max(sum(fresh) - self.params.camera_edge * len(fresh), 0.0)
        density = max(self.occupancy, seen) / self.area_m2
        miss = min(self.params.camera_miss_per_density * density, 0.6)
        estimate = seen / (1.0 - miss)
        self._correct(estimate, (self.params.camera_sd * max(estimate, 10.0)) ** 2)

    def _correct(self, measured: float, r: float) -> None:
        k = self.var / (self.var + r) if self.var + r > 0 else 0.0
        self.occupancy = max(self.occupancy + k * (measured - self.occupancy), 0.0)
        self.var = (1.0 - k) * self.var

    # ---- the trend and the forecast ----------------------------------------------------------------------
    def flow_per_min(self) -> float:
        """Net persons per minute into the zone over the flow window (counters, and assumed flow)."""
        if self.now is None:
            return 0.0
        start = self.now - self.params.flow_window_s
        while self._history and self._history[0][0] < start:
            self._history.popleft()
        if not self._counted():
            return _slope(list(self._history)) * 60.0  # no counter speaks: the estimate's own slope
        flow = 0.0
        for c in self._counters.values():
            while c.window and c.window[0][0] < start:
                c.window.popleft()
            silent = c.last_ts is not None and self.now - c.last_ts > self.params.counter_silence_s
            # a silent counter's part of the trend is the rate it was carried on at
            flow += (
                c.rate * 60.0 if silent else sum(n for _, n in c.window) * 60.0 / self.params.flow_window_s
            )
        return flow

    def gate_rates(self) -> dict[str, tuple[float, float]]:
        """Each counter's persons per minute in and out over the flow window; a silent counter's at the rates
        of its last message."""
        if self.now is None:
            return {}
        start = self.now - self.params.flow_window_s
        out: dict[str, tuple[float, float]] = {}
        for device, c in self._counters.items():
            if c.last_ts is None:
                continue
            while c.crossings and c.crossings[0][0] < start:
                c.crossings.popleft()
            if self.now - c.last_ts > self.params.counter_silence_s:
                out[device] = (c.in_rate * 60.0, c.out_rate * 60.0)
            else:
                per_min = 60.0 / self.params.flow_window_s
                out[device] = (
                    sum(n for _, n, _ in c.crossings) * per_min,
                    sum(n for _, _, n in c.crossings) * per_min,
                )
        return {d: (round(i, 2), round(o, 2)) for d, (i, o) in out.items()}

    def snapshot(self) -> Snapshot:
        assert self.now is not None
        flow = self.flow_per_min()
        sd = math.sqrt(max(self.var, 0.0))
        forecast = []
        for h in self.params.horizon_min:
            centre = max(self.occupancy + flow * h, 0.0)
            # the trend's own uncertainty grows with the horizon: a third of the flow, per minute ahead
            spread = math.sqrt(sd**2 + (abs(flow) * h / 3.0) ** 2 + (0.02 * centre) ** 2)
            forecast.append(
                Forecast(
                    h,
                    centre / self.area_m2,
                    max(centre - 1.64 * spread, 0.0) / self.area_m2,
                    (centre + 1.64 * spread) / self.area_m2,
                )
            )
        to_danger = None
        danger_n = self.danger * self.area_m2
        if self.occupancy >= danger_n:
            to_danger = 0.0
        elif flow > 0:
            to_danger = (danger_n - self.occupancy) / flow
        return Snapshot(
            self.now,
            self.occupancy,
            self.occupancy / self.area_m2,
            sd,
            flow,
            forecast,
            to_danger,
            self.gate_rates(),
        )


def _slope(points: list[tuple[float, float]]) -> float:
    """Least-squares slope (per second) of (t, y) points; 0 with fewer than three."""
    if len(points) < 3:
        return 0.0
    n = len(points)
    mt = sum(t for t, _ in points) / n
    my = sum(y for _, y in points) / n
    den = sum((t - mt) ** 2 for t, _ in points)
    return 0.0 if den == 0 else sum((t - mt) * (y - my) for t, y in points) / den
