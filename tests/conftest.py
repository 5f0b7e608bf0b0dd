"""Test fixtures: every storage test runs on SQLite and on PostgreSQL + PostGIS.

Databases are made from templates, migrated (and, for the ``seeded`` kind, loaded with the demo district at a
small scale) once per session per backend, then copied for each test, so each test owns a fresh database.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import queue
import shutil
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, ClassVar

import psycopg
import pytest
import uvicorn
from fastapi.testclient import TestClient

from urbanbrain.api.app import create_app
from urbanbrain.core import migrate
from urbanbrain.core.auth.actions import do_create_user
from urbanbrain.core.auth.principal import SYSTEM
from urbanbrain.core.bus.memory import MemoryBus
from urbanbrain.core.clock import SimulatedClock
from urbanbrain.core.config import Settings
from urbanbrain.core.context import Platform

PG_ADMIN_URL = os.environ.get("URBANBRAIN_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
NATS_URL = os.environ.get("URBANBRAIN_TEST_NATS_URL", "nats://127.0.0.1:4222")
TEST_PII_KEY = "11" * 32
TEST_SECRET = "test-signing-key-" + "x" * 32
SEED_SCALE = 0.05
# 2018-07-09 08:00 in Shenzhen: the day the seed article was filed.
START = datetime(2018, 7, 9, 8, 0, tzinfo=timezone(timedelta(hours=8)))
BACKENDS = ["sqlite", "postgresql"]
_counter = itertools.count()


def _pg_url(name: str) -> str:
    return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name


def _pg_admin(sql: str) -> None:
    with psycopg.connect(PG_ADMIN_URL.replace("postgresql+psycopg", "postgresql"), autocommit=True) as conn:
        conn.execute(sql)


class Templates:
    """Per-session template databases, created on first use, dropped at the end."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.made: dict[tuple[str, str], str] = {}
        self.pg_databases: list[str] = []
        self.tag = uuid.uuid4().hex[:8]
        # A test's database is dropped by a thread while the next tests run: a DROP DATABASE waits for a
        # checkpoint (~0.3-1.5 s), and hundreds of them at the end of the session took minutes.
        self._done: queue.Queue[str | None] = queue.Queue()
        self._dropper = threading.Thread(target=self._drop_released, name="drop-test-databases", daemon=True)
        self._dropper.start()

    def release(self, url: str) -> None:
        """The test using ``url`` is over: drop its database (PostgreSQL) in the background."""
        name = url.rsplit("/", 1)[1]
        if url.startswith("postgresql") and name in self.pg_databases and url not in self.made.values():
            self.pg_databases.remove(name)
            self._done.put(name)

    def _drop_released(self) -> None:
        while (name := self._done.get()) is not None:
            with contextlib.suppress(psycopg.Error):
                _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def template(self, backend: str, kind: str) -> str:
        key = (backend, kind)
        if key not in self.made:
            url = self._empty(backend, f"tmpl_{kind}")
            migrate.upgrade(url)
            if kind == "seeded":
                platform = build_platform(url, self.root / f"data_{backend}_tmpl")
                try:
                    from urbanbrain.demo.seed import do_seed_futian

                    with platform.db.session() as session:
                        do_seed_futian(session, platform, SYSTEM, scale=SEED_SCALE)
                finally:
                    platform.close()
            self.made[key] = url
        return self.made[key]

    def _empty(self, backend: str, label: str) -> str:
        if backend == "sqlite":
            return f"sqlite:///{self.root / f'{label}.sqlite3'}"
        name = f"ub_{self.tag}_{label}"
        _pg_admin(f'CREATE DATABASE "{name}"')
        self.pg_databases.append(name)
        return _pg_url(name)

    def fresh(self, backend: str, kind: str) -> str:
        """A new database: empty, migrated, or migrated and seeded."""
        n = next(_counter)
        if kind == "empty":
            return self._empty(backend, f"db{n}")
        src = self.template(backend, kind)
        if backend == "sqlite":
            dst = self.root / f"db{n}.sqlite3"
            shutil.copy(src.removeprefix("sqlite:///"), dst)
            return f"sqlite:///{dst}"
        name = f"ub_{self.tag}_db{n}"
        _pg_admin(f'CREATE DATABASE "{name}" TEMPLATE "{src.rsplit("/", 1)[1]}"')
        self.pg_databases.append(name)
        return _pg_url(name)

    def drop_all(self) -> None:
        self._done.put(None)
        self._dropper.join()
        for name in reversed(self.pg_databases):
            with contextlib.suppress(psycopg.Error):
                _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.contextmanager
def serving(platform: Platform) -> Iterator[str]:
    """The platform's app on a real HTTP server (a free port, a thread), for what a TestClient cannot do:
    streams read while other requests come in. Yields its base URL; stops it after."""
    server = uvicorn.Server(
        uvicorn.Config(create_app(platform=platform), host="127.0.0.1", port=0, log_level="error")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("the test server did not start")
        threading.Event().wait(0.05)
    try:
        yield f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@dataclass
class People:
    """An API client with a user per role (``people``: name -> (role, scope keywords)), each logged in once,
    on first use (logging in is slow on purpose: Argon2id), and a request helper under ``base``."""

    api: Any
    people: dict[str, tuple[str, dict[str, str]]]
    heads: dict[str, dict[str, str]] = field(default_factory=dict)
    base: ClassVar[str] = ""

    @property
    def client(self) -> Any:
        return self.api.client

    @property
    def platform(self) -> Any:
        return self.api.platform

    def head(self, who: str) -> dict[str, str]:
        if who not in self.heads:
            role, scope = self.people[who]
            self.heads[who] = self.api.user(role, **scope)
        return self.heads[who]

    def call(self, method: str, who: str, path: str, expect: int = 200, **kw: Any) -> Any:
        """``path`` under ``base`` as ``who``; the status must be ``expect``; the JSON (or text) answer."""
        r = self.client.request(method, self.base + path, headers=self.head(who), **kw)
        assert r.status_code == expect, r.text
        return r.json() if r.headers.get("content-type", "").startswith("application/json") else r.text


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The longest test (the README's `make demo` in a clean clone, minutes) first: run in parallel
    (`make test` uses two processes), it then overlaps the rest instead of running alone at the end."""
    items.sort(key=lambda item: item.get_closest_marker("newcomer") is None)


@pytest.fixture(scope="session")
def templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Templates]:
    t = Templates(tmp_path_factory.mktemp("databases"))
    yield t
    t.drop_all()


def build_platform(
    url: str, data_dir: Path, clock: SimulatedClock | None = None, bus: object = None
) -> Platform:
    # Tokens last a simulated year: tests move the clock by weeks (the expiry test reads this setting).
    settings = Settings(
        database_url=url,
        data_dir=data_dir,
        pii_key=TEST_PII_KEY,
        secret_key=TEST_SECRET,
        token_minutes=365 * 24 * 60,
        worker_seconds=0,
    )
    return Platform.build(settings, clock=clock or SimulatedClock(START, speed=0), bus=bus or MemoryBus())  # type: ignore[arg-type]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def clock() -> SimulatedClock:
    return SimulatedClock(START, speed=0)


def _platform(
    templates: Templates, backend: str, kind: str, tmp_path: Path, clock: SimulatedClock
) -> Iterator[Platform]:
    url = templates.fresh(backend, kind)
    platform = build_platform(url, tmp_path / "data", clock)
    yield platform
    platform.close()
    templates.release(url)


@pytest.fixture
def platform(templates: Templates, backend: str, tmp_path: Path, clock: SimulatedClock) -> Iterator[Platform]:
    """A migrated, empty platform on the parametrised backend."""
    yield from _platform(templates, backend, "migrated", tmp_path, clock)


@pytest.fixture
def seeded(templates: Templates, backend: str, tmp_path: Path, clock: SimulatedClock) -> Iterator[Platform]:
    """A platform holding the demo district (Shuiwei in full, the rest at a small scale)."""
    yield from _platform(templates, backend, "seeded", tmp_path, clock)


@dataclass
class Api:
    """A real HTTP client on the app, with helpers to act as users of each role."""

    client: TestClient
    platform: Platform

    def user(self, role: str, *, department: str | None = None, area: str | None = None) -> dict[str, str]:
        """Create a user of ``role`` and return the Authorization header for it."""
        username = f"{role}-{next(_counter)}"
        password = "correct horse battery staple"
        with self.platform.db.session() as session:
            do_create_user(
                session,
                self.platform.clock,
                SYSTEM,
                username=username,
                password=password,
                role=role,
                department_code=department,
                area_code=area,
            )
        r = self.client.post("/api/v1/auth/token", data={"username": username, "password": password})
        assert r.status_code == 200, r.text
        return {"Authorization": f"Bearer {r.json()['access_token']}"}


@pytest.fixture
def api(seeded: Platform) -> Iterator[Api]:
    with TestClient(create_app(platform=seeded), raise_server_exceptions=False) as client:
        yield Api(client, seeded)


@pytest.fixture
def empty_api(platform: Platform) -> Iterator[Api]:
    with TestClient(create_app(platform=platform), raise_server_exceptions=False) as client:
        yield Api(client, platform)
