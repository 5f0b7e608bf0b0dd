"""The live feed of the command centre: events, as they are published, to every connected screen.

It is fed from one place: the bus. Domains say which of their events go live and how each reads on a
screen (:meth:`LiveFeed.show`); the feed listens to those events on the bus (every process hears every
event, once: the one that committed it at the commit, the others through NATS) and hands each item to every
subscriber allowed to see it. Each subscriber (an SSE client, an asyncio task) reads its own bounded queue; one too slow
to keep up loses its oldest items and is told so.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from urbanbrain.core.auth.principal import Principal
from urbanbrain.core.bus import Event, Listening
from urbanbrain.core.context import Platform

QUEUE_ITEMS = 1000
CACHE_KEY = "core.live"


@dataclass(frozen=True)
class Item:
    """One thing on the screens: its SSE event name, its id, the body, and who may see it."""

    name: str
    id: str | None
    data: dict[str, Any]
    permission: str


Render = Callable[[Event], dict[str, Any] | None]


@dataclass(frozen=True)
class Kind:
    pattern: str
    name: str
    permission: str
    render: Render
    id_field: str | None


class Subscriber:
    def __init__(self, loop: asyncio.AbstractEventLoop, principal: Principal) -> None:
        self.loop, self.principal = loop, principal
        self.queue: asyncio.Queue[Item] = asyncio.Queue(QUEUE_ITEMS)
        self.dropped = 0

    def _put(self, item: Item) -> None:
        if self.queue.full():
            self.queue.get_nowait()
            self.dropped += 1
        self.queue.put_nowait(item)


class LiveFeed:
    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self.kinds: list[Kind] = []
        self._subs: list[Subscriber] = []
        self._listening: list[Listening] = []
        self._lock = threading.Lock()

    def show(
        self, pattern: str, *, name: str, permission: str, render: Render, id_field: str | None = None
    ) -> None:
        """Put events matching ``pattern`` on the feed as SSE events called ``name``, for principals with
        ``permission``; ``render`` turns an event into the item's body (None: not shown)."""
        kind = Kind(pattern, name, permission, render, id_field)
        with self._lock:
            if any(k.pattern == pattern and k.name == name for k in self.kinds):
                return
            self.kinds.append(kind)
        self._listening.append(self.platform.bus.listen(pattern, lambda e: self._heard(kind, e)))

    def permissions(self) -> set[str]:
        return {k.permission for k in self.kinds}

    def subscribe(self, principal: Principal) -> Subscriber:
        sub = Subscriber(asyncio.get_running_loop(), principal)
        with self._lock:
            self._subs.append(sub)
        return sub

    def unsubscribe(self, sub: Subscriber) -> None:
        with self._lock:
            if sub in self._subs:
                self._subs.remove(sub)

    def _heard(self, kind: Kind, event: Event) -> None:
        data = kind.render(event)
        if data is None:
            return
        item_id = data.get(kind.id_field) if kind.id_field else None
        self.deliver(Item(kind.name, None if item_id is None else str(item_id), data, kind.permission))

    def deliver(self, item: Item) -> None:
        """Hand ``item`` to every subscriber allowed to see it (from any thread)."""
        with self._lock:
            subs = [s for s in self._subs if s.principal.can(item.permission)]
        for sub in subs:
            try:
                sub.loop.call_soon_threadsafe(sub._put, item)
            except RuntimeError:  # that client's loop is gone
                self.unsubscribe(sub)

    def close(self) -> None:
        for listening in self._listening:
            listening.close()
        self._listening.clear()

    def __len__(self) -> int:
        return len(self._subs)


def feed(platform: Platform) -> LiveFeed:
    """The platform's live feed (made on first use)."""
    found: LiveFeed | None = platform.caches.get(CACHE_KEY)
    if found is None:
        found = platform.caches[CACHE_KEY] = LiveFeed(platform)
    return found
