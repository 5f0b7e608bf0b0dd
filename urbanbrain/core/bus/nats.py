"""NATS JetStream backend: durable streams, acked publishes, durable pull consumers.

nats-py is asyncio; the rest of UrbanBrain is synchronous, so the bus runs its own event loop in a daemon
thread (:class:`~urbanbrain.core.bus.loop_thread.LoopThread`) and the public methods block on it. Publishing sets ``Nats-Msg-Id`` to the event id, so the
stream drops a duplicate publish of the same outbox row; a handler's failure naks the message for redelivery.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import nats
import nats.js.errors
from nats.js.api import StreamConfig

from urbanbrain.core.bus import Accept, Event, Handler
from urbanbrain.core.bus.listeners import Listener, Listeners
from urbanbrain.core.bus.loop_thread import LoopThread

SUBJECT_PREFIX = "ub."
log = logging.getLogger(__name__)


class NatsBus:
    def __init__(self, url: str, *, stream: str | None = None, fetch_batch: int = 256) -> None:
        parts = urlsplit(url)
        query = parse_qs(parts.query)
        self.server = f"nats://{parts.netloc}"
        self.stream = stream or query.get("stream", ["URBANBRAIN"])[0]
        self.prefix = SUBJECT_PREFIX + (query.get("prefix", [""])[0])
        self.fetch_batch = fetch_batch
        self._listeners = Listeners()
        self._everything: Any = None  # the plain subscription the live listeners hear through
        self._io = LoopThread("nats-bus")
        self._io.start()
        self._io.call(self._connect())

    async def _connect(self) -> None:
        self._nc = await nats.connect(self.server, max_reconnect_attempts=-1)
        self._js = self._nc.jetstream()
        subject = self.prefix + ">"
        try:
            info = await self._js.stream_info(self.stream)
        except nats.js.errors.NotFoundError:
            await self._js.add_stream(StreamConfig(name=self.stream, subjects=[subject]))
            return
        # An operator may have tuned the stream (retention, replicas): keep that, only add our subject.
        subjects = list(info.config.subjects or [])
        if subject not in subjects:
            info.config.subjects = subjects + [subject]
            await self._js.update_stream(info.config)

    def subject(self, event_type: str) -> str:
        return self.prefix + event_type

    def publish(self, event: Event) -> None:
        """Return once JetStream has stored the event."""
        body = json.dumps(
            {
                "id": event.id,
                "type": event.type,
                "at": event.occurred_at.isoformat(),
                "payload": event.payload,
            },
            ensure_ascii=False,
            default=str,
        ).encode()
        self._io.call(self._js.publish(self.subject(event.type), body, headers={"Nats-Msg-Id": event.id}))

    def subscribe(
        self, pattern: str, consumer: str, handler: Handler, *, accept: Accept | None = None
    ) -> None:
        durable = re.sub(r"[^A-Za-z0-9_-]", "_", consumer)
        sub = self._io.call(
            self._js.pull_subscribe(self.subject(pattern), durable=durable, stream=self.stream)
        )
        self._io.spawn(self._pump(sub, handler, accept))

    def listen(self, pattern: str, handler: Handler) -> Listener:
        """Every process hears every event through one plain NATS subscription on the stream's subjects
        (JetStream's publishes reach it too, with no consumer state on the server); this process's own
        events it hears at their commit already (``announce``), and once only."""
        if self._everything is None:
            self._everything = self._io.call(self._nc.subscribe(self.subject(">"), cb=self._arrived))
        return self._listeners.add(pattern, handler)

    async def _arrived(self, msg: Any) -> None:
        try:
            self._listeners.deliver(_decode(msg.data))
        except Exception:
            log.exception("bus: an event from NATS could not be read")

    def announce(self, events: list[Event]) -> None:
        for event in events:
            self._listeners.deliver(event)

    async def _pump(self, sub: Any, handler: Handler, accept: Accept | None) -> None:
        loop = asyncio.get_running_loop()
        while not self._io.stopping:
            try:
                msgs = await sub.fetch(self.fetch_batch, timeout=0.5)
            except (TimeoutError, nats.errors.TimeoutError):
                continue
            except Exception:
                if self._io.stopping:
                    return
                await asyncio.sleep(0.5)
                continue
            for msg in msgs:
                event = _decode(msg.data)
                try:
                    await loop.run_in_executor(None, _handle, accept, handler, event)
                except Exception:
                    await msg.nak(delay=1.0)
                else:
                    await msg.ack()

    def close(self) -> None:
        # Pumps ack each message before fetching the next, so stopping them loses nothing acknowledged.
        self._io.stop(self._nc.close, timeout=10)

    def unsubscribe(self, sub: Any) -> None:
        if not self._io.stopping and self._io.running:
            self._io.call(sub.unsubscribe())

    def delete_stream(self) -> None:
        """For tests and tear-down: remove this bus's stream from the server."""
        self._io.call(self._js.delete_stream(self.stream))


def _handle(accept: Accept | None, handler: Handler, event: Event) -> None:
    if accept is None or accept(event):
        handler(event)


def _decode(data: bytes) -> Event:
    body = json.loads(data)
    return Event(body["id"], body["type"], datetime.fromisoformat(body["at"]), body["payload"])
