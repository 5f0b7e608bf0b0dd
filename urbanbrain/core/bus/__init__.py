"""The event bus: events leave the outbox after commit and reach subscribers at least once.

Backends: ``memory://`` (in-process: each durable consumer on a thread of its own, the outbox row published
once every consumer has handled it) and ``nats://host:port`` (NATS JetStream).

Two ways to hear events:

* ``subscribe`` - a durable consumer: each event reaches one member of the named consumer at least once, a
  handler that raises gets it again. Consumers must be idempotent
  (:func:`urbanbrain.core.bus.consumers.idempotent` makes them so). Domains hand work to each other so.
* ``listen`` - a live listener: every process hears every event, at most once, at once (the process that
  committed it at the commit, the others when the relay publishes it). Live feeds (the command centre's
  stream) listen; nothing that must not be lost does.
"""

from __future__ import annotations

import concurrent.futures
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
Accept = Callable[[Event], bool]


def matches(pattern: str, event_type: str) -> bool:
    """NATS subject rules on event types: ``*`` is one token, ``>`` the rest (``registry.>``)."""
    want, got = pattern.split("."), event_type.split(".")
    for i, token in enumerate(want):
        if token == ">":
            return len(got) > i
        if i >= len(got) or (token != "*" and token != got[i]):
            return False
    return len(want) == len(got)


class Listening(Protocol):
    def close(self) -> None: ...


class Bus(Protocol):
    def publish(self, event: Event) -> concurrent.futures.Future[None] | None:
        """Hand the event over. None: the bus has taken it (JetStream stored it). A future: the bus takes it
        when the future completes (every in-process consumer handled it); an exception in it, or raised
        here, means the outbox must send the event again later."""
        ...

    def subscribe(
        self, pattern: str, consumer: str, handler: Handler, *, accept: Accept | None = None
    ) -> None:
        """Register a durable consumer; a handler that raises gets the event again later. ``accept`` is a
        cheap test run first: an event it refuses counts as handled without calling ``handler``."""
        ...

    def listen(self, pattern: str, handler: Handler) -> Listening:
        """Hear every matching event in this process, as it is published, at most once (live feeds)."""
        ...

    def announce(self, events: list[Event]) -> None:
        """These events have just committed in this process: its live listeners hear them now, before the
        relay publishes them (which, for them, then changes nothing)."""
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
