"""The live listeners of a bus in this process (``bus.listen``). An event reaches them at most once, however
it arrives: announced at its commit in this process, then published by the relay (and, on NATS, heard back
from the server), each event id is delivered the first time only."""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict

from urbanbrain.core.bus import Event, Handler, matches

log = logging.getLogger(__name__)
RECENT = 20_000  # event ids remembered: far more than are ever in flight between a commit and its relay


class Listener:
    def __init__(self, listeners: Listeners, pattern: str, handler: Handler) -> None:
        self.listeners, self.pattern, self.handler = listeners, pattern, handler

    def close(self) -> None:
        self.listeners.remove(self)


class Listeners:
    def __init__(self) -> None:
        self._all: list[Listener] = []
        self._recent: OrderedDict[str, None] = OrderedDict()
        self._lock = threading.Lock()

    def add(self, pattern: str, handler: Handler) -> Listener:
        listener = Listener(self, pattern, handler)
        with self._lock:
            self._all.append(listener)
        return listener

    def remove(self, listener: Listener) -> None:
        with self._lock:
            if listener in self._all:
                self._all.remove(listener)

    def clear(self) -> None:
        with self._lock:
            self._all.clear()

    def deliver(self, event: Event) -> None:
        """Hand ``event`` to the matching listeners, unless it was delivered before."""
        with self._lock:
            if not self._all or event.id in self._recent:
                return
            self._recent[event.id] = None
            if len(self._recent) > RECENT:
                self._recent.popitem(last=False)
            matching = [x for x in self._all if matches(x.pattern, event.type)]
        for listener in matching:
            try:
                listener.handler(event)
            except Exception:  # a live feed's trouble is its own: the event goes on to the others
                log.exception("bus listener on %s", listener.pattern)
