"""UI load: the command centre in Chromium against a district of 50,000 devices and 5,000 open cases.

Measures, in one run:
1. the first draw: from navigation to the map holding every device and the open cases, and the KPI panels
   drawn (aim: under 2 s), and the bytes sent for it (compressed, as on the wire);
2. frame times while alarms stream in at ``--alarm-rate`` a second (default 200) through the real path:
   readings posted to the HTTP door raise smoke warnings, which reach the page on the SSE feed and the map
   (aim: p95 under 33 ms, i.e. 30 frames a second);
3. the baseline beside the compact map layer: the same devices fetched as the ordinary device list
   (a JSON object per device with every property, paged), the form a naive map would draw from.

The district: the demo seed at scale 0.05 with the IoT fire rules, ``--devices`` electrical-fire monitors
(provisioned through the ordinary action, one reading each so that they are online), ``--alarm-devices``
smoke detectors for the alarm stream, ``--cases`` open cases filed through ``do_report_case`` across the
district, served by ``urbanbrain serve`` in its own process (SQLite in a temp dir). For comparison, users
report ThingsBoard's map freezing at 10,000 devices and dashboards taking over 30 s to load.
Chromium is Debian's (``make browser``), run headless with SwiftShader (no GPU here): frame times on a
real wall-screen PC with a GPU are lower.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import random
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import msgspec

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _server import bearer, start_server  # noqa: E402
from alert_latency import smoke_probes  # noqa: E402
from ingest import prepare  # noqa: E402

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--use-gl=swiftshader", "--enable-unsafe-swiftshader",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--no-first-run", "--disable-quic"]  # fmt: skip


def open_cases(url: str, data_dir: Path, n: int) -> None:
    from sqlalchemy import text

    from urbanbrain.core.auth.principal import SYSTEM
    from urbanbrain.core.config import Settings
    from urbanbrain.core.context import Platform
    from urbanbrain.domains.cases.actions import do_report_case
    from urbanbrain.domains.cases.schemas import CaseReport

    rnd = random.Random(7)
    kinds = ["E0101", "C0101", "C0205", "E0703", "C0502"]
    p = Platform.build(Settings(database_url=url, data_dir=data_dir))
    try:
        with p.db.session() as s:  # at the district's buildings, a few metres off: inside the district
            spots = s.execute(text("SELECT lon, lat FROM registry_building")).all()
        for start in range(0, n, 100):
            with p.db.session() as s:
                for k in range(start, min(n, start + 100)):
                    lon, lat = rnd.choice(spots)
                    do_report_case(s, p, SYSTEM, CaseReport(
                        description=f"负载测试 {k}", source="app", category_code=kinds[k % len(kinds)],
                        lon=lon + rnd.uniform(-2e-4, 2e-4), lat=lat + rnd.uniform(-2e-4, 2e-4)))  # fmt: skip
    finally:
        p.close()


def online(base: str, key: str, ids: list[str]) -> None:
    """One normal reading from every device, so that the map draws them online."""
    t = time.time() - 5
    with httpx.Client(base_url=base, headers={"X-API-Key": key}, timeout=60) as c:
        for i in range(0, len(ids), 5000):
            body = [{"id": f"on-{d}", "device": d, "ts": t, "values": {"residual_current_ma": 20.0}}
                    for d in ids[i : i + 5000]]  # fmt: skip
            r = c.post("/api/v1/sensing/readings", content=msgspec.json.encode(body))
            r.raise_for_status()


def baseline(base: str, auth: dict[str, str]) -> tuple[float, int, int]:
    """The naive layer: every device through the ordinary paged device list, compressed on the wire."""
    t0, size, n = time.perf_counter(), 0, 0
    with httpx.Client(base_url=base, headers=auth, timeout=120) as c:
        page = 1
        while True:
            r = c.get("/api/v1/sensing/devices", params={"page": page, "page_size": 500})
            r.raise_for_status()
            size += int(r.headers.get("content-length") or len(r.content))
            items = r.json()["items"]
            n += len(items)
            if len(items) < 500:
                break
            page += 1
    return time.perf_counter() - t0, size, n


def compact(base: str, auth: dict[str, str]) -> tuple[float, int, int]:
    t0 = time.perf_counter()
    r = httpx.get(base + "/api/v1/sensing/map/devices", headers=auth, timeout=120)
    r.raise_for_status()
    return (
        time.perf_counter() - t0,
        int(r.headers.get("content-length") or len(r.content)),
        len(r.json()["rows"]),
    )


def stream_alarms(
    base: str, key: str, smoke: list[str], rate: float, seconds: float, stop: threading.Event
) -> int:
    """``rate`` smoke warnings a second, each from a detector not yet in alarm, in one body a tick."""
    sent, k = 0, 0
    tick = 0.25
    per_tick = max(1, int(rate * tick))
    with httpx.Client(base_url=base, headers={"X-API-Key": key}, timeout=30) as c:
        t_next = time.perf_counter()
        while not stop.is_set() and k < len(smoke) and sent < rate * seconds:
            body = [{"id": f"al-{smoke[j]}", "device": smoke[j], "ts": time.time() - 1,
                     "values": {"smoke_obscuration": 4.5}} for j in range(k, min(len(smoke), k + per_tick))]  # fmt: skip
            k += len(body)
            c.post("/api/v1/sensing/readings", content=msgspec.json.encode(body))
            sent += len(body)
            t_next += tick
            time.sleep(max(0.0, t_next - time.perf_counter()))
    return sent


def frames_for(page, ms: int) -> list[float]:  # noqa: ANN001
    page.evaluate(FRAMES_START)
    page.wait_for_timeout(ms)
    return json.loads(page.evaluate(FRAMES_STOP)) or [0.0]


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(round(q / 100 * (len(s) - 1))))]


def main(argv: list[str] | None = None) -> int:
    from playwright.sync_api import sync_playwright

    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--devices", type=int, default=50_000)
    ap.add_argument("--cases", type=int, default=5_000)
    ap.add_argument("--alarm-rate", type=float, default=200.0)
    ap.add_argument(
        "--seconds", type=float, default=10.0, help="how long alarms stream while frames are timed"
    )
    ap.add_argument("--chromium", default="/usr/bin/chromium")
    ap.add_argument("--keep", type=Path, help="prepare the district in this folder once and reuse it after "
                    "(the alarms of a run stay: give --alarm-rate × --seconds fresh detectors a run)")  # fmt: skip
    a = ap.parse_args(argv)
    n_alarm = int(a.alarm_rate * a.seconds) + 50
    with contextlib.ExitStack() as stack:
        if a.keep:
            a.keep.mkdir(parents=True, exist_ok=True)
            data_dir = a.keep
        else:
            data_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="ub-ui-load-")))
        url = f"sqlite:///{data_dir / 'bench.sqlite3'}"
        t0 = time.perf_counter()
        made = data_dir / "prepared.json"
        if made.exists():
            key, ids = json.loads(made.read_text())
        else:
            key, ids = prepare(url, data_dir, a.devices)
            open_cases(url, data_dir, a.cases)
            if a.keep:
                made.write_text(json.dumps([key, ids]))
        # new detectors each run: one already in alarm raises nothing new
        smoke = smoke_probes(url, data_dir, n_alarm + PROBES, prefix=f"SMK-R{int(time.time()) % 100000:05d}-")
        print(f"district: {len(ids):,} monitors + {len(smoke):,} smoke detectors, {a.cases:,} cases "
              f"({time.perf_counter() - t0:.0f} s to prepare)")  # fmt: skip
        server, base = start_server(url, data_dir)
        stack.callback(server.wait, 60)
        stack.callback(server.terminate)
        auth = bearer(base)
        online(base, key, ids)
        time.sleep(2)
        token = auth["Authorization"].split()[1]
        b_time, b_bytes, b_n = baseline(base, auth)
        c_time, c_bytes, c_n = compact(base, auth)

        p = stack.enter_context(sync_playwright())
        browser = p.chromium.launch(executable_path=a.chromium, args=CHROMIUM_ARGS)
        stack.callback(browser.close)
        context = browser.new_context(viewport={"width": 1920, "height": 1080}, locale="zh-CN")
        context.add_init_script(f"window.sessionStorage.setItem('urbanbrain.token', {token!r})")
        page = context.new_page()
        wire = {"bytes": 0, "requests": 0}

        def finished(req) -> None:  # noqa: ANN001
            sizes = req.sizes()
            wire["bytes"] += sizes["responseBodySize"] + sizes["responseHeadersSize"]
            wire["requests"] += 1

        page.on("requestfinished", finished)
        page.goto(base + "/", wait_until="commit")
        page.wait_for_function(DRAWN, arg={"devices": c_n}, timeout=120_000, polling=50)
        first_draw = page.evaluate("performance.now()") / 1000
        first_bytes = wire["bytes"]
        first_requests = wire["requests"]
        page.wait_for_timeout(1500)
        # where a frame's time goes: nothing changing, then the whole map repainted every frame
        idle = frames_for(page, 3000)
        page.evaluate(REPAINT, 200)
        repaint = frames_for(page, 3000)
        # reading accepted → its alarm on the page's feed, one probe at a time (the first ones warm up)
        probes, latencies = smoke[-PROBES:], []
        smoke = smoke[:-PROBES]
        with httpx.Client(base_url=base, headers={"X-API-Key": key}, timeout=30) as c:
            for j, device in enumerate(probes):
                body = [{"id": f"probe-{device}", "device": device, "ts": time.time() - 1,
                         "values": {"smoke_obscuration": 4.5}}]  # fmt: skip
                r = c.post("/api/v1/sensing/readings", content=msgspec.json.encode(body))
                accepted = time.perf_counter()
                r.raise_for_status()
                page.wait_for_function(FEED_HAS, arg=device, timeout=30_000, polling="raf")
                if j >= 3:
                    latencies.append(time.perf_counter() - accepted)
        page.wait_for_timeout(500)
        page.evaluate(FRAMES_START)
        stop = threading.Event()
        sent = stream_alarms(base, key, smoke, a.alarm_rate, a.seconds, stop)
        frames = json.loads(page.evaluate(FRAMES_STOP))
        renderer = page.evaluate(RENDERER)
        shown = page.evaluate(ALARMS_DRAWN)
    p95, p50 = pct(frames, 95), statistics.median(frames)
    print(f"\n{'measure':<52}{'value':>14}")
    print(f"{'first draw (navigation → map + KPIs drawn)':<52}{first_draw:>12.2f} s   aim < 2 s: "
          f"{'PASS' if first_draw < 2 else 'MISS'}")  # fmt: skip
    print(
        f"{'bytes for the first draw (on the wire)':<52}{first_bytes / 1e6:>11.2f} MB   ({first_requests} requests)"
    )
    print(f"{'frame time p50 / p95 with alarms streaming':<52}{p50:>7.1f} / {p95:.1f} ms   aim p95 < 33 ms: "
          f"{'PASS' if p95 < 33 else 'MISS'} ({len(frames)} frames, {sent:,} alarms sent, {shown} on the map)")  # fmt: skip
    print(f"{'  frame time p50, nothing changing':<52}{statistics.median(idle):>7.1f} ms")
    print(f"{'  frame time p50, the whole map repainted each frame':<52}{statistics.median(repaint):>7.1f} ms "
          f"(the renderer: {renderer})")  # fmt: skip
    print(f"{'reading accepted → alarm on the feed p50 / max':<52}{pct(latencies, 50) * 1000:>7.0f} / "
          f"{max(latencies) * 1000:.0f} ms   aim < 1 s ({len(latencies)} probes)")  # fmt: skip
    print(
        f"{'devices layer: compact endpoint':<52}{c_time:>12.2f} s {c_bytes / 1e6:>7.2f} MB ({c_n:,} devices)"
    )
    print(f"{'  baseline: the paged device list (naive layer)':<52}{b_time:>12.2f} s {b_bytes / 1e6:>7.2f} MB "
          f"({b_n:,} devices)")  # fmt: skip
    print(
        f"{'  ratio baseline / compact':<52}{b_time / c_time:>11.1f}× time {b_bytes / c_bytes:>6.1f}× bytes"
    )
    return 0


# The page has drawn when the map holds every device and the KPI panels show numbers (selectors: web/src/centre).
DRAWN = """({devices}) => {
  const map = window.__ubMap
  if (!map || !map.loaded()) return false
  const legend = document.querySelector('[data-testid=legend-devices]')
  if (!legend || !legend.textContent.replace(/[,，\\s]/g, '').includes(String(devices))) return false
  const kpis = document.querySelectorAll('[data-testid^=kpi-]')
  return kpis.length > 0 && [...kpis].every((k) => /\\d/.test(k.textContent || ''))
}"""
REPAINT = """(n) => { const m = window.__ubMap; let k = 0; const go = () => { m.triggerRepaint(); if (++k < n) requestAnimationFrame(go) }; go() }"""
RENDERER = """() => { const gl = document.createElement('canvas').getContext('webgl'); const i = gl && gl.getExtension('WEBGL_debug_renderer_info'); return i ? gl.getParameter(i.UNMASKED_RENDERER_WEBGL) : 'unknown' }"""
PROBES = 13
# the page's feed shows an alarm from this device
FEED_HAS = """(device) => [...document.querySelectorAll('[data-testid=feed-item]')].some((el) => el.dataset.origin === device)"""
FRAMES_START = """() => {
  window.__ubFrames = []
  let last = performance.now()
  const step = (t) => { window.__ubFrames.push(t - last); last = t; if (window.__ubFrames) window.__ubRaf = requestAnimationFrame(step) }
  window.__ubRaf = requestAnimationFrame(step)
}"""
FRAMES_STOP = """() => { cancelAnimationFrame(window.__ubRaf); const f = window.__ubFrames.slice(1); return JSON.stringify(f) }"""
ALARMS_DRAWN = """() => (document.querySelector('[data-testid=legend-alarms]') || {}).textContent || ''"""


if __name__ == "__main__":
    raise SystemExit(main())
