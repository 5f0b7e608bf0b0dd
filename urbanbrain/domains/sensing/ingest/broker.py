"""The embedded MQTT broker of the demo: amqtt on its own thread and event loop.

Production runs Mosquitto; ``make demo`` needs no extra service, so the demo starts this broker in-process::

    with EmbeddedBroker(port=1883, authenticate=devices.check_credentials) as broker:
        ...  # devices and the MQTT door connect to 127.0.0.1:1883

**Authentication.** ``authenticate(username, password)`` decides every CONNECT; it returns True to let the
client in. It runs on a worker thread, so it may query the database. Without it every client, anonymous or
not, is let in.

**Limits of amqtt 0.12** (checked by ``tests/domains/sensing/test_mqtt_door.py``): MQTT 3.1.1 only (an MQTT 5
CONNECT gets no answer at all), no shared subscriptions (``$share/...`` is taken as a literal filter that no
topic matches), and a QoS 1 message that a subscriber has not acknowledged is dropped when that subscriber
disconnects, or 5 seconds after it was sent, instead of being redelivered. It also acknowledges a published
message before routing it and drops what it has not routed yet when the publisher disconnects, and a client
that reconnects with the same client id within milliseconds of its DISCONNECT can end up connected but
marked offline, receiving nothing (the MQTT door waits at least 50 ms before reconnecting). The demo accepts
that; the at-least-once guarantee of the MQTT door holds on Mosquitto.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import errno
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

from amqtt.adapters import StreamReaderAdapter, StreamWriterAdapter
from amqtt.broker import Broker
from amqtt.plugins.base import BaseAuthPlugin, BaseTopicPlugin
from amqtt.session import Session

Authenticate = Callable[[str | None, str | None], bool]
Allow = Callable[[str | None, str, str], bool]
"""``allow(username, topic, action)``, action ``publish``, ``subscribe`` or ``receive``: may this logged-in
client do that on that topic? A message published where it may not is dropped by the broker."""

# amqtt logs every connection at INFO, client mistakes at WARNING and ERROR, and a failed start at ERROR
# before we raise BrokerStartError: the platform reports what matters itself.
_NOISY_LOGGERS = ("amqtt", "transitions")
_START_TIMEOUT_S = 10.0
_SHUTDOWN_TIMEOUT_S = 3.0
_STOP_TIMEOUT_S = 10.0


class BrokerStartError(RuntimeError):
    """The embedded broker could not start listening (most often: the port is taken)."""


class CallbackAuthPlugin(BaseAuthPlugin):
    """amqtt auth plugin that asks ``Config.authenticate``; loaded by amqtt from its dotted path."""

    @dataclass
    class Config:
        authenticate: Any = field(default=None)

    async def authenticate(self, *, session: Session) -> bool | None:
        check: Authenticate | None = self.config.authenticate
        if check is None:
            return True
        try:
            return bool(await asyncio.to_thread(check, session.username, session.password))
        except Exception:
            logging.getLogger(__name__).exception("authenticate() failed; refusing %s", session.client_id)
            return False


class CallbackTopicPlugin(BaseTopicPlugin):
    """amqtt topic plugin that asks ``Config.allow``; loaded by amqtt from its dotted path."""

    @dataclass
    class Config:
        allow: Any = field(default=None)

    async def topic_filtering(
        self, *, session: Session | None = None, topic: str | None = None, action: Any = None
    ) -> bool | None:
        check: Allow | None = self.config.allow
        if check is None or session is None or topic is None or action is None:
            return True
        try:
            return bool(check(session.username, topic, str(action)))
        except Exception:
            logging.getLogger(__name__).exception(
                "allow() failed; refusing %s on %s", session.client_id, topic
            )
            return False


class EmbeddedBroker:
    """An amqtt broker listening on ``host:port`` from a background thread.

    ``start()`` returns once the port is listening and raises ``BrokerStartError`` when it cannot be;
    ``stop()`` disconnects every client and frees the port. ``port=0`` picks a free port, read back from
    ``port`` after ``start()``. Clients must speak ``protocol`` (MQTT 3.1.1, protocol level 4).
    """

    protocol = 4

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 1883,
        authenticate: Authenticate | None = None,
        allow: Allow | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self._authenticate = authenticate
        self._allow = allow
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._stopped: asyncio.Event | None = None

    @property
    def url(self) -> str:
        return f"mqtt://{self.host}:{self.port}"

    def start(self) -> None:
        """Start listening; return when clients can connect."""
        if self._thread is not None:
            raise RuntimeError("the embedded broker is already running")
        _quiet_amqtt_logging()
        started: concurrent.futures.Future[int] = concurrent.futures.Future()
        self._thread = threading.Thread(target=self._serve, args=(started,), name="mqtt-broker", daemon=True)
        self._thread.start()
        try:
            self.port = started.result(timeout=_START_TIMEOUT_S)
        except BaseException:
            self._thread.join(timeout=_STOP_TIMEOUT_S)
            self._thread = None
            raise

    def stop(self) -> None:
        """Disconnect all clients, close the port and end the broker thread."""
        thread, loop, stopped = self._thread, self._loop, self._stopped
        if thread is None:
            return
        if loop is not None and stopped is not None:
            loop.call_soon_threadsafe(stopped.set)
        thread.join(timeout=_STOP_TIMEOUT_S)
        self._thread = None

    def __enter__(self) -> EmbeddedBroker:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _serve(self, started: concurrent.futures.Future[int]) -> None:
        try:
            # asyncio.run also cancels what amqtt leaves behind, such as a connection that never sent CONNECT.
            asyncio.run(self._main(started))
        except BaseException as exc:  # the thread's only way to report is the future
            if not started.done():
                started.set_exception(exc)
        finally:
            self._loop = None

    async def _main(self, started: concurrent.futures.Future[int]) -> None:
        self._loop = asyncio.get_running_loop()
        self._loop.set_exception_handler(_log_loop_error)
        self._stopped = asyncio.Event()
        config = {
            # We own the listening socket and hand amqtt each connection ("external" listener), so that
            # stop() can close every client connection even when amqtt's shutdown hangs (below).
            "listeners": {"default": {"type": "external"}},
            # No $SYS topics and no packet logger: only the auth and topic plugins.
            "plugins": {
                f"{__name__}.CallbackAuthPlugin": {"authenticate": self._authenticate},
                **({f"{__name__}.CallbackTopicPlugin": {"allow": self._allow}} if self._allow else {}),
            },
        }
        broker = Broker(config)
        clients: set[asyncio.StreamWriter] = set()

        async def serve_client(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            clients.add(writer)
            try:
                await broker.external_connected(
                    StreamReaderAdapter(reader), StreamWriterAdapter(writer), "default"
                )
            finally:
                clients.discard(writer)
                writer.close()

        try:
            server = await asyncio.start_server(serve_client, self.host, self.port)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise BrokerStartError(
                    f"cannot start the embedded MQTT broker: {self.host}:{self.port} is already in use "
                    "(another broker, such as Mosquitto, may be running; stop it or choose another port)"
                ) from exc
            raise BrokerStartError(
                f"cannot start the embedded MQTT broker on {self.host}:{self.port}: {exc}"
            ) from exc
        await broker.start()
        started.set_result(server.sockets[0].getsockname()[1])
        try:
            await self._stopped.wait()
        finally:
            server.close()
            # Closing the connections first lets amqtt's readers end on EOF: cancelling a reader can hang
            # its shutdown on Python 3.11 (asyncio.wait_for may swallow the cancellation).
            for writer in list(clients):
                writer.close()
            try:
                await asyncio.wait_for(broker.shutdown(), _SHUTDOWN_TIMEOUT_S)
            except TimeoutError:
                logging.getLogger(__name__).debug("amqtt did not shut down in %s s", _SHUTDOWN_TIMEOUT_S)


def _log_loop_error(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    # Leftovers of amqtt's connection tasks, e.g. a client cut off mid-CONNECT when the broker stops.
    logging.getLogger(__name__).debug(
        "broker loop: %s", context.get("message"), exc_info=context.get("exception")
    )


def _quiet_amqtt_logging() -> None:
    for name in _NOISY_LOGGERS:
        logger = logging.getLogger(name)
        if logger.level == logging.NOTSET:  # leave alone what the application configured
            logger.setLevel(logging.CRITICAL)
