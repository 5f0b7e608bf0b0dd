"""A platform server for the sensing benchmarks (a helper module: it prints nothing): ``urbanbrain serve`` in
a process of its own on a free port, its admin token, the readings it has processed, and a load generator that
posts bodies on raw kept-alive HTTP/1.1 connections (a full HTTP client costs more CPU than the door)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import msgspec

ROOT = Path(__file__).resolve().parents[1]
PG_ADMIN = os.environ.get("URBANBRAIN_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


@contextlib.contextmanager
def scratch_database(prefix: str, admin: str = PG_ADMIN) -> Iterator[str]:
    """An empty PostgreSQL database of the benchmark's own on the server of ``admin``; dropped afterwards."""
    import psycopg

    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield admin.rsplit("/", 1)[0] + "/" + name
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


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


def processed(base: str, auth: dict[str, str], client: httpx.Client | None = None) -> int:
    """Readings the server has processed (``client``: a kept-alive connection, for polling quickly)."""
    get = client.get if client is not None else httpx.get
    return int(get(base + "/api/v1/sensing/health", headers=auth, timeout=10).json()["readings"])


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


@contextlib.contextmanager
def mosquitto(port: int = 0) -> Iterator[int]:
    """A Mosquitto of the benchmark's own, set as production sets it (docs/operations.md): no cap on the
    messages queued for a subscriber that is behind (the default, 1000, drops QoS 1 messages past it), 1000
    in flight per client, Nagle off. Yields its port; the system's Mosquitto is left alone."""
    port = port or free_port()
    with tempfile.TemporaryDirectory(prefix="ub-mosquitto-") as tmp:
        conf = Path(tmp) / "mosquitto.conf"
        conf.write_text(
            f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\nmax_queued_messages 0\n"
            "max_inflight_messages 1000\nset_tcp_nodelay true\nlog_dest none\n"
        )
        broker = subprocess.Popen(["/usr/sbin/mosquitto", "-c", str(conf)], stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)  # fmt: skip
        try:
            for _ in range(100):
                with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
                time.sleep(0.05)
            yield port
        finally:
            broker.terminate()
            broker.wait(timeout=10)
