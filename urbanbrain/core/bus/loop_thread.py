"""An asyncio event loop on a daemon thread of its own, for asyncio clients (nats-py) used from threads.

The rest of UrbanBrain is synchronous: the outbox relay, the pipeline's writer and the doors' callers are
threads. A client that speaks asyncio lives on one of these loops; its owner blocks on it with :meth:`call`,
hands it work with :meth:`submit`, and starts long-running consumers with :meth:`spawn`, which :meth:`stop`
cancels and waits for before the client's own shutdown (so a consumer that acknowledges each message before
taking the next loses nothing acknowledged) and before the loop ends.
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
        self._tasks: list[concurrent.futures.Future[Any]] = []
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

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> concurrent.futures.Future[Any]:
        """A long-running task (a consumer's pump): :meth:`stop` cancels it."""
        task = self.submit(coro)
        self._tasks.append(task)
        return task

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

    async def _stop(self, shutdown: Shutdown | None) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*(asyncio.wrap_future(t) for t in self._tasks), return_exceptions=True)
        if shutdown is not None:
            await shutdown()
