"""Readings handed to other domains that compute on them in event time (the crowd zones' estimators).

A domain registers the device types it wants (:func:`urbanbrain.domains.sensing.actions.watch_readings`);
the writer thread hands it each group's readings of those types as messages, after the group's alarms and
lake append, in the order they were journaled. So a replay of the journal after a crash hands them again,
and the handler must be idempotent in event time (the crowd estimator is: it orders by event time). A
handler runs on the writer thread: it must be quick, and its failure is logged, not the group's.

Scale-out: a worker hands over only the readings of its own partitions; a domain whose computation spans
devices (a zone's counters and cameras) puts them in one partition group (``actions.do_group_devices``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from urbanbrain.core.context import Platform

log = logging.getLogger(__name__)
CACHE_KEY = "sensing.taps"
REFRESH_S = 1.0  # how often the devices each tap wants are looked up again (devices come and go)

Message = tuple[str, float, dict[str, float]]  # device id, event time (Unix s), values by measurement
Handler = Callable[[list[Message]], None]


@dataclass
class Tap:
    device_types: frozenset[str]
    handler: Handler
    indexes: npt.NDArray[np.int64] | None = None
    looked_at: float = 0.0
    seen_devices: int = -1


def register(platform: Platform, device_types: set[str], handler: Handler) -> None:
    platform.caches.setdefault(CACHE_KEY, []).append(Tap(frozenset(device_types), handler))


def deliver(
    platform: Platform,
    ids: list[str],
    types: list[str | None],
    names: list[str],
    dev: npt.NDArray[np.int64],
    codes: npt.NDArray[np.int64],
    values: npt.NDArray[np.float64],
    ts: npt.NDArray[np.float64],
) -> None:
    """Hand each tap the group's readings of its device types, as one message per device and event time."""
    taps: list[Tap] = platform.caches.get(CACHE_KEY) or []
    for tap in taps:
        now = time.monotonic()
        if tap.indexes is None or tap.seen_devices != len(types) or now - tap.looked_at > REFRESH_S:
            tap.indexes = np.array([i for i, t in enumerate(types) if t in tap.device_types], dtype=np.int64)
            tap.looked_at, tap.seen_devices = now, len(types)
        if not len(tap.indexes):
            continue
        picked = np.flatnonzero(np.isin(dev, tap.indexes))
        if not len(picked):
            continue
        messages: dict[tuple[int, float], dict[str, float]] = {}
        for i in picked.tolist():
            messages.setdefault((int(dev[i]), float(ts[i])), {})[names[int(codes[i])]] = float(values[i])
        try:
            tap.handler([(ids[d], t, v) for (d, t), v in messages.items()])
        except Exception:  # a consumer's bug must not stop ingestion
            log.exception("a readings tap failed on %d messages", len(messages))
