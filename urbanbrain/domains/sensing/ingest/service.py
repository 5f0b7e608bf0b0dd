"""What the sensing domain runs beside the API: the pipeline, and the MQTT door (with an embedded broker in
the demo) when ``URBANBRAIN_MQTT_URL`` is set."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import gc
import logging
import os
import threading
from typing import Any
from urllib.parse import urlsplit

from urbanbrain.core.context import Platform
from urbanbrain.core.errors import UrbanBrainError
from urbanbrain.domains.sensing.ingest.pipeline import CACHE_KEY, Pipeline

log = logging.getLogger(__name__)
EMBEDDED_PORT = 1883
GATEWAY_USER = "gateway"


_gc_calmed = False


def calm_gc() -> None:
    """Keep Python's full garbage collections short and rare in a process that ingests readings: what exists
    once the process has started lives until it stops, so it is frozen out of the collections, and a larger
    young generation makes the older ones collect less often (a full collection over the app's objects, every
    second or so under load, held up the alarms behind it; docs/performance.md). Once per process: a later
    pipeline (tests start many) would freeze what is garbage by then."""
    global _gc_calmed
    if _gc_calmed:
        return
    _gc_calmed = True
    gc.collect()
    gc.freeze()
    _, second, third = gc.get_threshold()
    gc.set_threshold(7000, second, third)


class PipelineService:
    """The pipeline of this process; scaled out (``sensing_stream_url``), also the door's router into the
    readings stream, the worker of this process's partitions and the relay of alarms between processes."""

    def __init__(self, platform: Platform) -> None:
        s = platform.settings
        self.platform = platform
        self.stream: Any = None
        self.router: Any = None
        self._worker: Any = None
        if s.sensing_stream_url:
            from urbanbrain.domains.sensing.ingest.partition import Owner, describe, parse_owned

            self.owned = parse_owned(s.sensing_owned_partitions, s.sensing_partitions)
            # A worker's journal and rule state are its partitions': restarted with the same partitions, it
            # goes on where it stopped.
            root = s.data_dir / "sensing" / f"partitions-{describe(self.owned, s.sensing_partitions)}"
            owns = (
                None if len(self.owned) == s.sensing_partitions else Owner(self.owned, s.sensing_partitions)
            )
            self.pipeline = Pipeline(platform, root=root, owns=owns)
        else:
            self.pipeline = Pipeline(platform)
        platform.caches[CACHE_KEY] = self

    def start(self) -> None:
        self.pipeline.start()
        if self.platform.settings.sensing_stream_url:
            self._start_stream()
        calm_gc()

    def _start_stream(self) -> None:
        from urbanbrain.domains.sensing.ingest.stream import ReadingsStream, Router, Worker

        s = self.platform.settings
        assert s.sensing_stream_url is not None
        self.stream = ReadingsStream(s.sensing_stream_url, s.district_code, s.sensing_partitions)
        self.stream.start()
        self.router = Router(self.platform, self.stream)
        self.router.start()
        self._worker = Worker(self.stream, self.pipeline, self.owned)
        self._worker.start()

    def submit(self, body: bytes, **kw: Any) -> concurrent.futures.Future[Any]:
        """A door's body: into the readings stream when scaled out, else into this process's pipeline."""
        return (self.router or self.pipeline).submit(body, **kw)

    def device_for_key(self, key: str) -> str | None:
        return (self.router or self.pipeline).device_for_key(key)

    def health(self) -> dict[str, Any]:
        """The pipeline's counts; scaled out, also this process's partitions and the records it took."""
        out = self.pipeline.health()
        if self.stream is not None:
            out["stream"] = {
                "partitions": self.platform.settings.sensing_partitions,
                "owned": sorted(self.owned),
                "records_taken": self._worker.records if self._worker is not None else 0,
            }
        return out

    def stop(self) -> None:
        if self.platform.caches.get(CACHE_KEY) is self:
            del self.platform.caches[CACHE_KEY]
        if self.router is not None:
            self.router.stop()
        if self.stream is not None:
            self.stream.close()  # no more records taken; those journaled are acknowledged
        self.pipeline.stop()

    def __getattr__(self, name: str) -> Any:  # the cache entry answers as the pipeline does
        return getattr(self.pipeline, name)


class Durable:
    """Completes futures of the door's event loop from the pipeline's thread, one wake-up of the loop per
    journal group: a wake-up per message (``asyncio.wrap_future``) cost the door a third of its rate."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self._done: list[tuple[asyncio.Future[Any], concurrent.futures.Future[Any]]] = []
        self._lock = threading.Lock()
        self._scheduled = False

    def watch(self, submitted: concurrent.futures.Future[Any]) -> asyncio.Future[Any]:
        mine = self.loop.create_future()
        submitted.add_done_callback(lambda f: self._completed(mine, f))
        return mine

    def _completed(self, mine: asyncio.Future[Any], submitted: concurrent.futures.Future[Any]) -> None:
        with self._lock:
            self._done.append((mine, submitted))
            if self._scheduled:
                return
            self._scheduled = True
        with contextlib.suppress(RuntimeError):  # the loop is closed: the door has stopped
            self.loop.call_soon_threadsafe(self._deliver)

    def _deliver(self) -> None:
        with self._lock:
            done, self._done, self._scheduled = self._done, [], False
        for mine, submitted in done:
            if mine.done():
                continue
            exc = submitted.exception()
            if exc is None:
                mine.set_result(submitted.result())
            else:
                mine.set_exception(exc)


async def handle_with_backpressure(
    pipeline: Pipeline | PipelineService, durable: Durable, device_id: str | None, payload: bytes
) -> asyncio.Future[Any]:
    """The MQTT door's handler: queue the message and hand back the future of its journal entry, which the
    door awaits before acknowledging; when the pipeline is behind, wait (the broker keeps the messages)
    instead of refusing."""
    while True:
        try:
            return durable.watch(pipeline.submit(payload, source="mqtt", topic_device=device_id))
        except UrbanBrainError as exc:
            if exc.code != "sensing.busy":
                raise
            await asyncio.sleep(0.05)


class MqttService:
    """The MQTT door in a thread of its own (its own event loop), plus the embedded broker when asked."""

    def __init__(self, platform: Platform, pipeline: Pipeline | PipelineService, url: str) -> None:
        self.platform, self.pipeline, self.url = platform, pipeline, url
        self.broker: Any = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self.door: Any = None

    def start(self) -> None:
        from urbanbrain.domains.sensing.ingest.broker import EmbeddedBroker

        if self.embedded:
            parts = urlsplit(self.url)
            host, port, password = parts.hostname or "127.0.0.1", parts.port or EMBEDDED_PORT, None
            if parts.port == 0 or self.url.endswith(":0"):
                port = 0  # any free port (tests)
            self.broker = EmbeddedBroker(host, port, authenticate=self._authenticate, allow=self._allow)
            self.broker.start()
            port = self.broker.port
            user: str | None = "urbanbrain-door"
        else:
            parts = urlsplit(self.url)
            host, port = parts.hostname or "127.0.0.1", parts.port or 1883
            user, password = parts.username, parts.password
        self.platform.metrics.gauge(
            "urbanbrain_mqtt_connected", "1 while the MQTT door is connected (and subscribed) to its broker"
        ).set_function(lambda: float(self.door is not None and self.door.connected))
        self._thread = threading.Thread(target=self._run, args=(host, port, user, password), daemon=True,
                                        name="sensing-mqtt")  # fmt: skip
        self._thread.start()
        if not self._ready.wait(15):
            log.warning("sensing: the MQTT door has not subscribed yet; it keeps trying")

    @property
    def embedded(self) -> bool:
        """``embedded`` or ``embedded://host:port``: run amqtt in this process (the demo)."""
        return self.url.startswith("embedded")

    def _authenticate(self, username: str | None, password: str | None) -> bool:
        """Devices log in as their device id with their own key; a gateway (many devices behind one
        connection, or the simulator) as ``gateway`` with an API key allowed to write readings; the door
        itself with a secret of this process."""
        if username == "urbanbrain-door" and password == self._door_secret:
            return True
        if not username or not password:
            return False
        if username == GATEWAY_USER:
            return self._gateway_key_ok(password)
        return self.pipeline.device_for_key(password) == username

    def _allow(self, username: str | None, topic: str, action: str) -> bool:
        """Topic rights on the embedded broker: the door reads everything; a device may only publish its own
        readings, a gateway any device's of this district; nobody else subscribes (a device reading the
        district's traffic would see every building's readings)."""
        from urbanbrain.domains.sensing.ingest.mqtt_door import device_from_topic, topic_for

        if username == "urbanbrain-door":
            return True
        device = device_from_topic(topic)
        if action != "publish" or device is None:
            return False
        if topic != topic_for(self.platform.settings.district_code, device):
            return False
        return username in (GATEWAY_USER, device)

    def _gateway_key_ok(self, key: str) -> bool:
        from urbanbrain.core.auth.actions import find_api_key, principal_for_key

        with self.platform.db.sessionmaker() as session:  # a short read: never SQLite's write lock
            if self.platform.db.dialect == "sqlite":
                session.connection(execution_options={"sqlite_begin": "DEFERRED"})
            try:
                principal = principal_for_key(find_api_key(session, key))
            except UrbanBrainError:
                return False
        return "sensing.readings.write" in principal.permissions

    def _client_id(self) -> str:
        """Stable across restarts, so the broker hands this door the messages it had not acknowledged."""
        group = self.platform.settings.mqtt_shared_group
        worker = os.environ.get("URBANBRAIN_WORKER_NAME", "0")
        return f"ub-door-{self.platform.settings.district_code}" + (f"-{group}-{worker}" if group else "")

    @property
    def _door_secret(self) -> str:
        return self.platform.settings.signing_key[:32]

    def _run(self, host: str, port: int, user: str | None, password: str | None) -> None:
        from urbanbrain.domains.sensing.ingest.mqtt_door import MqttDoor

        if self.embedded:
            password = self._door_secret
        loop = self._loop = asyncio.new_event_loop()
        ready = asyncio.Event()
        durable = Durable(loop)

        async def handle(device_id: str | None, topic: str, payload: bytes) -> asyncio.Future[Any]:
            return await handle_with_backpressure(self.pipeline, durable, device_id, payload)

        async def main() -> None:
            self.door = MqttDoor(
                host, port, district=self.platform.settings.district_code, handle=handle, username=user,
                password=password, client_id=self._client_id(), protocol=4 if self.embedded else 5,
                shared_group=self.platform.settings.mqtt_shared_group, qos=1,
            )  # fmt: skip
            waiter = asyncio.ensure_future(ready.wait())
            waiter.add_done_callback(lambda _: self._ready.set())
            await self.door.run(ready)

        self._task = loop.create_task(main())
        try:
            loop.run_until_complete(self._task)
        except asyncio.CancelledError:
            pass
        except Exception:
            log.exception("sensing: the MQTT door stopped")
        finally:
            loop.close()

    def stop(self) -> None:
        if self._loop is not None and self._task is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._task.cancel)
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self.broker is not None:
            self.broker.stop()


def services(platform: Platform) -> list[Any]:
    svc = PipelineService(platform)
    out: list[Any] = [svc]
    if platform.settings.mqtt_url:
        out.append(MqttService(platform, svc, platform.settings.mqtt_url))
    return out
