"""The in-process bus of the embedded mode.

Live listeners hear an event inline, as the relay publishes it. Each durable consumer has a thread and a
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
                if self.accept is None or self.accept(event):
                    self.handler(event)
            except Exception as exc:  # answered with the error: the outbox sends the event again later
                log.warning("bus consumer %s failed on %s %s: %r", self.name, event.type, event.id, exc)
                tracker.answer(exc)
            else:
                tracker.answer(None)


class _Listener:
    def __init__(self, bus: MemoryBus, pattern: str, handler: Handler) -> None:
        self.bus, self.pattern, self.handler = bus, pattern, handler

    def close(self) -> None:
        with self.bus._lock:
            if self in self.bus._listeners:
                self.bus._listeners.remove(self)


class MemoryBus:
    def __init__(self) -> None:
        self._consumers: list[_Consumer] = []
        self._listeners: list[_Listener] = []
        self._lock = threading.Lock()

    def subscribe(
        self, pattern: str, consumer: str, handler: Handler, *, accept: Accept | None = None
    ) -> None:
        with self._lock:
            self._consumers.append(_Consumer(pattern, consumer, handler, accept))

    def listen(self, pattern: str, handler: Handler) -> _Listener:
        listener = _Listener(self, pattern, handler)
        with self._lock:
            self._listeners.append(listener)
        return listener

    def publish(self, event: Event) -> concurrent.futures.Future[None] | None:
        with self._lock:
            listeners = [x for x in self._listeners if matches(x.pattern, event.type)]
            consumers = [c for c in self._consumers if matches(c.pattern, event.type)]
        for listener in listeners:
            try:
                listener.handler(event)
            except Exception:  # a live feed's trouble is its own: the event goes on to the consumers
                log.exception("bus listener on %s", listener.pattern)
        if not consumers:
            return None
        tracker = _Tracker(len(consumers))
        for consumer in consumers:
            consumer.queue.put((event, tracker))
        return tracker.future

    def close(self) -> None:
        with self._lock:
            consumers, self._consumers, self._listeners = self._consumers, [], []
        for consumer in consumers:
            consumer.queue.put(None)
        for consumer in consumers:
            consumer.thread.join(timeout=10)
