"""Scaling out (issue 4): readings/s processed by 1, 2 and 4 workers of the readings stream (NATS JetStream,
partitioned by building), beside the single-process pipeline measured in the same run.

1. A fresh PostgreSQL database (the workers are processes sharing one database; on SQLite their writes would
   wait for each other's file lock) with the demo district at scale 0.05, the fire rules and ``--devices``
   electrical-fire monitors spread over its buildings (ingest.py's ``prepare`` and ``bodies``).
2. Baseline: the same bodies through ``Pipeline.submit`` in this process, no stream (ingest.py's pipeline
   stage).
3. The door: the bodies through the ``Router`` (check, split by partition, store in JetStream) in this
   process, no worker running: readings/s stored.
4. For each count K in ``--workers``: K ``urbanbrain sensing work`` processes, each owning 1/K of the
   ``--partitions``, take the stream the door filled (a namespace of its own per round). The rate counts all
   the readings, summed over the workers, from the first one processed (start-up is left out) to the last.

Every rate is printed with its ratio to one worker and to the single process. The machine's cores bound the
gain: the workers, PostgreSQL and NATS share them (``os.cpu_count()`` is printed).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

from _server import scratch_database
from ingest import bodies, pipeline_rate, prepare, submit_all

ROOT = Path(__file__).resolve().parents[1]
NATS = os.environ.get("URBANBRAIN_BENCH_NATS_URL", "nats://127.0.0.1:4222")


def door_rate(
    url: str, data_dir: Path, stream_url: str, partitions: int, payloads: list[bytes]
) -> tuple[float, int]:
    """The bodies through the door's router into JetStream (no worker running): readings/s stored, readings."""
    from urbanbrain.core.config import Settings
    from urbanbrain.core.context import Platform
    from urbanbrain.domains.sensing.ingest.service import PipelineService

    settings = Settings(database_url=url, data_dir=data_dir, sensing_stream_url=stream_url,
                        bus_url=bus_for(stream_url), sensing_partitions=partitions,
                        sensing_owned_partitions="none")  # fmt: skip
    p = Platform.build(settings)
    svc = PipelineService(p)
    svc.start()
    try:
        t0 = time.perf_counter()
        readings = sum(f.result(timeout=300).readings for f in submit_all(svc, payloads))
        return readings / (time.perf_counter() - t0), readings
    finally:
        svc.stop()
        p.close()


def _split(partitions: int, k: int) -> list[str]:
    per = partitions // k
    return [f"{i * per}-{(i + 1) * per - 1}" for i in range(k)]


def bus_for(stream_url: str) -> str:
    """Scaled out, the processes share events through NATS: a bus stream of this round's own."""
    namespace = stream_url.rsplit("namespace=", 1)[-1].rstrip("_")
    return f"{NATS}?stream=UB_BENCH_{namespace}&prefix={namespace}."


def workers_rate(url: str, data_dir: Path, stream_url: str, partitions: int, k: int, total: int) -> float:
    """K worker processes take ``total`` readings from the filled stream: readings/s from the first one
    processed to the last (each worker reports its count every 0.1 s)."""
    env = dict(os.environ, URBANBRAIN_DATABASE_URL=url, URBANBRAIN_DATA_DIR=str(data_dir),
               URBANBRAIN_SENSING_STREAM_URL=stream_url, URBANBRAIN_SENSING_PARTITIONS=str(partitions),
               URBANBRAIN_BUS_URL=bus_for(stream_url), URBANBRAIN_LOG_LEVEL="warning")  # fmt: skip
    counts = [0] * k
    marks: dict[str, float] = {}
    lock = threading.Lock()

    def follow(i: int, proc: subprocess.Popen[str]) -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            stats = json.loads(line)
            with lock:
                counts[i] = stats["readings"]
                done = sum(counts)
                if done > 0:
                    marks.setdefault("first", stats["at"])
                if done >= total:
                    marks.setdefault("last", stats["at"])

    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "urbanbrain.cli",
                "sensing",
                "work",
                "--partitions",
                part,
                "--report-seconds",
                "0.1",
            ],
            env=env,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )  # fmt: skip
        for part in _split(partitions, k)
    ]
    readers = [threading.Thread(target=follow, args=(i, p), daemon=True) for i, p in enumerate(procs)]
    for r in readers:
        r.start()
    deadline = time.time() + 600
    try:
        while "last" not in marks and time.time() < deadline:
            time.sleep(0.2)
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(timeout=60)
    if "last" not in marks:
        raise RuntimeError(f"the workers processed {sum(counts)} of {total} readings in 10 minutes")
    if marks["last"] <= marks["first"]:  # all of it between two reports (0.1 s): nothing to time
        raise SystemExit(f"{total:,} readings were processed within one report interval: use more --readings")
    return total / (marks["last"] - marks["first"])


async def _delete(stream: str) -> None:
    import nats

    nc = await nats.connect(NATS)
    with contextlib.suppress(Exception):
        await nc.jetstream().delete_stream(stream)
    await nc.close()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--devices", type=int, default=5000)
    ap.add_argument("--readings", type=int, default=1_500_000)
    ap.add_argument("--batch", type=int, default=1000, help="messages per body")
    ap.add_argument("--partitions", type=int, default=16)
    ap.add_argument("--workers", default="1,2,4")
    args = ap.parse_args(argv)
    counts = [int(k) for k in args.workers.split(",")]
    tmp = Path(tempfile.mkdtemp(prefix="ub-scale-"))
    run = uuid.uuid4().hex[:8]
    with contextlib.ExitStack() as stack:
        stack.callback(shutil.rmtree, tmp, ignore_errors=True)
        url = stack.enter_context(scratch_database("ub_bench_scale"))
        data_dir = tmp / "data"
        env = dict(os.environ, URBANBRAIN_DATABASE_URL=url, URBANBRAIN_DATA_DIR=str(data_dir))
        subprocess.run([sys.executable, "-m", "urbanbrain.cli", "db", "upgrade"], env=env, check=True,
                       capture_output=True, cwd=ROOT)  # fmt: skip
        _, ids = prepare(url, data_dir, args.devices)
        print(f"{os.cpu_count()} cores; {args.devices} devices; {args.readings:,} readings in bodies of "
              f"{args.batch} messages; {args.partitions} partitions; PostgreSQL; NATS JetStream")  # fmt: skip
        base, _, _ = pipeline_rate(url, data_dir, bodies(ids, "base", args.readings, args.batch))
        print(f"single process (Pipeline.submit, no stream): {base:12,.0f} readings/s")
        rates: dict[int, float] = {}
        for k in counts:
            shutil.rmtree(data_dir / "sensing", ignore_errors=True)  # each round's workers start afresh
            stream_url = f"{NATS}?namespace=b{run}k{k}_"
            payloads = bodies(ids, f"k{k}", args.readings, args.batch, seed=k)
            door, total = door_rate(url, data_dir, stream_url, args.partitions, payloads)
            rates[k] = workers_rate(url, data_dir, stream_url, args.partitions, k, total)
            asyncio.run(_delete(f"UB_SENSING_b{run}k{k}_440304"))
            asyncio.run(_delete(f"UB_BENCH_b{run}k{k}"))
            print(f"door into JetStream (round {k}):           {door:12,.0f} readings/s  "
                  f"{door / base:5.2f} of single process")  # fmt: skip
            print(f"{k} worker(s):                              {rates[k]:12,.0f} readings/s  "
                  f"{rates[k] / rates[counts[0]]:5.2f} of {counts[0]} worker(s)  {rates[k] / base:5.2f} of single process")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
