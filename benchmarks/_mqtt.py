"""MQTT load and baseline helpers for the ingestion benchmark (a helper module: it prints nothing).

* ``publish_many`` publishes a list of payloads as fast as the broker takes them (or at ``rate`` msg/s),
  keeping up to ``window`` QoS 1 messages in flight per connection instead of one round trip each.
* ``spawn_publisher`` runs ``publish_many`` in a separate process, so that the publisher does not share the
  measured process's CPU (one core for the door, one for the broker and the publisher on a small machine).
* ``bare_subscriber_rate`` is the baseline: the rate at which a plain aiomqtt subscriber that only counts
  receives messages from the broker, the publisher running in its own process.

The load generator speaks MQTT 3.1.1 itself with the door's packet codec (``mqtt_codec``): here aiomqtt published
about 6,000 msg/s and paho-mqtt about 16,000 msg/s at QoS 1, below what the broker and the MQTT door take, so
either would have measured the publisher. It talks to Mosquitto and to the embedded amqtt broker alike.

Mosquitto drops messages, QoS 1 included, for a subscriber more than ``max_queued_messages`` (default 1000)
behind: a publisher faster than the subscriber loses messages there, so compare counts, not only rates, or
pass ``rate``.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from multiprocessing.process import BaseProcess
from multiprocessing.synchronize import Event as EventType

import aiomqtt

from urbanbrain.domains.sensing.ingest import mqtt_codec as codec

_BATCH = 256  # messages encoded per write, at most
_SPAWN = multiprocessing.get_context("spawn")  # no fork of a process with threads and an event loop


async def publish_many(
    host: str,
    port: int,
    topic_for_i: Callable[[int], str],
    payloads: Sequence[bytes],
    qos: int = 1,
    clients: int = 1,
    *,
    rate: float | None = None,
    window: int = 4096,
    hold_open: Callable[[], Awaitable[object]] | None = None,
) -> float:
    """Publish ``payloads[i]`` to ``topic_for_i(i)`` over ``clients`` connections; return the seconds taken.

    At QoS 1 it returns once every message has its PUBACK, at QoS 0 once all were written and the
    connections closed. ``rate`` (msg/s over all connections) paces the publishing; None means flat out.
    A small ``window`` makes the run wait on round trips: Mosquitto does not set TCP_NODELAY by default,
    so its PUBACKs may sit in Nagle's buffer (a window of 100 gave 6,000 msg/s here, 4096 gave 60,000).
    ``hold_open()`` is awaited before the connections close: amqtt acknowledges a message before routing
    it and drops what it has not routed yet when the publisher disconnects.
    """
    if qos not in (0, 1):
        raise ValueError("qos must be 0 or 1")
    n = len(payloads)
    share = None if rate is None else rate / clients
    started = time.perf_counter()
    await asyncio.gather(
        *(
            _publish_range(
                host, port, topic_for_i, payloads, range(c, n, clients), qos, window, share, hold_open
            )
            for c in range(clients)
        )
    )
    return time.perf_counter() - started


def spawn_publisher(
    host: str,
    port: int,
    topics: Sequence[str],
    payloads: Sequence[bytes],
    *,
    qos: int = 1,
    clients: int = 1,
    rate: float | None = None,
    hold_open: EventType | None = None,
) -> BaseProcess:
    """Start a process that publishes ``payloads[i]`` to ``topics[i % len(topics)]``; join it to wait.

    With ``hold_open`` (an event of the "spawn" multiprocessing context), the publisher stays connected
    until it is set: see ``publish_many``.
    """
    process = _SPAWN.Process(
        target=_publisher_main,
        args=(host, port, list(topics), list(payloads), qos, clients, rate, hold_open),
        name="mqtt-publisher",
        daemon=True,
    )
    process.start()
    return process


async def bare_subscriber_rate(
    host: str,
    port: int,
    *,
    qos: int,
    n_messages: int,
    payload: bytes,
    publishers: int = 1,
    rate: float | None = None,
    idle_timeout: float = 3.0,
) -> float:
    """Messages per second received by an aiomqtt subscriber that only counts, from the first to the last.

    The publisher runs in another process with ``publishers`` connections and stays connected until the
    count is done. Waiting ends when all ``n_messages`` arrived or nothing arrived for ``idle_timeout``
    seconds; fewer than ``n_messages`` means the broker dropped some (see the module's docstring).
    """
    topic = f"bench/{uuid.uuid4().hex}/readings"
    count = 0
    first = last = 0.0
    async with aiomqtt.Client(host, port, identifier=f"bench-sub-{uuid.uuid4().hex[:12]}") as subscriber:
        await subscriber.subscribe(topic, qos)

        async def receive() -> None:
            nonlocal count, first, last
            async for _ in subscriber.messages:
                last = time.perf_counter()
                count += 1
                if count == 1:
                    first = last
                if count == n_messages:
                    return

        receiving = asyncio.create_task(receive())
        counted = _SPAWN.Event()
        publisher = spawn_publisher(
            host,
            port,
            [topic],
            [payload] * n_messages,
            qos=qos,
            clients=publishers,
            rate=rate,
            hold_open=counted,
        )
        try:
            seen, quiet_since = -1, time.perf_counter()
            while not receiving.done():
                await asyncio.wait({receiving}, timeout=0.2)
                now = time.perf_counter()
                if count != seen:
                    seen, quiet_since = count, now
                elif now - quiet_since > idle_timeout:
                    break
        finally:
            counted.set()
            receiving.cancel()
            await asyncio.gather(receiving, return_exceptions=True)
            await asyncio.to_thread(publisher.join)
    if count < 2 or last <= first:
        raise RuntimeError(f"the subscriber received {count} of {n_messages} messages: nothing to time")
    return (count - 1) / (last - first)


# The load generator: MQTT 3.1.1 publishing with a window of unacknowledged QoS 1 messages.


class _PublisherLink(asyncio.Protocol):
    def __init__(self) -> None:
        loop = asyncio.get_running_loop()
        self.connack: asyncio.Future[int] = loop.create_future()
        self.closed: asyncio.Future[None] = loop.create_future()
        self.acked = 0
        self.progress = asyncio.Event()
        self.transport: asyncio.Transport | None = None
        self._rx = b""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        data = self._rx + data
        i = 0
        # The broker sends this publisher only CONNACK and PUBACK, four bytes each.
        while len(data) - i >= 4:
            kind = data[i] >> 4
            if kind == 2 and not self.connack.done():
                self.connack.set_result(data[i + 3])
            elif kind == 4:
                self.acked += 1
            else:
                raise RuntimeError(f"unexpected packet type {kind} from the broker")
            i += 4
        self._rx = data[i:]
        self.progress.set()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.closed.done():
            self.closed.set_result(None)
        if not self.connack.done():
            self.connack.set_exception(ConnectionError(f"connection closed before CONNACK: {exc}"))
        self.progress.set()


async def _publish_range(
    host: str,
    port: int,
    topic_for_i: Callable[[int], str],
    payloads: Sequence[bytes],
    indexes: range,
    qos: int,
    window: int,
    rate: float | None,
    hold_open: Callable[[], Awaitable[object]] | None,
) -> None:
    loop = asyncio.get_running_loop()
    link = _PublisherLink()
    transport, _ = await loop.create_connection(lambda: link, host, port)
    # CONNECT: MQTT 3.1.1, clean session, keep-alive off (the run is short).
    transport.write(codec.connect_packet(4, f"bench-pub-{uuid.uuid4().hex[:12]}"))
    code = await asyncio.wait_for(link.connack, 10)
    if code:
        raise ConnectionError(f"the broker refused the publisher: CONNACK code {code}")
    sent = 0
    packet_id = 0
    started = time.perf_counter()
    batch = bytearray()
    batch_size = max(1, min(_BATCH, window // 2))
    for position, i in enumerate(indexes, 1):
        topic = topic_for_i(i).encode()
        payload = payloads[i]
        if qos:
            packet_id = packet_id % 0xFFFF + 1
        batch += codec.publish_packet(topic, payload, qos=qos, packet_id=packet_id)
        sent += 1
        if position % batch_size and position != len(indexes):
            continue
        transport.write(bytes(batch))
        batch.clear()
        while qos and sent - link.acked >= window and not link.closed.done():
            link.progress.clear()
            await link.progress.wait()
        if rate is not None:
            ahead = started + sent / rate - time.perf_counter()
            if ahead > 0:
                await asyncio.sleep(ahead)
        elif transport.get_write_buffer_size() > 1 << 20:
            await asyncio.sleep(0.001)  # let the socket drain
        else:
            await asyncio.sleep(0)
        if link.closed.done():
            raise ConnectionError("the broker closed the publisher's connection")
    while qos and link.acked < sent and not link.closed.done():
        link.progress.clear()
        await link.progress.wait()
    if qos and link.acked < sent:
        raise ConnectionError(f"the broker acknowledged {link.acked} of {sent} messages")
    if hold_open is not None:
        await hold_open()
    transport.write(codec.DISCONNECT)
    transport.close()
    await link.closed


def _publisher_main(
    host: str,
    port: int,
    topics: list[str],
    payloads: list[bytes],
    qos: int,
    clients: int,
    rate: float | None,
    hold_open: EventType | None,
) -> None:
    async def wait_for_release() -> None:
        assert hold_open is not None
        await asyncio.to_thread(hold_open.wait, 600)

    asyncio.run(
        publish_many(
            host,
            port,
            lambda i: topics[i % len(topics)],
            payloads,
            qos,
            clients,
            rate=rate,
            hold_open=None if hold_open is None else wait_for_release,
        )
    )
