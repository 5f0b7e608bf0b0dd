"""The light show in ``urbanbrain demo`` (issue 17): an evening at the Civic Center plaza whose crowd becomes
dangerous, simulated once with JuPedSim (the record is cached in the data dir) and streamed through the
readings door ``SPEED`` times faster than it happened, so that a newcomer at the big screen sees the density
rise, the forecast warning fire and the crowd plan start within a few minutes.

Where the evening lies in event time: its last message is sent just as its event time comes (the last half
hour, replayed until it catches up with the clock); it starts on a whole minute (the zone is judged every
30 s of event time, so every evening is judged at the same moments of its run and warns at the same moments);
and it starts after the devices' newest readings (the door refuses a reading older than its device's newest).
The zone's kept estimate is dropped before the server starts, so each evening is estimated afresh.
An evening that must start that late runs ahead of the clock, but never by more than ``AHEAD_S`` (the door
refuses readings from further ahead): it then waits for the clock, at real time.

``python -m urbanbrain.simulate.crowd.demo DATA_DIR`` simulates the evening into the cache: the demo runs it
in a process of its own and at a lower priority, so the server does not wait for JuPedSim."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from urbanbrain.domains.crowd.estimate import ZoneEstimator
from urbanbrain.domains.crowd.levels import Thresholds
from urbanbrain.domains.crowd.physics import Record
from urbanbrain.domains.crowd.warnings import ZoneWarnings
from urbanbrain.domains.sensing.ingest.wire import MAX_FUTURE_SKEW_S
from urbanbrain.simulate.crowd.devices import Message
from urbanbrain.simulate.crowd.publish import zone_body
from urbanbrain.simulate.crowd.suite import Result, Scenario, evening

VENUE = "civic_plaza"
SPEED = 8.0  # simulated seconds per real second: the 31 minutes of the evening in about 4
CACHE = "crowd-scenarios"  # under the data dir: the suite's cache of runs, by scenario hash
EVENING = "crowd-evening.json"  # under the data dir: the evening streamed last, its times and its truth
# event time between the devices' newest reading and the evening's first message (the door refuses a reading
# older than its device's newest); the zone's kept estimate is forgotten before the server starts
# (cli.crowd.end_last_evening), so every evening is estimated afresh
GAP_S = 60.0
AHEAD_S = MAX_FUTURE_SKEW_S - 60.0  # how far ahead of the clock a message may be sent


def scenario() -> Scenario:
    """The demo's evening: the suite's dangerous evening at the plaza (true density 5 p/m² some 26 minutes
    in)."""
    return evening(VENUE, dangerous=True)


def cached(data_dir: Path) -> bool:
    """Whether the evening's record is in the data dir's cache."""
    return scenario().cache_path(data_dir / CACHE).exists()


def record(data_dir: Path) -> Record:
    """The evening's record, from the cache, or simulated (about a minute on a free core) and cached."""
    return scenario().record(data_dir / CACHE)


def simulate_apart(data_dir: Path) -> subprocess.Popen[bytes] | None:
    """Start simulating the evening into the cache in a process of its own; None when it is cached."""
    if cached(data_dir):
        return None
    return subprocess.Popen([sys.executable, "-m", __name__, str(data_dir.resolve())])


@dataclass(frozen=True)
class Expected:
    """A warning the platform will raise: its type and level, the tick of event time it is judged at, and the
    event time of the message whose arrival lets the zone judge that tick (its watermark passes the tick)."""

    alarm_type: str
    level: str
    event_ts: float
    sent_ts: float


def expected_warnings(result: Result, messages: list[Message]) -> list[Expected]:
    """The warnings the crowd engine raises for these messages, by the domain's own estimator and warning
    rules fed as the engine feeds them (the zone as ``publish.declare_zone`` declares it, default levels):
    in event time, so at any speed and in any batching."""
    body = zone_body(result.scenario.site())
    levels = Thresholds()
    inputs = {i["device_id"]: i["role"] for i in body["inputs"]}
    estimator = ZoneEstimator(body["area_m2"], inputs, danger=levels.danger)
    warnings = ZoneWarnings(levels)
    out: list[Expected] = []
    for m in messages:
        estimator.add(m["device"], m["ts"], m["values"])
        for snap in estimator.advance():
            out += [
                Expected(c.alarm_type, c.level, snap.at, m["ts"])
                for c in warnings.judge(snap)
                if c.kind == "raise"
            ]
    return out


def place(first_s: float, last_s: float, *, now: float, speed: float, after: float | None = None) -> float:
    """The event time of the evening's simulated second 0 when its messages, ``first_s`` to ``last_s``, are
    streamed from ``now`` at ``speed``: on a whole minute, no later than lets the last message be sent as its
    event time comes, and with the first message at least ``GAP_S`` after ``after`` (the devices' newest
    reading). ``speed`` 0 (as fast as the platform takes them): the last message's event time is ``now``."""
    streamed = (last_s - first_s) / speed if speed > 0 else 0.0
    start = math.floor((now + streamed - last_s) / 60.0) * 60.0
    if after is not None:
        start = max(start, math.ceil((after + GAP_S - first_s) / 60.0) * 60.0)
    return start


@dataclass(frozen=True)
class Evening:
    """One streaming of the evening: where its simulated time lies in event time, when it is sent, its truth
    and the warnings it should raise."""

    start_ts: float  # event time of simulated second 0
    speed: float
    began: float  # wall-clock time the first message is sent
    first_s: float  # simulated seconds of the first and the last message
    last_s: float
    danger_s: float | None  # when the true density first reached 5 p/m², simulated (None: never)
    record: str  # the cached record, relative to the data dir
    warnings: tuple[Expected, ...] = ()
    after: float | None = None  # the devices' newest reading before it

    @property
    def held_back(self) -> bool:
        """Whether the devices' last readings hold the evening back: it then waits for the clock."""
        return self.sent_at(self.end_ts) > self.began + (self.last_s - self.first_s) / self.speed + 1.0

    @property
    def first_ts(self) -> float:
        return self.start_ts + self.first_s

    @property
    def end_ts(self) -> float:
        return self.start_ts + self.last_s

    @property
    def danger_ts(self) -> float | None:
        return None if self.danger_s is None else self.start_ts + self.danger_s

    def sent_at(self, event_ts: float) -> float:
        """The wall-clock time the message of ``event_ts`` is sent: at ``speed`` from the first (at once for
        0), but not more than ``AHEAD_S`` before its event time."""
        paced = (event_ts - self.first_ts) / self.speed if self.speed > 0 else 0.0
        return max(self.began + paced, event_ts - AHEAD_S)

    def first_warning(self) -> Expected | None:
        """The first warning: a forecast at any level, or the density at orange or red (as the benchmark
        counts a warning)."""
        return next(
            (w for w in self.warnings if w.alarm_type == "crowd.forecast" or w.level in ("orange", "red")),
            None,
        )

    def plan_start(self, level: str = "orange") -> Expected | None:
        """The first warning at ``level`` or above: the one that starts the crowd plan."""
        rank = ("blue", "yellow", "orange", "red").index
        return next((w for w in self.warnings if rank(w.level) >= rank(level)), None)

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "first_ts": self.first_ts, "end_ts": self.end_ts, "danger_ts": self.danger_ts}


def plan(
    rec: Record, *, now: float, after: float | None = None, speed: float = SPEED
) -> tuple[Evening, list[Message]]:
    """The evening of ``rec`` streamed from ``now``, after ``after`` (the devices' newest reading): its
    times, its messages and the warnings they should raise."""
    result = Result(scenario(), rec)
    probe = result.messages(0.0)
    first_s, last_s = probe[0]["ts"], probe[-1]["ts"]
    start = place(first_s, last_s, now=now, speed=speed, after=after)
    messages = result.messages(start)
    chosen = Evening(
        start_ts=start,
        speed=speed,
        began=now,
        first_s=first_s,
        last_s=last_s,
        danger_s=result.danger_at_s,
        record=str(scenario().cache_path(Path(CACHE))),
        warnings=tuple(expected_warnings(result, messages)),
        after=after,
    )
    return chosen, messages


def save(data_dir: Path, chosen: Evening) -> Path:
    """Write the evening to the data dir: what it streams, when, its truth and its expected warnings."""
    path = data_dir / EVENING
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(chosen.to_json(), indent=2))
    tmp.replace(path)
    return path


if __name__ == "__main__":
    os.nice(10)  # the server and the district's loading come first; the simulation takes what they leave
    record(Path(sys.argv[1]))
