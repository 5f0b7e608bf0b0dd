"""Every page, as the people who use it open it: no console error, no request off the machine, WCAG 2 AA
(axe-core's checks: contrast, names and labels, landmarks), the phone pages within 390 px, the keyboard, the
language switch and the login form's refusal."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from tests.ui.conftest import District, Watch
from urbanbrain.domains.registry.models import Facility

AXE = Path(__file__).resolve().parents[2] / "web" / "node_modules" / "axe-core" / "axe.min.js"
PHONE = (390, 844)
WALL = (1920, 1080)
DESKTOP = (1366, 900)


def _facility_code(d: District) -> str:
    with d.platform.db.session() as s:
        return str(s.scalar(select(Facility.code).where(Facility.kind == "street_light").limit(1)))


def _pages(d: District) -> list[tuple[str, str | None, tuple[int, int]]]:
    """(path, who is logged in, viewport) for every screen."""
    return [
        ("/", "operator", WALL),
        ("/login", None, DESKTOP),
        ("/work/triage", "operator", DESKTOP),
        ("/work/inbox", "handler", DESKTOP),
        ("/work/verify", "verifier", DESKTOP),
        ("/work/overdue", "operator", DESKTOP),
        ("/work/alarms", "operator", DESKTOP),
        ("/work/labels", "operator", DESKTOP),
        ("/work/inspections", "grid", PHONE),
        ("/work/tasks", "police", PHONE),
        ("/m/", None, PHONE),
        ("/m/report", None, PHONE),
        ("/m/track", None, PHONE),
        (f"/f/{_facility_code(d)}", None, PHONE),
    ]


def _open(watch: Watch, browser, d: District, path: str, who: str | None, size: tuple[int, int]) -> Page:
    page = watch.page(browser, width=size[0], height=size[1], token=d.token(who) if who else None)
    page.goto(d.base + path)
    expect(page.locator("main")).to_be_visible()
    page.wait_for_timeout(800)  # the data the page asks for on opening (the live feed never goes idle)
    return page


def test_every_page_draws_without_an_error_or_a_request_off_the_machine(district, browser, watch):
    for path, who, size in _pages(district):
        page = _open(watch, browser, district, path, who, size)
        assert page.url.startswith(district.base + path.rstrip("/")), f"{path} sent {who} to {page.url}"
    # the watch fixture fails the test on any console error, uncaught exception or outside request


def _axe(page: Page) -> list[dict]:
    page.evaluate(AXE.read_text(encoding="utf-8"))
    result = page.evaluate(
        "async () => JSON.stringify(await axe.run(document, {runOnly: {type: 'tag', values: "
        "['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}}))"
    )
    return json.loads(result)["violations"]  # type: ignore[no-any-return]


def test_every_page_passes_wcag_aa(district, browser, watch):
    if not AXE.exists():
        pytest.fail("axe-core is missing from web/node_modules: run `make web`")
    found = []
    for path, who, size in _pages(district):
        page = _open(watch, browser, district, path, who, size)
        page.wait_for_timeout(500)  # panels that fill in after their data arrives
        for v in _axe(page):
            nodes = "; ".join(n["target"][0] if isinstance(n["target"][0], str) else str(n["target"])
                              for n in v["nodes"][:3])  # fmt: skip
            found.append(f"{path}: {v['id']} ({v['impact']}): {v['help']} at {nodes}")
    assert not found, "\n".join(found)


def test_the_phone_pages_fit_a_390_px_screen(district, browser, watch):
    for path, who, size in _pages(district):
        if size != PHONE:
            continue
        page = _open(watch, browser, district, path, who, size)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"{path} is {width} px wide on a 390 px phone"
        small = page.evaluate(
            "[...document.querySelectorAll('button, a, input, select, textarea')]"
            ".filter(e => e.offsetParent && e.getBoundingClientRect().height < 24).map(e => e.outerHTML.slice(0, 80))"
        )
        assert not small, f"{path}: controls too small to tap: {small}"


def test_a_citizen_reports_with_the_keyboard_alone(district, browser, watch):
    page = _open(watch, browser, district, "/m/report", None, PHONE)
    for _ in range(25):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement?.dataset?.testid") == "report-description":
            break
    else:
        pytest.fail("Tab never reaches the description")
    page.keyboard.type("水围村路口的路灯不亮了")
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement?.dataset?.testid") == "report-submit":
            break
    else:
        pytest.fail("Tab never reaches the submit button")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none", "the focused button shows no focus ring"


def test_the_language_switch_turns_the_page_into_english_and_stays(district, browser, watch):
    page = _open(watch, browser, district, "/m/", None, PHONE)
    zh = page.locator("main").inner_text()
    assert "报" in zh  # zh-CN first
    page.get_by_test_id("lang").first.select_option("en")
    expect(page.locator("main")).to_contain_text("Report")
    assert page.evaluate("document.documentElement.lang") == "en"
    page.reload()
    expect(page.locator("main")).to_contain_text("Report")


def test_a_wrong_password_gets_the_platforms_sentence(district, browser, watch):
    page = _open(watch, browser, district, "/login", None, DESKTOP)
    watch.expect("401")
    page.get_by_test_id("username").fill("operator")
    page.get_by_test_id("password").fill("not-the-password")
    page.get_by_test_id("login").click()
    expect(page.get_by_test_id("login-error")).to_contain_text("用户名或密码")
    assert page.url.endswith("/login")
