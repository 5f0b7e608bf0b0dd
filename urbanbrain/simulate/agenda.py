"""What simulated people do, in time order, on a simulated clock: the month of cases and the season of
inspections schedule their acts here and run them through the ordinary actions, the clock advanced to each."""

from __future__ import annotations

import heapq
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from urbanbrain.core.clock import SimulatedClock


@dataclass(order=True)
class _Job:
    at: datetime
    seq: int  # ties keep the order they were scheduled in
    act: Callable[[], None] = field(compare=False)


class Agenda:
    def __init__(self, clock: SimulatedClock) -> None:
        self.clock = clock
        self._jobs: list[_Job] = []
        self._seq = 0

    def at(self, when: datetime, act: Callable[[], None]) -> None:
        self._seq += 1
        heapq.heappush(self._jobs, _Job(when, self._seq, act))

    def run(self, until: datetime, *, inclusive: bool = False) -> None:
        """Every act before ``until`` (or at it, ``inclusive``), those they schedule too, in time order; then
        the clock stands at ``until``."""
        while self._jobs and (self._jobs[0].at < until or (inclusive and self._jobs[0].at == until)):
            job = heapq.heappop(self._jobs)
            self._advance_to(job.at)
            job.act()
        self._advance_to(until)

    def _advance_to(self, when: datetime) -> None:
        if when > self.clock.now():
            self.clock.advance(when - self.clock.now())
