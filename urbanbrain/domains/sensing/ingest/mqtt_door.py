"""The MQTT door of the sensing platform: device readings from the broker to the ingestion pipeline.

Devices publish to ``ub/<district>/devices/<device_id>/readings`` (``topic_for``). The door subscribes to its
district's readings and hands each message to ``handle(device_id, topic, payload)``, the device id read from
the topic (None when the topic does not name one). It never parses payloads: that is the pipeline's job.

**Nothing acknowledged is ever lost.** At QoS 1 the door sends a message's PUBACK only after ``handle``
returned. If ``handle`` raises, the door leaves the message unacknowledged, disconnects and reconnects to the
same session (clean start off, kept ``session_expiry`` seconds by the broker), and the broker redelivers it
with everything after it. A message may reach ``handle`` twice, never zero times: the pipeline drops repeats.

**In order, overlapped, bounded.** Messages reach ``handle`` one at a time, in the broker's order; ``handle``
may return an awaitable (the journal commits in groups), so the door goes on with the next message and sends
the PUBACKs in arrival order as each becomes durable. While ``handle`` waits, the door holds at most
``max_in_flight`` messages: MQTT 5's Receive Maximum, or (3.1.1, QoS 0) it stops reading the socket.

**Scale-out.** Doors given the same ``shared_group`` share one MQTT 5 shared subscription; each needs its own
stable ``client_id`` so that a restarted worker resumes its session.

**Why hand-written.** No client library gives acknowledgements under the application's control at this rate
(paho-mqtt, measured, took a tenth of this door's messages per second; docs/performance.md). The packets are
in ``mqtt_codec.py``. **Brokers:** Mosquitto drops messages beyond ``max_queued_messages`` per client, QoS 1
included (set it to the backlog to absorb); the embedded amqtt speaks 3.1.1 only (``protocol=4``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import re
import socket
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any, NoReturn, cast

from urbanbrain.domains.sensing.ingest import mqtt_codec as codec

log = logging.getLogger(__name__)

DEFAULT_DISTRICT = "440304"  # Futian, Shenzhen: the demo district
TOPIC_TEMPLATE = "ub/{district}/devices/{device_id}/readings"

_DISTRICT = r"[A-Za-z0-9_-]{1,32}"
_DEVICE_ID = r"[A-Za-z0-9._:-]{1,64}"
_DISTRICT_RE = re.compile(_DISTRICT)
_DEVICE_ID_RE = re.compile(_DEVICE_ID)
_GROUP_RE = re.compile(r"[A-Za-z0-9_-]{1,64}")
_TOPIC_RE = re.compile(rf"ub/{_DISTRICT}/devices/({_DEVICE_ID})/readings")

_QUICKACK: int | None = getattr(socket, "TCP_QUICKACK", None)  # Linux only

Handler = Callable[[str | None, str, bytes], Awaitable[Awaitable[object] | None]]
"""``async def handle(device_id, topic, payload)``: returns once the pipeline has taken the message, with
None when it is already durable, or an awaitable that completes when it is (the door acknowledges then)."""


def topic_for(district: str, device_id: str) -> str:
    """The topic a device publishes its readings to."""
    _check(_DISTRICT_RE, district, "district")
    _check(_DEVICE_ID_RE, device_id, "device id")
    return TOPIC_TEMPLATE.format(district=district, device_id=device_id)


def subscription(district: str = DEFAULT_DISTRICT, shared_group: str | None = None) -> str:
    """The topic filter of a district's readings; an MQTT 5 shared subscription when ``shared_group`` is given."""
    _check(_DISTRICT_RE, district, "district")
    topic_filter = TOPIC_TEMPLATE.format(district=district, device_id="+")
    if shared_group is None:
        return topic_filter
    _check(_GROUP_RE, shared_group, "shared group")
    return f"$share/{shared_group}/{topic_filter}"


def device_from_topic(topic: str) -> str | None:
    """The device id named by a readings topic, or None when ``topic`` is not one."""
    match = _TOPIC_RE.fullmatch(topic)
    return match.group(1) if match else None


def _check(pattern: re.Pattern[str], value: str, what: str) -> None:
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise ValueError(f"invalid {what} {value!r}: expected {pattern.pattern}")


class MqttDoorError(RuntimeError):
    """The broker refused the door in a way that retrying will not fix: credentials, protocol, permissions."""


class _ConnectionLost(Exception):
    pass


class _HandlerFailed(Exception):
    pass


class MqttDoor:
    """Subscribes to a district's readings and hands them, one at a time, to ``handle``.

    ``protocol`` is 5 (MQTT 5) or 4 (MQTT 3.1.1, what amqtt speaks). ``clean_start=True`` drops the session
    left by an earlier run on the first connection only; reconnections always resume it. ``session_expiry``
    is how long the broker keeps the session, and the messages for it, while the door is away (MQTT 3.1.1
    has no expiry: 0 asks for a clean session, anything else for a persistent one).

    ``stats`` counts messages ``received`` from the broker, ``handled`` (``handle`` returned), ``acked``
    (PUBACK sent), ``failed`` (``handle`` raised) and ``reconnects``; ``connected`` is True while the door
    is subscribed, for health checks.
    """

    def __init__(
        self,
        host: str,
        port: int = 1883,
        *,
        handle: Handler,
        district: str = DEFAULT_DISTRICT,
        username: str | None = None,
        password: str | None = None,
        client_id: str | None = None,
        shared_group: str | None = None,
        qos: int = 1,
        protocol: int = 5,
        clean_start: bool = False,
        session_expiry: int = 3600,
        max_in_flight: int = 1000,
        keepalive: int = 60,
        connect_timeout: float = 10.0,
        max_backoff: float = 10.0,
    ) -> None:
        if qos not in (0, 1):
            raise ValueError("qos must be 0 or 1: the door does not take QoS 2")
        if protocol not in (4, 5):
            raise ValueError("protocol must be 5 (MQTT 5) or 4 (MQTT 3.1.1)")
        if shared_group is not None and client_id is None:
            raise ValueError(
                "a door in a shared group needs its own stable client_id (e.g. the worker's name), "
                "so that a restarted worker resumes its session"
            )
        if password is not None and username is None:
            raise ValueError("a password needs a username")
        if not 1 <= max_in_flight <= 65535:
            raise ValueError("max_in_flight must be between 1 and 65535")
        if not 0 <= session_expiry <= 0xFFFFFFFF or not 0 < keepalive <= 65535:
            raise ValueError("session_expiry or keepalive out of range")
        self.host = host
        self.port = port
        self.district = district
        self.topic_filter = subscription(district, shared_group)
        self.client_id = client_id or f"ub-door-{district}"
        self.qos = qos
        self.protocol = protocol
        self.clean_start = clean_start
        self.session_expiry = session_expiry
        self.max_in_flight = max_in_flight
        self.keepalive = keepalive
        self.connect_timeout = connect_timeout
        self.max_backoff = max_backoff
        self.stats: dict[str, int] = dict.fromkeys(
            ("received", "handled", "acked", "failed", "reconnects"), 0
        )
        self._handle = handle
        self._username = username
        self._password = password
        self._progressed = False
        self.connected = False

    async def run(self, ready: asyncio.Event | None = None) -> None:
        """Connect, subscribe and hand messages on until cancelled; set ``ready`` once subscribed.

        Lost connections and handler failures are retried with backoff; a refusal that retrying cannot fix
        (bad credentials, unsupported protocol, subscription denied) raises ``MqttDoorError``.
        """
        clean_start = self.clean_start
        failures = 0
        while True:
            self._progressed = False
            try:
                await self._serve_connection(ready, clean_start)
            except _HandlerFailed:
                pass  # logged where it happened
            except (_ConnectionLost, OSError, TimeoutError) as exc:
                log.warning("MQTT door %s: %s; reconnecting", self.client_id, exc or type(exc).__name__)
            clean_start = False
            failures = 0 if self._progressed else failures + 1
            self.stats["reconnects"] += 1
            delay = min(self.max_backoff, 0.1 * 2**failures)  # 50 ms at least: see broker.py on amqtt
            await asyncio.sleep(delay * random.uniform(0.5, 1.0))

    async def _serve_connection(self, ready: asyncio.Event | None, clean_start: bool) -> None:
        """One connection, from CONNECT until it is lost or ``handle`` fails (both raise)."""
        loop = asyncio.get_running_loop()
        link = _Link(self.protocol, max(1, self.max_in_flight - 1), self.stats)
        await asyncio.wait_for(
            loop.create_connection(lambda: link, self.host, self.port), self.connect_timeout
        )
        try:
            link.send(self._connect_packet(clean_start))
            # amqtt and other MQTT 3.1.1-only brokers do not answer an MQTT 5 CONNECT at all.
            hint = (
                " (a broker that speaks only MQTT 3.1.1, such as amqtt, needs protocol=4)"
                if self.protocol == 5
                else ""
            )
            code = await link.wait_for(link.connack, self.connect_timeout, "CONNACK", hint)
            if code:
                self._refused(code)
            link.start_keepalive(self.keepalive)
            link.send(codec.subscribe_packet(self.protocol, 1, self.topic_filter, self.qos))
            subscribed = False
            messages = link.messages
            handle = self._handle
            stats = self.stats
            # (durable, packet id, qos) of messages handed on but not yet acknowledged, in arrival order:
            # MQTT acknowledges QoS 1 messages in the order they arrived.
            pending: deque[tuple[asyncio.Future[object] | None, int, int]] = deque()
            while True:
                if not subscribed and link.suback.done():
                    self._check_suback(link.suback.result())
                    subscribed = self.connected = True
                    log.info("MQTT door %s subscribed to %s", self.client_id, self.topic_filter)
                    if ready is not None:
                        ready.set()
                while pending and (pending[0][0] is None or pending[0][0].done()):
                    self._acknowledge(link, pending.popleft())
                head = pending[0][0] if pending else None
                if not messages or len(pending) >= self.max_in_flight:
                    if link.lost.done():
                        raise _ConnectionLost(link.lost.result())
                    link.waiter = loop.create_future()
                    wake: set[asyncio.Future[Any]] = {link.waiter}
                    if head is not None:
                        wake.add(head)
                    await asyncio.wait(wake, return_when=asyncio.FIRST_COMPLETED)
                    continue
                topic, payload, packet_id, qos = messages.popleft()
                if link.paused:
                    link.read_more()
                try:
                    durable = await handle(device_from_topic(topic), topic, payload)
                except Exception as exc:
                    self._failed(topic, exc)
                stats["handled"] += 1
                self._progressed = True
                pending.append(
                    (asyncio.ensure_future(durable) if durable is not None else None, packet_id, qos)
                )
        finally:
            self.connected = False
            link.close()

    def _acknowledge(self, link: _Link, entry: tuple[asyncio.Future[object] | None, int, int]) -> None:
        """PUBACK a message whose handling is durable; a failed one ends the connection unacknowledged."""
        durable, packet_id, qos = entry
        if durable is not None and durable.exception() is not None:
            self._failed("the pipeline", durable.exception())
        if qos:
            if link.lost.done():  # too late to acknowledge: the broker will redeliver it
                raise _ConnectionLost(link.lost.result())
            link.ack(packet_id)
            self.stats["acked"] += 1

    def _failed(self, where: str, exc: BaseException | None) -> NoReturn:
        self.stats["failed"] += 1
        log.error(
            "MQTT door %s: handling a message from %s failed; leaving it unacknowledged and reconnecting "
            "so that the broker redelivers it",
            self.client_id,
            where,
            exc_info=exc,
        )
        raise _HandlerFailed from exc

    def _connect_packet(self, clean_start: bool) -> bytes:
        return codec.connect_packet(
            self.protocol, self.client_id, username=self._username, password=self._password,
            keepalive=self.keepalive, clean_start=clean_start, session_expiry=self.session_expiry,
            receive_maximum=self.max_in_flight,
        )  # fmt: skip

    def _refused(self, code: int) -> None:
        reason = codec.CONNACK_REASONS.get(code, f"reason code {code:#x}")
        if code in codec.TRANSIENT_REFUSALS:
            raise _ConnectionLost(f"broker refused the connection: {reason}")
        hint = ""
        if code in (0x01, 0x84) and self.protocol == 5:
            hint = " (the broker does not speak MQTT 5: pass protocol=4)"
        raise MqttDoorError(
            f"MQTT broker {self.host}:{self.port} refused the door {self.client_id!r}: {reason}{hint}"
        )

    def _check_suback(self, codes: list[int]) -> None:
        if not codes or codes[0] >= 0x80:
            code = codes[0] if codes else 0x80
            raise MqttDoorError(
                f"MQTT broker {self.host}:{self.port} refused the subscription {self.topic_filter!r} "
                f"of {self.client_id!r}: {codec.SUBACK_REASONS.get(code, f'reason code {code:#x}')}"
            )
        if codes[0] < self.qos:
            log.warning(
                "MQTT door %s: the broker granted QoS %d, not %d: messages arrive unacknowledged and a "
                "crash loses those not yet handled",
                self.client_id,
                codes[0],
                self.qos,
            )


class _Link(asyncio.Protocol):
    """One connection: parses what arrives, queues PUBLISHes for the door, answers with batched PUBACKs."""

    def __init__(self, protocol: int, high_water: int, stats: dict[str, int]) -> None:
        self.loop = asyncio.get_running_loop()
        self.v5 = protocol == 5
        self.high = high_water
        self.low = high_water // 2
        self.stats = stats
        self.messages: deque[tuple[str, bytes, int, int]] = deque()
        self.connack: asyncio.Future[int] = self.loop.create_future()
        self.suback: asyncio.Future[list[int]] = self.loop.create_future()
        self.lost: asyncio.Future[str] = self.loop.create_future()
        self.waiter: asyncio.Future[None] | None = None
        self.paused = False
        self.transport: asyncio.Transport | None = None
        self._sock: Any = None
        self.last_rx = self.last_tx = time.monotonic()
        self._rx = b""
        self._acks = bytearray()
        self._flush_scheduled = False
        self._keepalive = 0
        self._timer: asyncio.TimerHandle | None = None

    # asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)
        self._sock = transport.get_extra_info("socket")

    def data_received(self, data: bytes) -> None:
        self.last_rx = time.monotonic()
        if _QUICKACK is not None and self._sock is not None:
            # The PUBACKs wait for the journal, so no reply carries the TCP acknowledgement at once; a
            # delayed ACK (40 ms on Linux) then holds the broker's next PUBLISH in its Nagle buffer
            # (Mosquitto leaves Nagle on unless set_tcp_nodelay): 300 msg/s instead of thousands.
            # Linux clears quick-ack mode by itself, so it is set again on every read.
            with contextlib.suppress(OSError):
                self._sock.setsockopt(socket.IPPROTO_TCP, _QUICKACK, 1)
        self._rx = self._rx + data if self._rx else data
        self._parse()

    def connection_lost(self, exc: Exception | None) -> None:
        self._lose(f"connection lost: {exc}" if exc else "connection closed by the broker")

    # used by the door

    async def wait_for(self, fut: asyncio.Future[int], timeout: float, what: str, hint: str = "") -> int:
        either: set[asyncio.Future[int] | asyncio.Future[str]] = {fut, self.lost}
        done, _ = await asyncio.wait(either, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        if fut in done:
            return fut.result()
        raise _ConnectionLost(
            self.lost.result() if self.lost.done() else f"no {what} within {timeout:g} s{hint}"
        )

    def send(self, packet: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(packet)
            self.last_tx = time.monotonic()

    def ack(self, packet_id: int) -> None:
        # Sent at the next turn of the event loop: a batch handled without waiting goes out in one write.
        self._acks += bytes((0x40, 2, packet_id >> 8, packet_id & 0xFF))
        if not self._flush_scheduled:
            self._flush_scheduled = True
            self.loop.call_soon(self._flush)

    def read_more(self) -> None:
        """Called as the door drains ``messages``: parse what was held back, then read the socket again."""
        if len(self.messages) > self.low:
            return
        self._parse()
        if self.paused and len(self.messages) < self.high:
            self.paused = False
            self.last_rx = time.monotonic()
            if self.transport is not None and not self.transport.is_closing():
                self.transport.resume_reading()

    def start_keepalive(self, keepalive: int) -> None:
        self._keepalive = keepalive
        self._timer = self.loop.call_later(keepalive / 2, self._tick)

    def close(self) -> None:
        """Send the pending PUBACKs and a DISCONNECT, then close; the broker keeps the session."""
        if self._timer is not None:
            self._timer.cancel()
        if self.transport is not None and not self.transport.is_closing():
            self._flush()
            self.transport.write(codec.DISCONNECT)
            self.transport.close()
        self._lose("closed by the door")

    # internals

    def _flush(self) -> None:
        self._flush_scheduled = False
        if self._acks:
            acks, self._acks = self._acks, bytearray()
            self.send(bytes(acks))

    def _tick(self) -> None:
        if self.lost.done():
            return
        now = time.monotonic()
        if not self.paused and now - self.last_rx > 1.5 * self._keepalive:
            self._lose(f"no packet from the broker for {1.5 * self._keepalive:g} s")
            if self.transport is not None:
                self.transport.abort()
            return
        if now - self.last_tx >= self._keepalive / 2:
            self.send(codec.PINGREQ)
        self._timer = self.loop.call_later(self._keepalive / 2, self._tick)

    def _lose(self, reason: str) -> None:
        if not self.lost.done():
            self.lost.set_result(reason)
        self._wake()

    def _wake(self) -> None:
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _parse(self) -> None:
        data = self._rx
        n = len(data)
        i = 0
        messages = self.messages
        high = self.high
        v5 = self.v5
        received = 0
        try:
            while len(messages) < high and n - i >= 2:
                first = data[i]
                length = data[i + 1]
                if length < 0x80:
                    start = i + 2
                else:
                    header = codec.read_varint(data, i + 1)
                    if header is None:
                        break
                    length, start = header
                end = start + length
                if end > n:
                    break
                if first >> 4 == 3:  # PUBLISH
                    qos = (first >> 1) & 3
                    k = start + 2 + ((data[start] << 8) | data[start + 1])
                    if k > end:
                        raise codec.ProtocolError("PUBLISH topic longer than the packet")
                    topic = data[start + 2 : k].decode("utf-8", "replace")
                    packet_id = 0
                    if qos:
                        if qos == 2:
                            raise codec.ProtocolError("PUBLISH at QoS 2 on a QoS 1 subscription")
                        packet_id = (data[k] << 8) | data[k + 1]
                        k += 2
                    if v5:  # skip the properties
                        props = codec.read_varint(data, k)
                        if props is None or props[1] + props[0] > end:
                            raise codec.ProtocolError("bad PUBLISH properties")
                        k = props[1] + props[0]
                    messages.append((topic, data[k:end], packet_id, qos))
                    received += 1
                else:
                    self._control(first, data[start:end])
                i = end
        except (codec.ProtocolError, IndexError) as exc:
            log.warning("MQTT door: malformed packet from the broker (%s); dropping the connection", exc)
            self._lose(f"protocol error: {exc}")
            if self.transport is not None:
                self.transport.abort()
            return
        self._rx = data[i:] if i < n else b""
        if received:
            self.stats["received"] += received
            self._wake()
        if len(messages) >= high and not self.paused and self.transport is not None:
            self.paused = True
            self.transport.pause_reading()

    def _control(self, first: int, body: bytes) -> None:
        kind = first >> 4
        if kind == 2:  # CONNACK: flags, reason code[, properties]
            if not self.connack.done():
                self.connack.set_result(body[1])
        elif kind == 9:  # SUBACK: packet id[, properties], reason codes
            codes = codec.suback_codes(body, self.v5)
            if not self.suback.done():
                self.suback.set_result(codes)
                self._wake()
        elif kind == 13:  # PINGRESP
            pass
        elif kind == 14:  # DISCONNECT from an MQTT 5 broker
            code = body[0] if body else 0
            reason = codec.DISCONNECT_REASONS.get(code, f"reason code {code:#x}")
            log.warning("MQTT door: the broker disconnected us: %s", reason)
            self._lose(f"disconnected by the broker: {reason}")
        else:
            raise codec.ProtocolError(f"unexpected packet type {kind}")
