"""Background loops: a step run on a thread of its own every ``period`` seconds, or at once when woken;
an error is logged and the loop goes on (the database may be away for a moment). One helper for every
worker thread, so starting, waking and stopping read the same everywhere."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)


class BackgroundLoop:
    def __init__(
        self,
        name: str,
        step: Callable[[], Any],
        period: float,
        *,
        first_wait: bool = True,
        on_stop: Callable[[], Any] | None = None,
    ) -> None:
        """``step`` runs every ``period`` seconds (after waiting first unless ``first_wait`` is off);
        ``on_stop`` runs once on the loop's thread after the last step."""
        self.name, self.step, self.period = name, step, period
        self.first_wait, self.on_stop = first_wait, on_stop
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def start(self) -> BackgroundLoop:
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
            self._thread.start()
        return self

    def wake(self) -> None:
        """Run the step now rather than at the end of the period (safe from any thread)."""
        self._wake.set()

    def _run(self) -> None:
        wait = self.first_wait
        try:
            while not self._stop.is_set():
                if wait:
                    self._wake.wait(self.period)
                    self._wake.clear()
                    if self._stop.is_set():
                        return
                wait = True
                try:
                    self.step()
                except Exception:
                    log.exception("%s: step failed; trying again in %.1f s", self.name, self.period)
        finally:
            if self.on_stop is not None:
                try:
                    self.on_stop()
                except Exception:
                    log.exception("%s: stopping", self.name)

    def stop(self, timeout: float = 10.0) -> None:
        """Stop after the current step and wait for the thread (at most ``timeout`` seconds)."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=timeout)
        self._thread = None


class Sweep(BackgroundLoop):
    """A sweep of the database every ``period`` seconds: ``sweep(session, platform)`` in a transaction of its
    own (the SLA sweep of cases, the overdue sweep of fire-safety hazards)."""

    def __init__(self, name: str, platform: Any, sweep: Callable[[Any, Any], Any], period: float) -> None:
        def step() -> None:
            with platform.db.session() as session:
                sweep(session, platform)

        super().__init__(name, step, period)
