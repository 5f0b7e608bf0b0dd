"""The live feed of the command centre: events, as they are published, to every connected screen.

It is fed from one place: the bus. Domains say which of their events go live and how each reads on a
screen (:meth:`LiveFeed.show`); the feed listens to those events on the bus (every process hears every
event, once: the one that committed it at the commit, the others through NATS) and hands each item to every
subscriber allowed to see it. Each subscriber (an SSE client, an asyncio task) reads its own bounded queue; one too slow
to keep up loses its oldest items and is told so.

Every item gets the feed's next sequence number, and the last :data:`RING_ITEMS` items are kept: a screen that
reconnects names the last item it had (:meth:`LiveFeed.event_id`) and gets what it missed, or is told of a gap
(an id older than the ring, or from another process or an earlier boot) so that it reloads its lists.
"""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from urbanbrain.core.auth.principal import Principal
from urbanbrain.core.bus import Event, Listening
from urbanbrain.core.context import Platform

QUEUE_ITEMS = 1000
# Items kept for replay: a bounded count (about 1 MB), not a time span, so that a storm cannot grow it. That is
# minutes of an ordinary day, more than a screen's reconnect (its pause is at most 15 s); in a storm it is
# seconds, and a screen away longer reloads its lists, which is cheaper than replaying thousands of items.
RING_ITEMS = 2000
CACHE_KEY = "core.live"

Gap = str  # why a subscriber cannot be given what it missed: "expired", "unknown" or "slow"


@dataclass(frozen=True)
class Item:
    """One thing on the screens: its SSE event name, the entity's id, the body, who may see it, and its place
    in the feed (``seq``, given when it is delivered)."""

    name: str
    id: str | None
    data: dict[str, Any]
    permission: str
    seq: int = 0


Render = Callable[[Event], dict[str, Any] | None]


@dataclass(frozen=True)
class Kind:
    pattern: str
    name: str
    permission: str
    render: Render
    id_field: str | None


class Subscriber:
    """One screen's view of the feed: what it missed before it subscribed (``backlog``, or ``gap`` when that
    is lost), the feed's sequence when it subscribed (``head``), and a queue of what comes after."""

    def __init__(self, loop: asyncio.AbstractEventLoop, principal: Principal) -> None:
        self.loop, self.principal = loop, principal
        self.queue: asyncio.Queue[Item] = asyncio.Queue(QUEUE_ITEMS)
        self.dropped = 0
        self.backlog: list[Item] = []
        self.gap: Gap | None = None
        self.head = 0

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
        # Sequences count per process from its start: ids carry this token, so that an id from another
        # process or an earlier boot reads as a gap, never as a position in this feed.
        self.boot = uuid.uuid4().hex[:8]
        self._seq = 0
        self._ring: deque[Item] = deque(maxlen=RING_ITEMS)

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

    def subscribe(self, principal: Principal, after: str | None = None) -> Subscriber:
        """A new subscriber; with ``after`` (the id of the last item a screen had), its ``backlog`` holds the
        kept items since then that ``principal`` may see, or ``gap`` says why they cannot be had.

        Subscribing and reading the ring happen under the lock that numbers and hands out items, so every
        item is either in the backlog (seq <= head) or in the queue (seq > head): no gap and no repeat."""
        sub = Subscriber(asyncio.get_running_loop(), principal)
        with self._lock:
            self._subs.append(sub)
            sub.head = self._seq
            if after:
                sub.gap = self._missed(sub, after)
        return sub

    def _missed(self, sub: Subscriber, after: str) -> Gap | None:
        """Fill ``sub.backlog`` with the kept items after ``after``; the reason when that cannot be done."""
        seq = self.position(after)
        if seq is None or seq > self._seq:
            return "unknown"
        if seq < self._seq and (not self._ring or self._ring[0].seq > seq + 1):
            return "expired"  # some of what followed it has left the ring
        sub.backlog = [i for i in self._ring if i.seq > seq and sub.principal.can(i.permission)]
        return None

    def event_id(self, seq: int) -> str:
        """The SSE id of the feed's position ``seq``: ``<boot>-<seq>``."""
        return f"{self.boot}-{seq}"

    def position(self, event_id: str) -> int | None:
        """The sequence an id of this feed names; None for an id of another process or boot, or no id."""
        boot, _, seq = event_id.strip().rpartition("-")
        return int(seq) if boot == self.boot and seq.isdigit() else None

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
        """Number ``item``, keep it for replay and hand it to every subscriber allowed to see it (from any
        thread). Handing out under the lock keeps each subscriber's items in sequence order."""
        with self._lock:
            self._seq += 1
            item = replace(item, seq=self._seq)
            self._ring.append(item)
            gone = []
            for sub in self._subs:
                if not sub.principal.can(item.permission):
                    continue
                try:
                    sub.loop.call_soon_threadsafe(sub._put, item)
                except RuntimeError:  # that client's loop is gone
                    gone.append(sub)
            for sub in gone:
                self._subs.remove(sub)

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
