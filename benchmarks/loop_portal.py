"""The event-loop thread that NATS clients live on: UrbanBrain's hand-written loop thread
(``urbanbrain.core.bus.loop_thread.LoopThread``) beside anyio's blocking portal (asyncio backend), measured
in the same run, rounds interleaved.

1. Round trip: a thread runs a trivial coroutine on the loop and waits for its result (``call``), p50/p99.
2. Submit: a thread hands the loop ``--submits`` trivial coroutines without waiting, then waits for all:
   submits/s, and the caller's own time per submit (a door's event loop pays it per body or MQTT message).
3. With NATS at ``--nats`` (skipped if it does not answer): a JetStream publish through ``call`` (what
   ``NatsBus.publish`` does per event for the outbox relay), p50/p99; and ``--js-submits`` publishes through
   ``submit`` then waited for (what the readings stream's door does per body), publishes/s.

Each figure is the median over ``--rounds``; the last column is portal / hand-written (for times, above 1
is slower; for rates, below 1 is slower).

    .venv/bin/python benchmarks/loop_portal.py [--calls 20000] [--submits 100000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import os
import socket
import statistics
import time
import uuid
from collections.abc import Callable, Coroutine
from typing import Any, Protocol
from urllib.parse import urlsplit

import nats
from anyio.from_thread import BlockingPortal, start_blocking_portal
from nats.js.api import StreamConfig

from urbanbrain.core.bus.loop_thread import LoopThread

NATS = os.environ.get("URBANBRAIN_BENCH_NATS_URL", "nats://127.0.0.1:4222")


class PortalLoop:
    """The candidate: the loop on anyio's blocking portal, as a drop-in for the loop thread's call and
    submit. ``start_task_soon`` blocks its caller until the loop has started the task (the portal spawns it
    into its task group from the loop), where ``run_coroutine_threadsafe`` only queues it."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._exit = contextlib.ExitStack()
        self._portal: BlockingPortal | None = None

    def start(self) -> None:
        self._portal = self._exit.enter_context(start_blocking_portal("asyncio", name=self.name))

    def call(self, coro: Coroutine[Any, Any, Any], timeout: float = 30.0) -> Any:
        return self.submit(coro).result(timeout)

    def submit(self, coro: Coroutine[Any, Any, Any]) -> concurrent.futures.Future[Any]:
        assert self._portal is not None
        return self._portal.start_task_soon(lambda: coro)

    def stop(self) -> None:
        self._exit.close()


class Loop(Protocol):
    def start(self) -> None: ...
    def call(self, coro: Coroutine[Any, Any, Any], timeout: float = 30.0) -> Any: ...
    def submit(self, coro: Coroutine[Any, Any, Any]) -> concurrent.futures.Future[Any]: ...
    def stop(self) -> None: ...


async def trivial() -> None:
    return None


def percentile(sorted_ns: list[int], q: float) -> float:
    """µs at quantile ``q`` of sorted nanosecond samples."""
    return sorted_ns[min(len(sorted_ns) - 1, int(q * len(sorted_ns)))] / 1e3


def round_trip(io: Loop, calls: int, make: Callable[[], Coroutine[Any, Any, Any]]) -> dict[str, float]:
    for _ in range(min(1000, calls)):  # warm-up
        io.call(make())
    samples = []
    for _ in range(calls):
        t0 = time.perf_counter_ns()
        io.call(make())
        samples.append(time.perf_counter_ns() - t0)
    samples.sort()
    return {"p50": percentile(samples, 0.50), "p99": percentile(samples, 0.99)}


def submits(io: Loop, n: int, make: Callable[[], Coroutine[Any, Any, Any]]) -> dict[str, float]:
    t0 = time.perf_counter()
    futures = [io.submit(make()) for _ in range(n)]
    handed = time.perf_counter()
    for f in futures:
        f.result(timeout=300)
    done = time.perf_counter()
    return {"rate": n / (done - t0), "caller": (handed - t0) / n * 1e6}


def nats_answers(url: str) -> bool:
    parts = urlsplit(url)
    try:
        socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 4222), timeout=1).close()
    except OSError:
        return False
    return True


class JetStream:
    """A connection on ``io``'s loop and a scratch stream of its own."""

    def __init__(self, io: Loop, url: str) -> None:
        self.io, self.url = io, url
        tag = uuid.uuid4().hex[:12]
        self.stream, self.subject = f"UB_BENCH_LOOP_{tag}", f"ub.bench.loop.{tag}"
        io.call(self._open())

    async def _open(self) -> None:
        self.nc = await nats.connect(self.url)
        self.js = self.nc.jetstream()
        await self.js.add_stream(StreamConfig(name=self.stream, subjects=[self.subject]))

    def publish(self) -> Coroutine[Any, Any, Any]:
        return self.js.publish(self.subject, b'{"id":"x","type":"bench","payload":{}}')

    def close(self) -> None:
        self.io.call(self._close())

    async def _close(self) -> None:
        await self.js.delete_stream(self.stream)
        await self.nc.close()


def measure(io: Loop, args: argparse.Namespace, js: JetStream | None) -> dict[str, float]:
    out: dict[str, float] = {}
    rt = round_trip(io, args.calls, trivial)
    out["round trip p50 (µs)"], out["round trip p99 (µs)"] = rt["p50"], rt["p99"]
    sb = submits(io, args.submits, trivial)
    out["submits/s"], out["submit, caller's µs each"] = sb["rate"], sb["caller"]
    if js is not None:
        jr = round_trip(io, args.js_calls, js.publish)
        out["JetStream publish via call p50 (µs)"] = jr["p50"]
        out["JetStream publish via call p99 (µs)"] = jr["p99"]
        out["JetStream publishes/s via submit"] = submits(io, args.js_submits, js.publish)["rate"]
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--calls", type=int, default=20_000)
    ap.add_argument("--submits", type=int, default=100_000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--nats", default=NATS)
    ap.add_argument("--js-calls", type=int, default=5_000)
    ap.add_argument("--js-submits", type=int, default=10_000)
    args = ap.parse_args()

    use_nats = nats_answers(args.nats)
    loops: dict[str, Loop] = {"hand-written": LoopThread("bench-hand"), "portal": PortalLoop("bench-portal")}
    streams: dict[str, JetStream | None] = {}
    for name, io in loops.items():
        io.start()
        streams[name] = JetStream(io, args.nats) if use_nats else None
    results: dict[str, list[dict[str, float]]] = {name: [] for name in loops}
    try:
        for _ in range(args.rounds):  # interleaved, so drift on the machine hits both alike
            for name, io in loops.items():
                results[name].append(measure(io, args, streams[name]))
    finally:
        for name, io in loops.items():
            js = streams[name]
            if js is not None:
                js.close()
            io.stop()

    print(f"cpus: {os.cpu_count()}, rounds: {args.rounds}, calls: {args.calls:,}, submits: {args.submits:,}"
          + (f", JetStream: {args.nats}" if use_nats else ", JetStream: not reachable, skipped"))  # fmt: skip
    print(f"{'':38} {'hand-written':>14} {'portal':>14} {'portal/hand':>12}")
    for key in results["hand-written"][0]:
        hand = statistics.median(r[key] for r in results["hand-written"])
        portal = statistics.median(r[key] for r in results["portal"])
        print(f"{key:38} {hand:14,.1f} {portal:14,.1f} {portal / hand:12.2f}")


if __name__ == "__main__":
    main()
