"""The in-process bus of the embedded mode.

Live listeners hear an event when it commits in this process (``announce``), or else as the relay publishes it. Each durable consumer has a thread and a
queue of its own, so a slow consumer (opening a case takes tens of milliseconds) delays neither the live
feed nor the other consumers. ``publish`` returns a future that completes once every matching consumer has
handled the event; the outbox marks the row published only then, so an event a crash interrupted is
published again after the restart (consumers that had handled it skip it through their inbox). If a
consumer raises, the future carries the error and the outbox publishes the event again later.
"""

from __future__ import annotations

import concurrent.futures
import logging
import queue
import threading

from urbanbrain.core.bus import Accept, Event, Handler, matches
from urbanbrain.core.bus.listeners import Listener, Listeners

log = logging.getLogger(__name__)


class _Tracker:
    """The future of one published event: done when each of its consumers has answered."""

    def __init__(self, waiting: int) -> None:
        self.future: concurrent.futures.Future[None] = concurrent.futures.Future()
        self.future.set_running_or_notify_cancel()
        self._waiting = waiting
        self._error: BaseException | None = None
        self._lock = threading.Lock()

    def answer(self, error: BaseException | None) -> None:
        with self._lock:
            self._waiting -= 1
            self._error = self._error or error
            if self._waiting:
                return
        if self._error is None:
            self.future.set_result(None)
        else:
            self.future.set_exception(self._error)


class _Consumer:
    def __init__(self, pattern: str, name: str, handler: Handler, accept: Accept | None) -> None:
        self.pattern, self.name, self.handler, self.accept = pattern, name, handler, accept
        self.queue: queue.SimpleQueue[tuple[Event, _Tracker] | None] = queue.SimpleQueue()
        self.thread = threading.Thread(target=self._run, name=f"bus-{name}", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while True:
            item = self.queue.get()
            if item is None:
                return
            event, tracker = item
            try:
                self.handler(event)
            except Exception as exc:  # answered with the error: the outbox sends the event again later
                log.warning("bus consumer %s failed on %s %s: %r", self.name, event.type, event.id, exc)
                tracker.answer(exc)
            else:
                tracker.answer(None)


class MemoryBus:
    def __init__(self) -> None:
        self._consumers: list[_Consumer] = []
        self._listeners = Listeners()
        self._lock = threading.Lock()

    def subscribe(
        self, pattern: str, consumer: str, handler: Handler, *, accept: Accept | None = None
    ) -> None:
        with self._lock:
            self._consumers.append(_Consumer(pattern, consumer, handler, accept))

    def listen(self, pattern: str, handler: Handler) -> Listener:
        return self._listeners.add(pattern, handler)

    def announce(self, events: list[Event]) -> None:
        for event in events:
            self._listeners.deliver(event)

    def publish(self, event: Event) -> concurrent.futures.Future[None] | None:
        self._listeners.deliver(event)  # nothing when it was announced at its commit
        with self._lock:
            consumers = [c for c in self._consumers if matches(c.pattern, event.type) and _accepts(c, event)]
        if not consumers:
            return None
        tracker = _Tracker(len(consumers))
        for consumer in consumers:
            consumer.queue.put((event, tracker))
        return tracker.future

    def close(self) -> None:
        self._listeners.clear()
        with self._lock:
            consumers, self._consumers = self._consumers, []
        for consumer in consumers:
            consumer.queue.put(None)
        for consumer in consumers:
            consumer.thread.join(timeout=10)


def _accepts(consumer: _Consumer, event: Event) -> bool:
    """The consumer's cheap test, run here: an event it refuses costs no hand-over to its thread."""
    if consumer.accept is None:
        return True
    try:
        return consumer.accept(event)
    except Exception:  # the test could not tell (its database read failed): let the consumer see it
        log.exception("bus consumer %s: accept", consumer.name)
        return True
