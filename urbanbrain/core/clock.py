"""The injectable clock: all time in UrbanBrain comes from here, so simulations and tests are exact."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        ...


class RealClock:
    """Wall-clock time."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class SimulatedClock:
    """Time that starts at ``start`` and runs ``speed`` times faster than the wall clock.

    ``speed=0`` freezes time: tests then move it only with :meth:`advance`, so every duration is exact.
    """

    def __init__(self, start: datetime, speed: float = 1.0) -> None:
        start = start.replace(tzinfo=UTC) if start.tzinfo is None else start.astimezone(UTC)
        if speed < 0:
            raise ValueError("speed must be >= 0")
        self._lock = threading.Lock()
        self._base = start
        self._speed = speed
        self._anchor = time.monotonic()

    def now(self) -> datetime:
        with self._lock:
            elapsed = (time.monotonic() - self._anchor) * self._speed
            return self._base + timedelta(seconds=elapsed)

    def advance(self, delta: timedelta | float) -> datetime:
        """Jump forward (never backward): time in UrbanBrain is monotonic."""
        seconds = delta.total_seconds() if isinstance(delta, timedelta) else float(delta)
        if seconds < 0:
            raise ValueError("the clock never runs backward")
        with self._lock:
            self._base += timedelta(seconds=seconds)
            return self._base

    def set_speed(self, speed: float) -> None:
        with self._lock:
            now = self._base + timedelta(seconds=(time.monotonic() - self._anchor) * self._speed)
            self._base, self._anchor, self._speed = now, time.monotonic(), speed


def clock_from_spec(spec: str) -> Clock:
    """``real`` or ``simulated:<ISO start>:<speed>`` (e.g. ``simulated:2018-07-01T08:00:00+08:00:60``)."""
    if spec == "real":
        return RealClock()
    if spec.startswith("simulated:"):
        body = spec[len("simulated:") :]
        start_text, _, speed_text = body.rpartition(":")
        return SimulatedClock(datetime.fromisoformat(start_text), float(speed_text))
    raise ValueError(f"unknown clock spec {spec!r}")
