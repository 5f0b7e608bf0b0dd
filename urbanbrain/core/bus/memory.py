"""In-process bus for the embedded mode: delivery is synchronous, inside the outbox relay.

If any handler raises, ``publish`` raises too, the outbox row stays unpublished, and the relay tries
again later; handlers that already succeeded see the event twice and skip it through their inbox.
"""

from __future__ import annotations

import threading

from urbanbrain.core.bus import Event, Handler, matches


class MemoryBus:
    def __init__(self) -> None:
        self._subs: list[tuple[str, str, Handler]] = []
        self._lock = threading.Lock()

    def subscribe(self, pattern: str, consumer: str, handler: Handler) -> None:
        with self._lock:
            self._subs.append((pattern, consumer, handler))

    def publish(self, event: Event) -> None:
        with self._lock:
            subs = list(self._subs)
        errors: list[BaseException] = []
        for pattern, _consumer, handler in subs:
            if matches(pattern, event.type):
                try:
                    handler(event)
                except Exception as exc:  # one failing consumer must not starve the others
                    errors.append(exc)
        if errors:
            raise errors[0]

    def close(self) -> None:
        with self._lock:
            self._subs.clear()
