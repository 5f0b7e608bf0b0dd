"""The event-loop thread that asyncio clients (NATS) live on: blocking calls, background tasks, and a stop
that ends the consumers before the client closes."""

from __future__ import annotations

import asyncio

from urbanbrain.core.bus.loop_thread import LoopThread


def test_call_runs_on_the_loop_thread_and_returns_its_result():
    io = LoopThread("test-loop")
    io.start()
    try:

        async def where() -> str:
            import threading

            return threading.current_thread().name

        assert io.call(where()) == "test-loop"
        assert io.submit(asyncio.sleep(0, result=7)).result(5) == 7
    finally:
        io.stop()
    assert not io.running


def test_stop_cancels_the_consumers_first_then_closes_the_client():
    io = LoopThread("test-loop")
    io.start()
    order: list[str] = []

    async def consumer() -> None:
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            order.append("consumer stopped")
            raise

    async def close_client() -> None:
        order.append("client closed")

    io.spawn(consumer())
    io.call(asyncio.sleep(0.05))  # the consumer is waiting
    io.stop(close_client)
    io.stop(close_client)  # a second stop does nothing
    assert order == ["consumer stopped", "client closed"]
    assert io.stopping and not io.running


def test_stop_waits_for_a_consumer_that_awaits_on_its_way_out():
    io = LoopThread("test-loop")
    io.start()
    order: list[str] = []

    async def consumer() -> None:
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            await asyncio.sleep(0.05)  # a last nak or flush before it ends
            order.append("consumer stopped")
            raise

    async def close_client() -> None:
        order.append("client closed")

    io.spawn(consumer())
    io.call(asyncio.sleep(0.05))
    io.stop(close_client)
    assert order == ["consumer stopped", "client closed"]
