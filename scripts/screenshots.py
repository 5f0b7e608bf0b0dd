"""Screenshots of the running demo for the README and docs/images: the command centre's big screen, the light
show's zone with a what-if, a case on the department workbench, the citizen's report page, a facility's QR
page, a department's masked view of a shared dataset and the decision-support dashboard, in Debian's Chromium.

Run `make demo` in one terminal, then `.venv/bin/python scripts/screenshots.py` in another (it reads the demo's
accounts from var/demo-credentials.json). Chinese text needs a CJK font on the machine (Debian:
fonts-wqy-microhei, which `make browser` installs)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import httpx
from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]
ARGS = ["--no-sandbox", "--disable-gpu", "--use-gl=swiftshader", "--enable-unsafe-swiftshader",
        "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip


def token(base: str, account: dict[str, str]) -> str:
    r = httpx.post(
        f"{base}/api/v1/auth/token", data={"username": account["username"], "password": account["password"]}
    )
    r.raise_for_status()
    return str(r.json()["access_token"])


def shared_cases(base: str, handler: str, steward: str) -> int:
    """The urban-management handler's grant of the cases dataset (asked for and approved once)."""
    hub = f"{base}/api/v1/datahub"
    mine = httpx.get(f"{hub}/grants", headers={"Authorization": f"Bearer {handler}"}).json()["items"]
    found = [g["id"] for g in mine if g["dataset"] == "cases" and g["active"]]
    if found:
        return int(found[0])
    body = {"dataset": "cases", "purpose": "城管案件月度分析 / monthly analysis of urban-management cases",
            "fields": ["number", "state", "category_code", "street_code", "reporter_name", "reporter_contact",
                       "reported_at"]}  # fmt: skip
    asked = httpx.post(f"{hub}/requests", json=body, headers={"Authorization": f"Bearer {handler}"})
    asked.raise_for_status()
    decided = httpx.post(f"{hub}/requests/{asked.json()['id']}/decision", json={"decision": "approve"},
                         headers={"Authorization": f"Bearer {steward}"})  # fmt: skip
    decided.raise_for_status()
    return int(decided.json()["grant"]["id"])


def main() -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--url", default="http://127.0.0.1:8000")
    ap.add_argument("--credentials", type=Path, default=ROOT / "var" / "demo-credentials.json")
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "images")
    ap.add_argument("--chromium", default="/usr/bin/chromium")
    a = ap.parse_args()
    accounts = json.loads(a.credentials.read_text())["accounts"]
    base = a.url.rstrip("/")
    operator, handler = token(base, accounts["operator"]), token(base, accounts["handler"])
    grant = shared_cases(base, handler, token(base, accounts["steward"]))
    inbox = httpx.get(f"{base}/api/v1/cases/inbox", params={"page_size": 20},
                      headers={"Authorization": f"Bearer {handler}"}).json()["items"]  # fmt: skip
    case = next((c for c in inbox if c["state"] == "in_progress"), inbox[0])
    facility = httpx.get(f"{base}/api/v1/registry/facilities", params={"kind": "rubbish_bin", "page_size": 1},
                         headers={"Authorization": f"Bearer {operator}"}).json()["items"][0]  # fmt: skip
    a.out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=a.chromium, args=ARGS)

        def page(width: int, height: int, tok: str | None = None, scale: float = 1):  # noqa: ANN202
            ctx = browser.new_context(viewport={"width": width, "height": height}, device_scale_factor=scale,
                                      locale="zh-CN", timezone_id="Asia/Shanghai")  # fmt: skip
            if tok:
                ctx.add_init_script(f"window.sessionStorage.setItem('urbanbrain.token', {tok!r})")
            return ctx.new_page()

        centre = page(1920, 1080, operator)
        centre.goto(base + "/")
        centre.wait_for_function("() => window.__ubMap && window.__ubMap.loaded()", timeout=60_000)
        centre.wait_for_timeout(4000)  # the panels' charts and the feed fill in
        centre.screenshot(path=str(a.out / "command-centre.png"))

        # the light show's zone: its drawer with a what-if (close the west walk for 10 minutes), once the
        # demo's evening has reached the plaza (make demo streams it in the first minutes)
        zone = centre.locator("[data-testid=crowd-zone][data-zone=CC-PLAZA]")
        if zone.count():
            zone.click()
            drawer = centre.get_by_test_id("zone-detail")
            drawer.get_by_test_id("what-if-input").select_option("CC-PLAZA-E1")
            drawer.get_by_test_id("what-if-minutes").fill("10")
            drawer.get_by_test_id("what-if-run").click()
            drawer.get_by_test_id("what-if-result").wait_for(timeout=300_000)
            drawer.get_by_test_id("what-if-result").scroll_into_view_if_needed()
            centre.wait_for_timeout(1500)
            centre.screenshot(path=str(a.out / "crowd-what-if.png"))

        desk = page(1366, 900, handler)
        desk.goto(f"{base}/work/cases/{case['number']}")
        desk.get_by_test_id("case-state").wait_for()
        desk.wait_for_timeout(1000)
        desk.screenshot(path=str(a.out / "workbench.png"))

        phone = page(390, 844, scale=2)
        phone.goto(f"{base}/f/{facility['code']}")
        phone.get_by_test_id("facility-name").wait_for()
        phone.wait_for_timeout(500)
        phone.screenshot(path=str(a.out / "qr-page.png"))
        phone.get_by_test_id("report-here").click()
        phone.get_by_test_id("report-description").fill("垃圾桶盖子坏了，垃圾满出来了，味道很大")
        phone.get_by_test_id("report-suggestion").wait_for(timeout=10_000)
        phone.wait_for_timeout(500)
        phone.screenshot(path=str(a.out / "citizen-report.png"))
        data = page(1366, 900, handler)
        data.goto(f"{base}/work/data/mine")
        card = data.locator(f"[data-testid=grant][data-grant='{grant}']")
        if not card.count():
            card = data.get_by_test_id("grant").first
        card.get_by_test_id("grant-preview").click()
        card.get_by_test_id("preview-row").first.wait_for()
        data.wait_for_timeout(800)
        data.screenshot(path=str(a.out / "datahub.png"))

        insight = page(1600, 1000, operator)
        insight.goto(f"{base}/work/insight")
        insight.get_by_test_id("kpi-value").first.wait_for()
        insight.wait_for_timeout(3000)  # the charts draw
        insight.screenshot(path=str(a.out / "insight.png"), full_page=True)
        browser.close()
    for name in ("command-centre", "workbench", "qr-page", "citizen-report", "datahub", "insight"):
        print(a.out / f"{name}.png")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
