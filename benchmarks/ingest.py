"""Sensing ingestion (issue 4): readings/s through the pipeline, the HTTP door and the MQTT door, each beside
the in-process ceiling (msgspec decode + one numpy threshold + a Lake append and flush) measured in the run.

1. A fresh platform in a temp dir (SQLite by default): the demo district at scale 0.05, the fire rules, N
   electrical-fire monitors provisioned through ``do_provision_device``, an API key (``devices:write``) and an
   admin user. Every message carries two readings (residual current and cable temperature), normal values.
2. The ceiling, then ``Pipeline.submit`` in this process (no server), then ``urbanbrain serve`` in its own
   process with a raw asyncio client on several connections, then (``--mqtt``) one reading per MQTT message
   through Mosquitto beside a bare aiomqtt subscriber. Rates count readings until processed (health).
3. Rule-state memory per device and its projection to one million devices.

Targets: HTTP ≥ 250,000 readings/s and ≥ 25 % of the ceiling; MQTT ≥ 50 % of the bare subscriber; < 2 GB of
rule state for 1,000,000 devices.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import msgspec
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
MEASURES = ("residual_current_ma", "cable_temp_c")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


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
    from urbanbrain.domains.sensing.lake import Lake
    from urbanbrain.domains.sensing.wire import Message

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


def pipeline_rate(url: str, data_dir: Path, payloads: list[bytes]) -> tuple[float, dict[str, Any], int]:
    """Pipeline.submit as fast as backpressure allows, then drain: readings/s, health, bytes per device."""
    from urbanbrain.core.config import Settings
    from urbanbrain.core.context import Platform
    from urbanbrain.core.errors import UrbanBrainError
    from urbanbrain.domains.sensing.engine.engine import RuleEngine
    from urbanbrain.domains.sensing.pipeline import Pipeline

    p = Platform.build(Settings(database_url=url, data_dir=data_dir))
    pipe = Pipeline(p)
    pipe.start()
    try:
        futures = []
        t0 = time.perf_counter()
        for body in payloads:
            while True:
                try:
                    futures.append(pipe.submit(body))
                    break
                except UrbanBrainError as exc:
                    if exc.code != "sensing.busy":
                        raise
                    time.sleep(0.002)
        readings = sum(f.result(timeout=120).readings for f in futures)
        pipe.drain(timeout=300)
        rate = readings / (time.perf_counter() - t0)
        health = pipe.health()
        per_device = RuleEngine.bytes_per_device(pipe.engine.rules)
    finally:
        pipe.stop()
        p.close()
    return rate, health, per_device


def start_server(url: str, data_dir: Path, mqtt: str | None = None) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = dict(os.environ, URBANBRAIN_DATABASE_URL=url, URBANBRAIN_DATA_DIR=str(data_dir),
               URBANBRAIN_PORT=str(port), URBANBRAIN_LOG_LEVEL="warning", URBANBRAIN_WORKER_SECONDS="0")  # fmt: skip
    if mqtt:
        env["URBANBRAIN_MQTT_URL"] = mqtt
    server = subprocess.Popen([sys.executable, "-m", "urbanbrain.cli", "serve"], env=env, cwd=ROOT,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    for _ in range(240):
        try:
            if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.5)
    return server, base


def bearer(base: str) -> dict[str, str]:
    r = httpx.post(base + "/api/v1/auth/token", data={"username": "benchadmin", "password": "benchpass1"})
    r.raise_for_status()
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def processed(base: str, auth: dict[str, str]) -> int:
    return int(httpx.get(base + "/api/v1/sensing/health", headers=auth, timeout=10).json()["readings"])


async def post(reader: Any, writer: Any, port: int, headers: bytes, body: bytes) -> tuple[int, bytes]:
    """One raw HTTP/1.1 POST on a kept-alive connection (a full client costs more CPU than the door)."""
    writer.write(b"POST /api/v1/sensing/readings HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n%sContent-Type: "
                 b"application/json\r\nContent-Length: %d\r\n\r\n%s" % (port, headers, len(body), body))  # fmt: skip
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    return int(head.split(b" ", 2)[1]), await reader.readexactly(length)


async def http_load(base: str, headers: bytes, payloads: list[bytes], conns: int, seconds: float) -> int:
    """POST the bodies from ``conns`` connections (429: wait and resend); returns the readings accepted."""
    port = int(base.rsplit(":", 1)[1])
    todo = list(reversed(payloads))
    accepted = 0
    deadline = time.perf_counter() + seconds

    async def client() -> None:
        nonlocal accepted
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while todo and time.perf_counter() < deadline:
                body = todo.pop()
                status, data = await post(reader, writer, port, headers, body)
                if status == 429:
                    todo.append(body)
                    await asyncio.sleep(0.01)
                elif status == 202:
                    accepted += msgspec.json.decode(data)["readings"]
                else:
                    raise RuntimeError(f"HTTP {status}: {data[:300]!r}")
        finally:
            writer.close()

    await asyncio.gather(*(client() for _ in range(conns)))
    return accepted


def wait_processed(base: str, auth: dict[str, str], target: int, timeout: float = 120) -> float:
    end = time.perf_counter() + timeout
    while processed(base, auth) < target and time.perf_counter() < end:
        time.sleep(0.05)
    return time.perf_counter()


def mqtt_rates(
    base: str, auth: dict[str, str], ids: list[str], n: int, rate: float
) -> tuple[float, float, int]:
    """One reading per message through Mosquitto to the door, beside a bare QoS 1 subscriber."""
    from _mqtt import bare_subscriber_rate, spawn_publisher

    from urbanbrain.domains.sensing.mqtt_door import topic_for

    enc = msgspec.json.Encoder()
    t = time.time() - 20
    payloads = [
        enc.encode({"id": f"q{k}", "ts": t + k * 1e-5, "values": {MEASURES[0]: 50.0}}) for k in range(n)
    ]
    topics = [topic_for("440304", d) for d in ids]
    before = processed(base, auth)
    t0 = time.perf_counter()
    spawn_publisher("127.0.0.1", 1883, topics, payloads, qos=1, rate=rate).join()
    done = before
    end = time.perf_counter() + 60
    while done < before + n and time.perf_counter() < end:
        time.sleep(0.05)
        done = processed(base, auth)
    door = (done - before) / (time.perf_counter() - t0)
    bare = asyncio.run(
        bare_subscriber_rate("127.0.0.1", 1883, qos=1, n_messages=n, payload=payloads[0], rate=rate)
    )
    return door, bare, done - before


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--seconds", type=float, default=10.0, help="load per stage, at most")
    ap.add_argument("--devices", type=int, default=5000)
    ap.add_argument("--batch", type=int, default=2000, help="messages per HTTP body")
    ap.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    ap.add_argument(
        "--database-url", default=os.environ.get("URBANBRAIN_BENCH_PG_URL"), help="for postgresql"
    )
    ap.add_argument(
        "--rate", type=float, default=300_000, help="readings/s expected: sizes the pre-encoded load"
    )
    ap.add_argument("--conns", type=int, default=6)
    ap.add_argument("--mqtt", type=int, default=20_000, help="MQTT messages (0: skip)")
    ap.add_argument("--mqtt-rate", type=float, default=10_000, help="msg/s cap, so Mosquitto drops nothing")
    a = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="ub-ingest-") as tmp:
        data_dir = Path(tmp)
        url = f"sqlite:///{data_dir / 'bench.sqlite3'}" if a.db == "sqlite" else a.database_url
        if not url:
            ap.error("--db postgresql needs --database-url (an empty database)")
        t = time.perf_counter()
        key, ids = prepare(url, data_dir, a.devices)
        print(f"prepared {a.devices:,} devices in {time.perf_counter() - t:.1f} s", flush=True)
        n = int(a.rate * a.seconds)
        ceil = ceiling(bodies(ids, "c", min(n, 2_000_000), a.batch), data_dir / "ceiling-lake")
        print(f"ceiling {ceil:,.0f} readings/s", flush=True)
        pipe, health, per_device = pipeline_rate(url, data_dir, bodies(ids, "p", n, a.batch))
        print(f"pipeline {pipe:,.0f} readings/s", flush=True)
        http_bodies = bodies(ids, "h", n, a.batch)
        server, base = start_server(url, data_dir, "mqtt://127.0.0.1:1883" if a.mqtt else None)
        try:
            auth = bearer(base)
            hdr = f"X-API-Key: {key}\r\n".encode()
            asyncio.run(http_load(base, hdr, bodies(ids, "w", 20 * a.batch, a.batch), a.conns, 30))  # warm up
            before = processed(base, auth)
            t0 = time.perf_counter()
            accepted = asyncio.run(http_load(base, hdr, http_bodies, a.conns, a.seconds))
            acked = accepted / (time.perf_counter() - t0)
            http = accepted / (wait_processed(base, auth, before + accepted) - t0)
            print(f"http {http:,.0f} readings/s (acknowledged {acked:,.0f}/s)", flush=True)
            mq = mqtt_rates(base, auth, ids, a.mqtt, a.mqtt_rate) if a.mqtt else None
        finally:
            server.terminate()
            server.wait(timeout=60)
    mem = int(health["rule_state_bytes"])
    rows = [("in-process ceiling (decode+threshold+lake)", ceil, None, None),
            ("pipeline in process, submit+drain", pipe, ceil, "—"),
            (f"HTTP door, {a.conns} conns, {a.batch} msgs/body", http, ceil, "≥ 250,000 and ≥ 25 %")]  # fmt: skip
    if mq:
        rows.append(
            (f"MQTT door, QoS 1, cap {a.mqtt_rate:,.0f}/s ({mq[2]:,}/{a.mqtt:,})", mq[0], None, "≥ 50 %")
        )
        rows.append(("bare aiomqtt subscriber, QoS 1 (baseline)", mq[1], None, None))
    print(f"\n{'measure (readings/s)':<52}{'value':>12}{'ratio':>9}  target")
    for name, value, base_v, target in rows:
        ratio = (
            f"{value / base_v:>9.2f}"
            if base_v
            else (f"{mq[0] / mq[1]:>9.2f}" if mq and "MQTT" in name else " " * 9)
        )
        print(f"{name:<52}{value:>12,.0f}{ratio}  {target or ''}")
    print(f"rule state: {mem / a.devices:,.0f} B/device measured, {per_device} B/device (bytes_per_device), "
          f"1,000,000 devices ≈ {mem / a.devices * 1e6 / 1e9:.2f} GB (target < 2 GB)")  # fmt: skip
    checks = [("HTTP ≥ 250,000 readings/s", http >= 250_000), ("HTTP ≥ 25 % of the ceiling", http >= 0.25 * ceil),
              ("1M devices < 2 GB", mem / a.devices * 1e6 < 2e9)]  # fmt: skip
    if mq:
        checks.append(("MQTT ≥ 50 % of bare subscriber", mq[0] >= 0.5 * mq[1]))
    for name, ok in checks:
        print(f"{'PASS' if ok else 'MISS'}: {name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
