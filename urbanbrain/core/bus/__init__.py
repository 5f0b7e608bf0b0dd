"""The event bus: events leave the outbox after commit and reach subscribers at least once.

Backends: ``memory://`` (in-process, synchronous delivery) and ``nats://host:port`` (NATS JetStream).
Consumers must be idempotent; :func:`urbanbrain.core.bus.consumers.idempotent` makes them so.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol


@dataclass(frozen=True)
class Event:
    """``type`` is ``<domain>.<noun>.<verb>``, e.g. ``registry.building.created``."""

    id: str
    type: str
    occurred_at: datetime
    payload: dict[str, Any] = field(default_factory=dict)


Handler = Callable[[Event], None]


def matches(pattern: str, event_type: str) -> bool:
    """NATS subject rules on event types: ``*`` is one token, ``>`` the rest (``registry.>``)."""
    want, got = pattern.split("."), event_type.split(".")
    for i, token in enumerate(want):
        if token == ">":
            return len(got) > i
        if i >= len(got) or (token != "*" and token != got[i]):
            return False
    return len(want) == len(got)


class Bus(Protocol):
    def publish(self, event: Event) -> None:
        """Return only once the bus has taken the event (delivered in-process, or acked by JetStream)."""
        ...

    def subscribe(self, pattern: str, consumer: str, handler: Handler) -> None:
        """Register a durable consumer; a handler that raises gets the event again later."""
        ...

    def close(self) -> None: ...


def bus_from_url(url: str) -> Bus:
    if url.startswith("memory://"):
        from urbanbrain.core.bus.memory import MemoryBus

        return MemoryBus()
    if url.startswith("nats://"):
        from urbanbrain.core.bus.nats import NatsBus

        return NatsBus(url)
    raise ValueError(f"unknown bus URL {url!r}: use memory:// or nats://host:port")
