"""An asyncio event loop on a daemon thread of its own, for asyncio clients (nats-py) used from threads.

The rest of UrbanBrain is synchronous: the outbox relay, the pipeline's writer and the doors' callers are
threads. A client that speaks asyncio lives on one of these loops; its owner blocks on it with :meth:`call`,
hands it work with :meth:`submit`, and starts long-running consumers with :meth:`spawn`, which :meth:`stop`
cancels and waits for before the client's own shutdown (so a consumer that acknowledges each message before
taking the next loses nothing acknowledged) and before the loop ends.

Not anyio's blocking portal: ``benchmarks/loop_portal.py`` measured its round trip 2-2.6x slower and its
submit 3-4x costlier to the caller, which it blocks until the loop has started the task; the readings
stream's doors submit once per body or MQTT message from their own event loops.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

Shutdown = Callable[[], Awaitable[None]]


class LoopThread:
    def __init__(self, name: str) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name=name, daemon=True)
        self._consumers: list[asyncio.Task[Any]] = []  # touched only on the loop
        self.stopping = False

    def start(self) -> None:
        self._thread.start()

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def call(self, coro: Coroutine[Any, Any, Any], timeout: float = 30.0) -> Any:
        """Run ``coro`` on the loop and wait for its result."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def submit(self, coro: Coroutine[Any, Any, Any]) -> concurrent.futures.Future[Any]:
        """Run ``coro`` on the loop; its future, for the caller to wait on or not."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        """A long-running task (a consumer's pump): :meth:`stop` cancels it and waits for its end."""
        self.call(self._spawn(coro))

    def stop(self, shutdown: Shutdown | None = None, timeout: float = 15.0) -> None:
        """Cancel the spawned tasks and wait for them, run ``shutdown`` (close the client), end the loop."""
        if self.stopping or not self.running:
            return
        self.stopping = True
        try:
            self.call(self._stop(shutdown), timeout=timeout)
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(timeout=5)

    async def _spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        # The task itself, not run_coroutine_threadsafe's future: cancelling that future marks it done at
        # once, while the task may still be on its way out.
        self._consumers.append(asyncio.get_running_loop().create_task(coro))

    async def _stop(self, shutdown: Shutdown | None) -> None:
        for task in self._consumers:
            task.cancel()
        await asyncio.gather(*self._consumers, return_exceptions=True)
        if shutdown is not None:
            await shutdown()
