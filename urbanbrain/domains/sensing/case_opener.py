"""Opens the cases of alarms in a thread of its own, so that the pipeline's writer goes on with the next
readings (and the next alarms reach the live stream) while a case is classified, routed and registered:
with a case per alarm the writer spent a third of its time there, and alarms behind it waited."""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from typing import Any

from urbanbrain.core.context import Platform
from urbanbrain.domains.sensing import alarms

log = logging.getLogger(__name__)


class CaseOpener:
    def __init__(self, platform: Platform, publish: Callable[[list[dict[str, Any]]], None]) -> None:
        self.platform, self.publish = platform, publish
        self._queue: queue.Queue[list[alarms.CaseDue] | None] = queue.Queue()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="sensing-cases", daemon=True)
        self._thread.start()

    def put(self, due: list[alarms.CaseDue]) -> None:
        if due:
            self._queue.put(due)

    def join(self) -> None:
        """Wait until every case asked for so far is opened (or has failed)."""
        self._queue.join()

    def stop(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            self._queue.put(None)
            self._thread.join(timeout=60)

    def _run(self) -> None:
        while True:
            due = self._queue.get()
            try:
                if due is None:
                    return
                batch = list(due)
                while not self._queue.empty():  # what piled up meanwhile goes in the same transaction
                    more = self._queue.get_nowait()
                    self._queue.task_done()
                    if more is None:
                        self._queue.put(None)
                        break
                    batch += more
                with self.platform.db.session() as session:
                    shown = alarms.open_cases(session, self.platform, batch)
                self.publish(shown)
            except Exception:  # the alarms stand; the next start opens the missing cases (cases_missing)
                log.exception("sensing: opening cases for alarms failed")
            finally:
                self._queue.task_done()
