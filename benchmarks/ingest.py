"""Sensing ingestion (issue 4): readings/s through the pipeline, the HTTP door and the MQTT door, each beside
the in-process ceiling (msgspec decode + one numpy threshold + a Lake append and flush) measured in the run.

1. A fresh platform in a temp dir (SQLite by default): the demo district at scale 0.05, the fire rules, N
   electrical-fire monitors provisioned through ``do_provision_device``, an API key (``devices:write``) and an
   admin user. Every message carries two readings (residual current and cable temperature), normal values.
2. The ceiling, then (``--stages``) ``Pipeline.submit`` in this process (no server), then ``urbanbrain
   serve`` in its own process: a raw asyncio client on several HTTP connections, then, through a Mosquitto of
   the benchmark's own (``_server.mosquitto``), one message per MQTT message beside a bare aiomqtt subscriber,
   and arrays of ``--mqtt-batch`` messages per MQTT message. Rates count readings until processed (health).
3. Rule-state memory per device and its projection to one million devices (with the pipeline stage).

Targets: HTTP ≥ 250,000 readings/s and ≥ 25 % of the ceiling; MQTT ≥ 50 % of the bare subscriber; batched
MQTT at the HTTP rate; < 2 GB of rule state for 1,000,000 devices. Scaling out over workers is measured by
scale_out.py.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import msgspec
import numpy as np
from _server import bearer, http_load, mosquitto, processed, start_server, wait_processed

ROOT = Path(__file__).resolve().parents[1]
MEASURES = ("residual_current_ma", "cable_temp_c")


def prepare(url: str, data_dir: Path, n_devices: int) -> tuple[str, list[str]]:
    """Seed, install the fire rules, provision devices, make an API key and an admin user (admin/benchpass1)."""
    from sqlalchemy import text

    from urbanbrain.apps.fire_safety.devices import do_install_fire_monitoring
    from urbanbrain.core.auth.actions import do_create_api_key, do_create_user
    from urbanbrain.core.auth.principal import SYSTEM
    from urbanbrain.core.config import Settings
    from urbanbrain.core.context import Platform
    from urbanbrain.domains.sensing.actions import do_provision_device
    from urbanbrain.domains.sensing.schemas import DeviceCreate

    env = dict(os.environ, URBANBRAIN_DATABASE_URL=url, URBANBRAIN_DATA_DIR=str(data_dir))
    subprocess.run([sys.executable, "-m", "urbanbrain.cli", "seed", "futian", "--scale", "0.05"],
                   env=env, check=True, capture_output=True, cwd=ROOT)  # fmt: skip
    p = Platform.build(Settings(database_url=url, data_dir=data_dir))
    ids = [f"EFM-B{i:06d}" for i in range(n_devices)]
    try:
        with p.db.session() as s:
            do_install_fire_monitoring(s, p, SYSTEM)
            buildings = [r[0] for r in s.execute(text("SELECT code FROM registry_building ORDER BY code"))]
            _, key = do_create_api_key(s, p.clock, SYSTEM, name="bench", scopes=["devices:write"])
            do_create_user(s, p.clock, SYSTEM, username="benchadmin", password="benchpass1", role="admin")
        for start in range(0, n_devices, 1000):
            with p.db.session() as s:
                for i in range(start, min(n_devices, start + 1000)):
                    data = DeviceCreate(device_id=ids[i], type_code="electrical_fire_monitor",
                                        building_code=buildings[i % len(buildings)], key=f"benchdevicekey{i:08d}")  # fmt: skip
                    do_provision_device(s, p, SYSTEM, data)
    finally:
        p.close()
    return key, ids


def bodies(ids: list[str], phase: str, n_readings: int, batch: int, seed: int = 0) -> list[bytes]:
    """JSON-array bodies of ``batch`` messages, each with two normal readings; unique ids per phase."""
    rng = np.random.default_rng(seed)
    n_msgs = max(batch, n_readings // len(MEASURES))
    rc = np.round(rng.uniform(10, 120, n_msgs), 1).tolist()
    ct = np.round(rng.uniform(25, 45, n_msgs), 1).tolist()
    t0, n = time.time() - 30, len(ids)
    enc = msgspec.json.Encoder()
    out = []
    for b in range(0, n_msgs - batch + 1, batch):
        msgs = [{"id": f"{phase}{k}", "device": ids[k % n], "ts": t0 + (k // n) * 0.001,
                 "values": {MEASURES[0]: rc[k], MEASURES[1]: ct[k]}} for k in range(b, b + batch)]  # fmt: skip
        out.append(enc.encode(msgs))
    return out


def ceiling(payloads: list[bytes], lake_dir: Path) -> float:
    """Decode (typed), one vectorised threshold, Lake.append + flush: readings/s with nothing else."""
    from urbanbrain.domains.sensing.ingest.wire import Message
    from urbanbrain.domains.sensing.lake import Lake

    dec = msgspec.json.Decoder(list[Message])
    lake = Lake(lake_dir, flush_rows=10**9, flush_seconds=1e9)
    n = 0
    t0 = time.perf_counter()
    for body in payloads:
        msgs = dec.decode(body)
        dev = [m.device for m in msgs for _ in m.values]
        meas = [k for m in msgs for k in m.values]
        val = np.fromiter((v for m in msgs for v in m.values.values()), np.float64)
        ts = np.repeat(np.array([m.ts for m in msgs], dtype=np.float64), len(MEASURES))
        _ = int((val > 300.0).sum())
        lake.append(dev, meas, val, ts, time.time())
        n += len(val)
    lake.flush(time.time())
    rate = n / (time.perf_counter() - t0)
    lake.close()
    return rate


def submit_all(door: Any, payloads: list[bytes]) -> list[Any]:
    """Every body to ``door.submit`` as fast as backpressure (``sensing.busy``) allows; their futures."""
    from urbanbrain.core.errors import UrbanBrainError

    futures = []
    for body in payloads:
        while True:
            try:
                futures.append(door.submit(body))
                break
            except UrbanBrainError as exc:
                if exc.code != "sensing.busy":
                    raise
                time.sleep(0.002)
    return futures


def pipeline_rate(url: str, data_dir: Path, payloads: list[bytes]) -> tuple[float, dict[str, Any], int]:
    """Pipeline.submit as fast as backpressure allows, then drain: readings/s, health, bytes per device."""
    from urbanbrain.core.config import Settings
    from urbanbrain.core.context import Platform
    from urbanbrain.domains.sensing.engine.engine import RuleEngine
    from urbanbrain.domains.sensing.ingest.pipeline import Pipeline

    p = Platform.build(Settings(database_url=url, data_dir=data_dir))
    pipe = Pipeline(p)
    pipe.start()
    try:
        t0 = time.perf_counter()
        readings = sum(f.result(timeout=120).readings for f in submit_all(pipe, payloads))
        pipe.drain(timeout=300)
        rate = readings / (time.perf_counter() - t0)
        health = pipe.health()
        per_device = RuleEngine.bytes_per_device(pipe.engine.rules)
    finally:
        pipe.stop()
        p.close()
    return rate, health, per_device


def mqtt_rate(
    base: str, auth: dict[str, str], port: int, ids: list[str], payloads: list[bytes], rate: float | None
) -> float:
    """Readings/s through Mosquitto and the MQTT door at QoS 1, publisher in its own process: from the first
    reading processed to the last (or 60 s), as the bare subscriber is timed from its first message to its
    last: the publisher's start (a new interpreter, its imports, its connection) is not the door's time."""
    from _mqtt import spawn_publisher

    from urbanbrain.domains.sensing.ingest.mqtt_door import topic_for

    want = sum(len(msgspec.json.decode(p)) if p[:1] == b"[" else 1 for p in payloads) * len(MEASURES)
    topics = [topic_for("440304", d) for d in ids]
    before = processed(base, auth)
    publisher = spawn_publisher("127.0.0.1", port, topics, payloads, qos=1, rate=rate)
    with httpx.Client(base_url=base, headers=auth, timeout=10) as client:
        while (first := processed(base, auth, client)) == before:
            time.sleep(0.001)
        t0 = time.perf_counter()
        publisher.join()
        end = wait_processed(base, auth, before + want, timeout=60)
        return (processed(base, auth, client) - first) / (end - t0)


def mqtt_payloads(ids: list[str], phase: str, n: int, per_message: int) -> list[bytes]:
    """``n`` MQTT payloads, payload ``j`` from device ``ids[j % len(ids)]`` (its topic): one message, or a
    JSON array of ``per_message`` of that device's messages (a device sending what it buffered)."""
    enc, t = msgspec.json.Encoder(), time.time() - 20
    out = []
    for j in range(n):
        msgs = [{"id": f"{phase}{j}-{k}", "device": ids[j % len(ids)], "ts": t + j * 1e-4 + k * 1e-6,
                 "values": {MEASURES[0]: 50.0, MEASURES[1]: 30.0}} for k in range(per_message)]  # fmt: skip
        out.append(enc.encode(msgs[0] if per_message == 1 else msgs))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--seconds", type=float, default=10.0, help="load per stage, at most")
    ap.add_argument("--devices", type=int, default=5000)
    ap.add_argument("--batch", type=int, default=2000, help="messages per HTTP body")
    ap.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    ap.add_argument("--database-url", default=os.environ.get("URBANBRAIN_BENCH_PG_URL"), help="postgresql")
    ap.add_argument("--rate", type=float, default=300_000, help="readings/s expected: sizes the load")
    ap.add_argument("--conns", type=int, default=6)
    ap.add_argument("--stages", default="pipeline,http,mqtt", help="which of pipeline,http,mqtt to run")
    ap.add_argument("--mqtt", type=int, default=20_000, help="MQTT messages per MQTT stage")
    ap.add_argument("--mqtt-rate", type=float, default=0, help="msg/s cap for the publisher (0: none)")
    ap.add_argument("--mqtt-batch", type=int, default=100, help="messages per MQTT payload, batched stage")
    a = ap.parse_args(argv)
    stages = set(a.stages.split(","))
    rows: list[tuple[str, float, float | None, str]] = []
    with contextlib.ExitStack() as stack:
        data_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="ub-ingest-")))
        url = f"sqlite:///{data_dir / 'bench.sqlite3'}" if a.db == "sqlite" else a.database_url
        if not url:
            ap.error("--db postgresql needs --database-url (an empty database)")
        t = time.perf_counter()
        key, ids = prepare(url, data_dir, a.devices)
        print(f"prepared {a.devices:,} devices in {time.perf_counter() - t:.1f} s", flush=True)
        n = int(a.rate * a.seconds)
        ceil = ceiling(bodies(ids, "c", min(n, 2_000_000), a.batch), data_dir / "ceiling-lake")
        rows.append(("in-process ceiling (decode+threshold+lake)", ceil, None, ""))
        if "pipeline" in stages:
            pipe, health, per_device = pipeline_rate(url, data_dir, bodies(ids, "p", n, a.batch))
            rows.append(("pipeline in process, submit+drain", pipe, ceil, ""))
            mem = int(health["rule_state_bytes"])
            print(f"rule state: {mem / a.devices:,.0f} B/device measured, {per_device} B/device by the "
                  f"engine's formula; 1,000,000 devices ≈ {mem / a.devices * 1e6 / 1e9:.2f} GB (< 2 GB)")  # fmt: skip
        if stages & {"http", "mqtt"}:
            port = stack.enter_context(mosquitto())
            server, base = start_server(
                url, data_dir, f"mqtt://127.0.0.1:{port}" if "mqtt" in stages else None
            )
            try:
                auth = bearer(base)
                if "http" in stages:
                    hdr = f"X-API-Key: {key}\r\n".encode()
                    asyncio.run(http_load(base, hdr, bodies(ids, "w", 20 * a.batch, a.batch), a.conns, 30))
                    payloads = bodies(ids, "h", n, a.batch)  # built before the clock starts
                    before = processed(base, auth)
                    t0 = time.perf_counter()
                    accepted = asyncio.run(http_load(base, hdr, payloads, a.conns, a.seconds))
                    http = accepted / (wait_processed(base, auth, before + accepted) - t0)
                    rows.append((f"HTTP door, {a.conns} conns, {a.batch} msgs/body", http, ceil,
                                 "≥ 250,000 and ≥ 25 %"))  # fmt: skip
                if "mqtt" in stages:
                    from _mqtt import bare_subscriber_rate

                    one = mqtt_payloads(ids, "q", a.mqtt, 1)
                    cap = a.mqtt_rate or None
                    door = mqtt_rate(base, auth, port, ids, one, cap) / len(MEASURES)
                    bare = asyncio.run(bare_subscriber_rate("127.0.0.1", port, qos=1, n_messages=a.mqtt,
                                                            payload=one[0], rate=cap))  # fmt: skip
                    rows.append(("bare aiomqtt subscriber, QoS 1 (msg/s)", bare, None, ""))
                    rows.append(("MQTT door, 1 message per message (msg/s)", door, bare, "≥ 50 % of bare"))
                    many = mqtt_payloads(ids, "b", a.mqtt // a.mqtt_batch * 30, a.mqtt_batch)
                    batched = mqtt_rate(base, auth, port, ids, many, cap and cap / 10)
                    rows.append((f"MQTT door, {a.mqtt_batch} msgs/payload (readings/s)", batched, ceil,
                                 "the HTTP rate"))  # fmt: skip
            finally:
                server.terminate()
                server.wait(timeout=60)
    print(f"\n{'measure (readings/s unless said)':<52}{'value':>12}{'ratio':>9}  target")
    for name, value, base_v, target in rows:
        ratio = f"{value / base_v:>9.2f}" if base_v else " " * 9
        print(f"{name:<52}{value:>12,.0f}{ratio}  {target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
