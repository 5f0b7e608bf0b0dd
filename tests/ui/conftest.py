"""The UI tests: the built web UI served by a real server on the demo district, driven in Debian's Chromium by
Playwright (its own browser download is not reachable here). Every page a test opens is watched: a console
error, an uncaught exception or a request to another host fails the test.

The district is the demo seed (水围村 in full, the rest at a small scale) with fire monitoring installed in a
few 水围 buildings, the demo's accounts (centre operator, three departments' handlers, the verifier, 水围's
grid worker) and the citizens' Open311 client key; one server per backend for the session.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import struct
import threading
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import uvicorn
from playwright.sync_api import Browser, ConsoleMessage, Page, Request, expect, sync_playwright
from sqlalchemy import select

from tests.conftest import START, TEST_PII_KEY, TEST_SECRET, Templates
from urbanbrain.api.app import create_app
from urbanbrain.api.web import BUILT
from urbanbrain.apps.fire_safety.devices import do_install_fire_monitoring
from urbanbrain.core.auth.actions import do_create_api_key, do_create_user
from urbanbrain.core.auth.principal import SYSTEM
from urbanbrain.core.bus.memory import MemoryBus
from urbanbrain.core.clock import SimulatedClock
from urbanbrain.core.config import Settings
from urbanbrain.core.context import Platform
from urbanbrain.domains.registry.models import Building
from urbanbrain.domains.sensing.actions import do_provision_device
from urbanbrain.domains.sensing.schemas import DeviceCreate

# A page waits as long as a person would on a loaded machine (the suite runs in two processes, and the
# software renderer shares the cores): how long is not what these tests check; benchmarks/ui_load.py is.
expect.set_options(timeout=15_000)

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# As root and without a screen; no background traffic (this machine's network is closed: it would be refused)
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--use-gl=swiftshader",
    "--enable-unsafe-swiftshader",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
PASSWORD = "district-brain-2018"
ACCOUNTS = {  # username: (role, department, area)
    "operator": ("operator", None, None),
    "handler": ("dept_handler", "urban_management", None),
    "water": ("dept_handler", "water", None),
    "police": ("dept_handler", "police", None),  # works the crowd plan's tasks (/work/tasks)
    "verifier": ("verifier", None, None),
    "grid": ("grid_worker", None, "440304004028"),
}
SHUIWEI_VILLAGE = "440304004028-V01"
MONITORED_BUILDINGS = 6


@dataclass
class District:
    """A served demo district: its URL, platform, the gateway's readings key and the monitored buildings."""

    base: str
    platform: Platform
    readings_key: str
    buildings: list[str]
    seq: int = 0

    def token(self, username: str) -> str:
        r = httpx.post(f"{self.base}/api/v1/auth/token", data={"username": username, "password": PASSWORD})
        r.raise_for_status()
        return str(r.json()["access_token"])

    def api(self, username: str) -> httpx.Client:
        return httpx.Client(base_url=self.base, headers={"Authorization": f"Bearer {self.token(username)}"})

    def readings(self, messages: list[dict[str, Any]]) -> httpx.Response:
        return httpx.post(
            f"{self.base}/api/v1/sensing/readings", json=messages, headers={"X-API-Key": self.readings_key}
        )

    def message(self, device: str, values: dict[str, float], ts: float) -> dict[str, Any]:
        self.seq += 1
        return {"id": f"ui-{self.seq}", "device": device, "ts": ts, "values": values}


def _prepare(platform: Platform) -> tuple[str, str, list[str]]:
    with platform.db.session() as session:
        do_install_fire_monitoring(session, platform, SYSTEM)
        buildings = list(
            session.scalars(
                select(Building.code)
                .where(Building.village_code == SHUIWEI_VILLAGE)
                .order_by(Building.code)
                .limit(MONITORED_BUILDINGS)
            )
        )
        for b in buildings:
            for prefix, kind in (("SMK", "smoke_detector"), ("TMP", "temp_sensor")):
                do_provision_device(session, platform, SYSTEM,
                                    DeviceCreate(device_id=f"{prefix}-{b}", type_code=kind, building_code=b))  # fmt: skip
        for username, (role, dept, area) in ACCOUNTS.items():
            do_create_user(session, platform.clock, SYSTEM, username=username, password=PASSWORD, role=role,
                           department_code=dept, area_code=area, full_name=f"UI {role}")  # fmt: skip
        _, citizens = do_create_api_key(
            session, platform.clock, SYSTEM, name="citizens' pages", scopes=["open311"]
        )
        _, gateway = do_create_api_key(
            session, platform.clock, SYSTEM, name="gateway", scopes=["devices:write"]
        )
    return citizens, gateway, buildings


@pytest.fixture(scope="session")
def make_district(templates: Templates, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """``make_district(backend)``: the served district of that backend, made on first use, stopped at the end."""
    if not (BUILT / "index.html").exists():
        pytest.fail("the web UI is not built: run `make web` (make test builds it before pytest)")
    made: dict[str, District] = {}
    servers: list[tuple[uvicorn.Server, threading.Thread, Platform, str]] = []

    def make(backend: str) -> District:
        if backend in made:
            return made[backend]
        url = templates.fresh(backend, "seeded")
        settings = Settings(database_url=url, data_dir=tmp_path_factory.mktemp(f"ui_{backend}"), pii_key=TEST_PII_KEY,
                            secret_key=TEST_SECRET, token_minutes=24 * 60, worker_seconds=0)  # fmt: skip
        # a clock that runs (the screens show time passing), from the seed article's day
        platform = Platform.build(settings, clock=SimulatedClock(START, speed=1), bus=MemoryBus())
        citizens, gateway, buildings = _prepare(platform)
        platform.settings.web_open311_key = citizens
        server = uvicorn.Server(uvicorn.Config(create_app(platform=platform), host="127.0.0.1", port=0,
                                               log_level="warning"))  # fmt: skip
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        while not server.started:
            if not thread.is_alive():
                pytest.fail("the UI test server did not start")
            threading.Event().wait(0.05)
        port = server.servers[0].sockets[0].getsockname()[1]
        servers.append((server, thread, platform, url))
        made[backend] = District(f"http://127.0.0.1:{port}", platform, gateway, buildings)
        return made[backend]

    yield make
    for server, thread, platform, url in servers:
        server.should_exit = True
        thread.join(timeout=10)
        platform.close()
        templates.release(url)


@pytest.fixture
def district(make_district: Any) -> District:
    """The SQLite district (the end-to-end flow runs on both backends; the page checks on one)."""
    return make_district("sqlite")  # type: ignore[no-any-return]


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is missing: `make browser` installs Debian's chromium")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@dataclass
class Watch:
    """What went wrong on the pages of a test: console errors, uncaught exceptions, requests off the machine.
    ``expect`` names console errors the test itself provokes (a refused request it checks for)."""

    base: str
    problems: list[str] = field(default_factory=list)
    expected: list[str] = field(default_factory=list)
    pages: list[Page] = field(default_factory=list)

    def expect(self, text: str) -> None:
        self.expected.append(text)

    def _console(self, m: ConsoleMessage) -> None:
        if m.type == "error" and not any(e in m.text for e in self.expected):
            self.problems.append(f"console error on {m.location.get('url', '?')}: {m.text}")

    def _request(self, r: Request) -> None:
        host = urlsplit(r.url).hostname
        if r.url.startswith(("data:", "blob:")) or host in ("127.0.0.1", "localhost"):
            return
        self.problems.append(f"request off the machine: {r.method} {r.url}")

    def page(self, browser: Browser, *, width: int = 1366, height: int = 900, user: str | None = None,
             token: str | None = None, scale: float = 1) -> Page:  # fmt: skip
        """A new browser context and page; ``token`` logs it in (the login form is tested on its own)."""
        context = browser.new_context(viewport={"width": width, "height": height}, device_scale_factor=scale,
                                      locale="zh-CN", timezone_id="Asia/Shanghai")  # fmt: skip
        if token:
            context.add_init_script(f"window.sessionStorage.setItem('urbanbrain.token', {token!r})")
        page = context.new_page()
        page.on("console", self._console)
        page.on("pageerror", lambda e: self.problems.append(f"uncaught: {e}"))
        page.on("request", self._request)
        page.set_default_timeout(15_000)
        self.pages.append(page)
        return page


@contextlib.contextmanager
def watching(district: District) -> Iterator[Watch]:
    """A Watch over the pages opened inside; fails if any of them went wrong."""
    w = Watch(district.base)
    try:
        yield w
    finally:
        for p in w.pages:
            p.context.close()
    assert not w.problems, "\n".join(w.problems)


@pytest.fixture
def watch(district: District) -> Iterator[Watch]:
    with watching(district) as w:
        yield w


def login(page: Page, base: str, path: str, username: str) -> None:
    """Open ``path``, be sent to the login form, log in there, and land back on ``path``."""
    page.goto(base + path)
    page.get_by_test_id("username").fill(username)
    page.get_by_test_id("password").fill(PASSWORD)
    page.get_by_test_id("login").click()
    page.wait_for_url(base + path)


def png() -> bytes:
    """A real PNG (16×16, orange), as a phone camera's file would be (smaller)."""
    raw = b"".join(b"\x00" + b"\xff\x80\x00" * 16 for _ in range(16))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 16, 16, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))  # fmt: skip


SCREENSHOTS = os.environ.get("UB_SCREENSHOTS")  # a folder: the tests leave their screenshots there too


def shoot(page: Page, name: str, tmp_path: Path) -> Path:
    """A screenshot of what the test saw, in its tmp folder (and in $UB_SCREENSHOTS when set)."""
    path = tmp_path / f"{name}.png"
    page.screenshot(path=str(path))
    if SCREENSHOTS:
        Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(SCREENSHOTS) / path.name)
    return path
