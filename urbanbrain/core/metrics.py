"""Metrics for Prometheus, one registry per platform: each part of the platform declares its metrics where
it counts (get-or-create by name, so a module asks for its counter each time it needs it) and
``/metrics`` serves them all."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import Metric
from prometheus_client.registry import Collector

M = TypeVar("M", Counter, Gauge, Histogram)


class _Collector(Collector):
    """A metric read when Prometheus scrapes (a count from the database, a queue's depth)."""

    def __init__(self, collect: Callable[[], Iterable[Metric]]) -> None:
        self._collect = collect

    def collect(self) -> Iterable[Metric]:
        return self._collect()


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self._made: dict[str, Any] = {}
        self._lock = threading.Lock()

    def _get(self, kind: type[M], name: str, documentation: str, labels: Sequence[str], **kw: Any) -> M:
        with self._lock:
            made = self._made.get(name)
            if made is None:
                made = self._made[name] = kind(
                    name, documentation, list(labels), registry=self.registry, **kw
                )
        if not isinstance(made, kind):
            raise TypeError(f"metric {name} is a {type(made).__name__}, not a {kind.__name__}")
        return made

    def counter(self, name: str, documentation: str, labels: Sequence[str] = ()) -> Counter:
        return self._get(Counter, name, documentation, labels)

    def gauge(self, name: str, documentation: str, labels: Sequence[str] = ()) -> Gauge:
        return self._get(Gauge, name, documentation, labels)

    def histogram(self, name: str, documentation: str, labels: Sequence[str] = (), **kw: Any) -> Histogram:
        return self._get(Histogram, name, documentation, labels, **kw)

    def collect(self, name: str, collect: Callable[[], Iterable[Metric]]) -> None:
        """Register a collector under ``name`` once (later calls with the same name do nothing)."""
        with self._lock:
            if name in self._made:
                return
            self._made[name] = collector = _Collector(collect)
        self.registry.register(collector)
