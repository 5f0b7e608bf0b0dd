"""The background loop of a server: the overdue sweep every ``interval`` seconds."""

from __future__ import annotations

import logging
import threading

from urbanbrain.core.context import Platform

log = logging.getLogger(__name__)


class Worker:
    def __init__(self, platform: Platform, interval: float) -> None:
        self.platform, self.interval = platform, interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="fire-safety-worker", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        from urbanbrain.apps.fire_safety.actions import overdue_sweep

        while not self._stop.wait(self.interval):
            try:
                with self.platform.db.session() as session:
                    overdue_sweep(session, self.platform)
            except Exception:  # keep sweeping; the database may be briefly unavailable
                log.exception("fire_safety worker")

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
