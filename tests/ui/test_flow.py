"""The end-to-end flow on the demo district, in Chromium: a citizen scans a facility's QR code and reports a
problem with a photo; the report appears live on the big screen; the owning department accepts and resolves
it on its workbench; the verifier passes it and the centre closes it; the citizen sees it closed. On SQLite
and on PostgreSQL."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from tests.conftest import BACKENDS
from tests.ui.conftest import District, login, png, shoot, watching
from urbanbrain.domains.registry.models import Facility

SHUIWEI_COMMUNITY = "440304004028"


def _rubbish_bin(d: District) -> Facility:
    with d.platform.db.session() as s:
        f = s.scalar(select(Facility).where(Facility.kind == "rubbish_bin",
                                            Facility.community_code == SHUIWEI_COMMUNITY).limit(1))  # fmt: skip
        assert f is not None
        s.expunge(f)
        return f


def _state(d: District, number: str) -> str:
    with d.api("operator") as api:
        return str(api.get(f"/api/v1/cases/{number}").json()["state"])


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_report_from_a_facility_qr_code_to_closed(make_district, browser, backend, tmp_path):
    d = make_district(backend)
    bin_ = _rubbish_bin(d)
    with watching(d) as w:
        centre = w.page(browser, width=1920, height=1080, token=d.token("operator"))
        centre.goto(d.base + "/")
        expect(centre.get_by_test_id("stream-state")).to_have_class(re.compile(r"\bon\b"))  # live

        # 1. the citizen scans the bin's QR code: its identity, then one tap to report it, with a photo
        phone = w.page(browser, width=390, height=844, scale=2)
        phone.goto(f"{d.base}/f/{bin_.code}")
        expect(phone.get_by_test_id("facility-name")).to_have_text(bin_.name)
        expect(phone.get_by_test_id("facility-owner")).to_contain_text("福田区城市管理和综合执法局")
        tel = bin_.responsible_phone
        masked = tel[:3] + "*" * (len(tel) - 7) + tel[-4:]
        expect(phone.get_by_test_id("facility-phone")).to_contain_text(masked)
        assert bin_.responsible_phone not in phone.content()
        shoot(phone, "qr-page", tmp_path)
        phone.get_by_test_id("report-here").click()
        phone.wait_for_url(re.compile(rf"/m/report\?facility={bin_.code}"))
        phone.get_by_test_id("report-description").fill("这个垃圾桶盖子坏了，垃圾满出来了，很臭")
        phone.get_by_test_id("report-photo").set_input_files(
            files=[{"name": "bin.png", "mimeType": "image/png", "buffer": png()}])  # fmt: skip
        shoot(phone, "citizen-report", tmp_path)
        phone.get_by_test_id("report-submit").click()
        number = phone.get_by_test_id("report-number").inner_text().strip()
        assert re.fullmatch(r"440304-C0103-\d{6}", number), number

        # 2. it appears live on the big screen's feed
        expect(centre.get_by_test_id("feed")).to_contain_text(number)
        with d.api("operator") as api:
            case = api.get(f"/api/v1/cases/{number}").json()
        assert (case["state"], case["department_code"]) == ("dispatched", "urban_management")
        assert case["facility_code"] == bin_.code
        assert [p for h in case["history"] for p in h["photos"]], "the photo is kept with the report"

        # 3. the owning department's handler logs in, finds it in the inbox, accepts and resolves it
        desk = w.page(browser)
        login(desk, d.base, "/work/inbox", "handler")
        row = desk.locator(f'[data-testid=case-row][data-number="{number}"]')
        row.get_by_role("link").click()
        desk.wait_for_url(re.compile(rf"/work/cases/{number}$"))
        shoot(desk, "workbench-case", tmp_path)
        desk.get_by_test_id("action-accept").click()
        expect(desk.get_by_test_id("case-state")).to_have_attribute("data-state", "accepted")
        desk.get_by_test_id("action-note").fill("已更换垃圾桶盖，清运溢出垃圾")
        desk.get_by_test_id("action-resolve").click()
        expect(desk.get_by_test_id("case-state")).to_have_attribute("data-state", "resolved")

        # 4. the verifier passes the fix from the verification queue; the centre closes the case
        check = w.page(browser, token=d.token("verifier"))
        check.goto(d.base + "/work/verify")
        check.locator(f'[data-testid=case-row][data-number="{number}"]').get_by_role("link").click()
        check.get_by_test_id("action-note").fill("现场核查：已修复")
        check.get_by_test_id("action-verify_pass").click()
        expect(check.get_by_test_id("case-state")).to_have_attribute("data-state", "verified")
        centre_desk = w.page(browser, token=d.token("operator"))
        centre_desk.goto(f"{d.base}/work/cases/{number}")
        centre_desk.get_by_test_id("action-close").click()
        expect(centre_desk.get_by_test_id("case-state")).to_have_attribute("data-state", "closed")
        assert _state(d, number) == "closed"

        # 5. the citizen tracks the report by its number and sees it closed, with its public history
        phone.goto(f"{d.base}/m/track/{number}")
        expect(phone.get_by_test_id("track-status")).to_have_attribute("data-status", "closed")
        expect(phone.get_by_test_id("track-history")).to_contain_text("已更换垃圾桶盖")
        shoot(phone, "citizen-track", tmp_path)


def test_a_handler_sees_only_their_departments_cases(district, browser, watch):
    d = district
    with httpx.Client(base_url=d.base) as c, d.api("operator") as api:
        water = api.post("/api/v1/cases", json={"description": "水围村路口井盖松动", "category_code": "C0101",
                                                "lon": 114.0665, "lat": 22.5262, "source": "app"}).json()  # fmt: skip
        urban = api.post("/api/v1/cases", json={"description": "水围村垃圾堆积", "category_code": "E0101",
                                                "lon": 114.0665, "lat": 22.5262, "source": "app"}).json()  # fmt: skip
        assert c.get("/healthz").status_code == 200
    assert (water["department_code"], urban["department_code"]) == ("water", "urban_management")
    page = watch.page(browser, token=d.token("water"))
    page.goto(d.base + "/work/inbox")
    expect(page.locator(f'[data-testid=case-row][data-number="{water["number"]}"]')).to_be_visible()
    expect(page.locator(f'[data-testid=case-row][data-number="{urban["number"]}"]')).to_have_count(0)
    # opening the other department's case by its address is refused with the platform's sentence
    watch.expect("403")
    page.goto(f"{d.base}/work/cases/{urban['number']}")
    expect(page.get_by_test_id("case-error")).to_be_visible()
    assert "水围村垃圾堆积" not in page.content()
    # and the navigation offers a handler only a handler's screens
    nav = [el.get_attribute("data-testid") for el in page.locator("[data-testid^=nav-]").all()]
    assert "nav-inbox" in nav and "nav-triage" not in nav and "nav-verify" not in nav
