"""The live stream of alarms for the command centre: the pipeline (a thread) publishes, each SSE client (an
asyncio task) reads its own bounded queue; a client too slow to keep up loses the oldest items and is told."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any

QUEUE_ITEMS = 1000


class Subscriber:
    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(QUEUE_ITEMS)
        self.dropped = 0

    def _put(self, item: dict[str, Any]) -> None:
        if self.queue.full():
            self.queue.get_nowait()
            self.dropped += 1
        self.queue.put_nowait(item)


class Hub:
    def __init__(self) -> None:
        self._subs: list[Subscriber] = []
        self._lock = threading.Lock()
        self.forward: Callable[[list[dict[str, Any]]], None] | None = None

    def subscribe(self) -> Subscriber:
        sub = Subscriber(asyncio.get_running_loop())
        with self._lock:
            self._subs.append(sub)
        return sub

    def unsubscribe(self, sub: Subscriber) -> None:
        with self._lock:
            if sub in self._subs:
                self._subs.remove(sub)

    def publish(self, items: list[dict[str, Any]]) -> None:
        """From any thread: hand each item to every subscriber's loop, and to the other processes' streams
        when the platform is scaled out (``forward``, set by the readings stream)."""
        if not items:
            return
        self.deliver(items)
        if self.forward is not None:
            self.forward(items)

    def deliver(self, items: list[dict[str, Any]]) -> None:
        """To this process's subscribers only (items another process raised arrive here)."""
        with self._lock:
            subs = list(self._subs)
        for sub in subs:
            for item in items:
                try:
                    sub.loop.call_soon_threadsafe(sub._put, item)
                except RuntimeError:  # that client's loop is gone
                    self.unsubscribe(sub)
                    break

    def __len__(self) -> int:
        return len(self._subs)
