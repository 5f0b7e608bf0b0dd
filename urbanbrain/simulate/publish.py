"""How simulated devices reach the platform (``simulate_devices`` makes their messages): over HTTP in batches,
over MQTT one message per reading (or one array per device), and :func:`run`, which paces a simulator's
ticks at a chosen speed of simulated time."""

from __future__ import annotations

import asyncio
import logging
import math
import time
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any, Protocol

import aiomqtt
import httpx

from urbanbrain.simulate.devices import (
    READINGS_PATH,
    Message,
    Simulator,
    encode_batch,
    encode_one,
)

# -------------------------------------------------------------------------------------------- publishers


class PublishError(RuntimeError):
    """The platform refused a batch (other than asking to slow down), or could not be reached."""


class Publisher(Protocol):
    async def publish(self, messages: Sequence[Message]) -> int: ...

    async def close(self) -> None: ...


def _retry_after(response: httpx.Response, default: float, cap: float) -> float:
    header = response.headers.get("Retry-After")
    if header is None:
        return default
    try:
        wait = float(header)
    except ValueError:
        try:
            wait = parsedate_to_datetime(header).timestamp() - time.time()
        except (TypeError, ValueError):
            return default
    return min(cap, max(0.0, wait))


class HttpPublisher:
    """Posts JSON arrays of up to ``batch`` messages to the readings endpoint. A 429 or 503 is waited out
    (``Retry-After``, at most ``max_wait_s``) and the same batch sent again, for as long as the platform
    asks; a connection error is retried ``max_attempts`` times with doubling waits; any other refusal raises
    :class:`PublishError`."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        batch: int = 1000,
        *,
        timeout: float = 30.0,
        max_attempts: int = 6,
        max_wait_s: float = 60.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.batch, self.max_attempts, self.max_wait_s = batch, max_attempts, max_wait_s
        self.url = base_url.rstrip("/") + READINGS_PATH
        self.requests = self.throttled = self.sent = 0
        self._client = httpx.AsyncClient(
            headers={"X-API-Key": api_key, "Content-Type": "application/json"},
            timeout=timeout,
            transport=transport,
        )

    async def publish(self, messages: Sequence[Message]) -> int:
        for i in range(0, len(messages), self.batch):
            chunk = messages[i : i + self.batch]
            await self._post(encode_batch(chunk))
            self.sent += len(chunk)
        return len(messages)

    async def _post(self, body: bytes) -> None:
        failures = 0
        while True:
            self.requests += 1
            try:
                response = await self._client.post(self.url, content=body)
            except httpx.TransportError as exc:
                failures += 1
                if failures >= self.max_attempts:
                    raise PublishError(f"POST {self.url} failed {failures} times: {exc!r}") from exc
                await asyncio.sleep(min(self.max_wait_s, 0.25 * 2**failures))
                continue
            if response.status_code in (429, 503):
                self.throttled += 1
                await asyncio.sleep(_retry_after(response, 1.0, self.max_wait_s))
                continue
            if response.is_success:
                return
            raise PublishError(f"POST {self.url} answered {response.status_code}: {response.text[:300]}")

    async def close(self) -> None:
        await self._client.aclose()


_QUIET_MQTT_LOG = logging.getLogger("urbanbrain.simulate.mqtt")
_QUIET_MQTT_LOG.setLevel(logging.ERROR)


class MqttPublisher:
    """Publishes to ``ub/<district>/devices/<device id>/readings``: one MQTT message per reading, or with
    ``batch_per_message`` one JSON array per device per call. Connects on the first publish; with QoS 1
    ``publish`` returns once the broker has acknowledged every message."""

    def __init__(
        self,
        host: str,
        port: int = 1883,
        district: str = "440304",
        qos: int = 1,
        batch_per_message: bool = False,
        *,
        username: str | None = None,
        password: str | None = None,
        identifier: str | None = None,
        timeout: float = 60.0,
        max_inflight: int = 256,
    ) -> None:
        self.host, self.port, self.district, self.qos = host, port, district, qos
        self.batch_per_message, self.timeout = batch_per_message, timeout
        self.sent = 0
        self._options: dict[str, Any] = {
            "username": username,
            "password": password,
            "identifier": identifier,
            "max_inflight_messages": max_inflight,
            # a report of a thousand devices is a thousand publishes in flight, by design: aiomqtt would warn
            # about more than ten on every call
            "logger": _QUIET_MQTT_LOG,
        }
        self._client: aiomqtt.Client | None = None

    def topic(self, device_id: str) -> str:
        return f"ub/{self.district}/devices/{device_id}/readings"

    async def publish(self, messages: Sequence[Message]) -> int:
        if self._client is None:
            client = aiomqtt.Client(self.host, self.port, **self._options)
            await client.__aenter__()
            self._client = client
        if self.batch_per_message:
            by_device: dict[str, list[Message]] = {}
            for m in messages:
                by_device.setdefault(m["device"], []).append(m)
            outgoing = [(self.topic(d), encode_batch(ms)) for d, ms in by_device.items()]
        else:
            outgoing = [(self.topic(m["device"]), encode_one(m)) for m in messages]
        client = self._client
        await asyncio.gather(*(client.publish(t, p, qos=self.qos, timeout=self.timeout) for t, p in outgoing))
        self.sent += len(messages)
        return len(messages)

    async def close(self) -> None:
        if self._client is not None:
            client, self._client = self._client, None
            await client.__aexit__(None, None, None)


# -------------------------------------------------------------------------------------------------- run


@dataclass
class RunStats:
    ticks: int = 0
    messages: int = 0
    sim_seconds: float = 0.0
    wall_seconds: float = 0.0


async def run(
    simulator: Simulator,
    publisher: Publisher,
    *,
    speed: float,
    until_ts: float = math.inf,
    realtime: bool = False,
) -> RunStats:
    """Publish the simulator's ticks until ``until_ts`` with simulated time running ``speed`` times real
    time (0 or ``inf``: as fast as the publisher takes them). Paced, a tick goes out in slices as simulated
    time passes each message's ``ts`` (slices of at least a second, and of a tenth of a real second), so the
    platform never gets a reading from its future. ``realtime`` (live devices, speed 1): simulated time is
    the wall clock, so a reading goes out when its ``ts`` comes, and what is already due goes out at once."""
    if speed < 0 or math.isnan(speed):
        raise ValueError(f"speed must be 0 (as fast as possible), positive or inf, got {speed}")
    if realtime and speed != 1:
        raise ValueError("realtime runs at speed 1")
    loop = asyncio.get_running_loop()
    began = loop.time() - ((time.time() - simulator.start_ts) if realtime else 0.0)
    paced = 0 < speed < math.inf
    step = min(simulator.interval_s, max(1.0, speed * 0.1)) if paced else math.inf
    stats = RunStats()
    for tick in simulator.ticks(until_ts):
        stats.ticks += 1
        if not paced:
            stats.messages += await publisher.publish(tick.messages)
        else:
            times = [m["ts"] for m in tick.messages]
            sent, edge = 0, tick.ts
            while sent < len(times):
                edge += step
                upto = bisect_left(times, edge)
                delay = began + (edge - simulator.start_ts) / speed - loop.time()
                if delay > 0:
                    await asyncio.sleep(delay)
                if upto > sent:
                    stats.messages += await publisher.publish(tick.messages[sent:upto])
                    sent = upto
        stats.sim_seconds = tick.ts + simulator.interval_s - simulator.start_ts
    stats.wall_seconds = loop.time() - began
    return stats
