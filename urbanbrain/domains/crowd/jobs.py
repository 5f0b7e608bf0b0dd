"""Where what-ifs run: a pool of worker processes (JuPedSim holds the interpreter while it steps, so a run in
the API's own process would stall every request), two per what-if (with and without the measure, side by
side). Started on the first what-if and kept; a thread per what-if waits for both runs and writes the result
through the action. The pool is per process: the what-if's row, not the pool, is what other processes read.
"""

from __future__ import annotations

import logging
import multiprocessing
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any

from urbanbrain.core.context import Platform
from urbanbrain.domains.crowd import whatif

log = logging.getLogger(__name__)
CACHE_KEY = "crowd.what_if.pool"
WORKERS = 2
_lock = threading.Lock()


def available() -> str | None:
    """None when what-ifs can run here, else why not (JuPedSim missing or broken)."""
    try:
        import jupedsim  # noqa: F401
    except Exception as e:  # an ImportError, or a wheel built for another machine
        return f"{type(e).__name__}: {e}"[:200]
    return None


class _Pool:
    """The process's workers; ``stop`` (the platform closing) lets their runs go."""

    def __init__(self) -> None:
        # spawn: a forked copy of a threaded server (uvicorn, the relay, the MQTT client) can deadlock
        self.executor = ProcessPoolExecutor(WORKERS, mp_context=multiprocessing.get_context("spawn"))

    def stop(self) -> None:
        self.executor.shutdown(wait=False, cancel_futures=True)


def _pool(platform: Platform) -> ProcessPoolExecutor:
    with _lock:
        pool: _Pool | None = platform.caches.get(CACHE_KEY)
        if pool is None:
            pool = platform.caches[CACHE_KEY] = _Pool()
        return pool.executor


Finish = Callable[[Platform, int, "dict[str, Any] | str", float], None]


def submit(platform: Platform, what_if_id: int, start: dict[str, Any], measure: dict[str, Any], minutes: int,
           seed: int, finish: Finish) -> None:  # fmt: skip
    """Run both sides of a what-if in the pool; when both are back, ``finish`` records the outcome (the
    result, or why it failed) and how long it took."""
    began = time.perf_counter()
    pool = _pool(platform)
    runs: list[Future[dict[str, Any]]] = [
        pool.submit(whatif.simulate, start, None, minutes, seed),
        pool.submit(whatif.simulate, start, measure, minutes, seed),
    ]

    def wait() -> None:
        try:
            without, with_ = (f.result() for f in runs)
            outcome: dict[str, Any] | str = {"without": without, "with": with_}
        except Exception as e:  # the run failed: the what-if says why, the server goes on
            log.exception("what-if %s failed", what_if_id)
            outcome = f"{type(e).__name__}: {e}"[:480]
        try:
            finish(platform, what_if_id, outcome, time.perf_counter() - began)
        except Exception:  # the database went away (a test's platform closed): nothing else to tell
            log.exception("what-if %s could not be recorded", what_if_id)

    threading.Thread(target=wait, name=f"what-if-{what_if_id}", daemon=True).start()
