"""The data hub's screens in Chromium, on the demo district: the police's handler finds civil affairs' register
of elderly people in the catalog and asks for it; civil affairs' data steward approves some of the fields, for
one street only, until a date; the handler previews the rows, masked, downloads them as CSV (masked in the
file too) and takes an API key for the police's systems; the steward revokes the grant and the handler's
preview shows the platform's refusal. On SQLite and on PostgreSQL. Then, on one backend: a refusal with its
reason, and what a grid worker (who may only browse) is shown."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from tests.conftest import BACKENDS
from tests.domains.datahub.conftest import ELDERLY_CSV, ELDERLY_FIELDS
from tests.ui.conftest import PASSWORD, District, shoot, watching
from tests.ui.test_pages import AXE, _axe
from urbanbrain.core.auth.actions import do_create_user
from urbanbrain.core.auth.principal import SYSTEM
from urbanbrain.core.models import User

BASE = "/api/v1/datahub"
CODE = "elderly-ui"
STREET = "440304004"  # 福田街道
# The register of tests/domains/datahub: one fixture for the API's tests and the browser's.
FIELDS = ELDERLY_FIELDS
CSV = {"content-type": "text/csv"}
ASKED = ["person_id", "name", "id_number", "phone", "age"]
# What the police may see of 福田街道's two people: names, phones masked; no ID numbers (not approved)
SEEN = [["1", "张**", "138****5678", "86"], ["2", "李**", "139****4321", "82"]]


def _steward_and_dataset(d: District) -> None:
    """Civil affairs' data steward (an account of the test), and its register published with its rows."""
    with d.platform.db.session() as s:
        if s.scalar(select(User.id).where(User.username == "civil")) is None:
            do_create_user(s, d.platform.clock, SYSTEM, username="civil", password=PASSWORD, role="data_steward",
                           department_code="civil_affairs", area_code=None, full_name="UI data steward")  # fmt: skip
    with d.api("civil") as api:
        if api.get(f"{BASE}/datasets/{CODE}").status_code == 404:
            body = {"code": CODE, "title_zh": "独居老人关爱名册（界面测试）", "title_en": "Elderly living alone (UI)",
                    "owner_department": "civil_affairs", "source_kind": "upload", "update_frequency": "monthly",
                    "sharing_class": "conditional", "keywords": ["老人", "elderly"], "fields": FIELDS}  # fmt: skip
            r = api.post(f"{BASE}/datasets", json=body)
            assert r.status_code == 201, r.text
            r = api.post(f"{BASE}/datasets/{CODE}/upload", content=ELDERLY_CSV, headers=CSV)
            assert r.status_code == 200, r.text


def _ask(page: Page, d: District, purpose: str, fields: list[str]) -> int:
    """From the catalog's search to the dataset's request form, submitted; the request's number."""
    page.goto(d.base + "/work/data")
    page.get_by_test_id("catalog-q").fill("独居老人")
    page.get_by_test_id("catalog-search").click()
    page.locator(f'[data-testid=dataset-row][data-code="{CODE}"]').get_by_test_id("dataset-link").click()
    page.wait_for_url(re.compile(rf"/work/data/sets/{CODE}$"))
    id_number = page.locator('[data-testid=field-row][data-field="id_number"]')
    expect(id_number).to_have_attribute("data-protected", "true")
    page.get_by_test_id("request-purpose").fill(purpose)
    for f in fields:
        page.get_by_test_id(f"request-field-{f}").check()
    page.get_by_test_id("request-submit").click()
    done = page.get_by_test_id("request-done")
    expect(done).to_contain_text("#")
    return int(re.search(r"#(\d+)", done.inner_text()).group(1))  # type: ignore[union-attr]


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_department_requests_a_dataset_reads_it_masked_and_loses_it_when_revoked(make_district, browser, backend,
                                                                                    tmp_path):  # fmt: skip
    d = make_district(backend)
    _steward_and_dataset(d)
    with watching(d) as w:
        # 1. the police's handler finds the register in the catalog and asks for five of its fields
        police = w.page(browser, token=d.token("police"))
        request_id = _ask(police, d, "台风前上门排查独居老人", ASKED)
        shoot(police, "datahub-request", tmp_path)

        # 2. civil affairs' steward approves four of them (no ID numbers), 福田街道 only, until a date
        desk = w.page(browser, token=d.token("civil"))
        desk.goto(d.base + "/work/data/desk")
        ask = desk.locator(f'[data-testid=pending-request][data-id="{request_id}"]')
        ask.get_by_test_id("decide-open").click()
        ask.get_by_test_id("decide-field-id_number").uncheck()
        ask.get_by_test_id("decide-expires").fill("2019-07-08")
        ask.get_by_test_id("condition-add").click()
        ask.get_by_test_id("condition-field").select_option("street_code")
        ask.get_by_test_id("condition-value").fill(STREET)
        shoot(desk, "datahub-decide", tmp_path)
        ask.get_by_test_id("decide-approve").click()
        expect(desk.get_by_test_id("desk-notice")).to_contain_text(f"#{request_id}")
        expect(ask).to_have_count(0)
        with d.api("police") as api:
            grant = api.get(f"{BASE}/requests/{request_id}").json()["grant"]
        assert [(f["name"], f["mode"]) for f in grant["fields"]] == [
            ("person_id", "clear"), ("name", "masked"), ("phone", "masked"), ("age", "clear")]  # fmt: skip
        assert grant["rows"] == [{"field": "street_code", "op": "eq", "value": STREET}]
        assert grant["expires_at"].startswith("2019-07-08T16:00:00")  # the end of 8 July in Futian
        given = desk.locator(f'[data-testid=given-grant][data-id="{grant["id"]}"]')
        expect(given).to_have_attribute("data-standing", "active")

        # 3. the handler previews the rows: masked columns marked, masked values, 福田街道's two people only
        police.goto(d.base + "/work/data/mine")
        card = police.locator(f'[data-testid=grant][data-id="{grant["id"]}"]')
        expect(card.get_by_test_id("grant-standing")).to_have_attribute("class", re.compile("tone-green"))
        card.get_by_test_id("grant-preview").click()
        table = card.get_by_test_id("preview-table")
        heads = table.locator("thead th")
        expect(heads).to_have_count(4)
        assert [h.get_attribute("data-field") for h in heads.all()] == ["person_id", "name", "phone", "age"]
        expect(table.locator('th[data-field="name"] [data-testid=masked-mark]')).to_be_visible()
        expect(table.locator('th[data-field="age"] [data-testid=masked-mark]')).to_have_count(0)
        rows = table.get_by_test_id("preview-row")
        expect(rows).to_have_count(2)
        assert [[c.inner_text() for c in r.locator("td").all()] for r in rows.all()] == SEEN
        assert "13812345678" not in police.content() and "440304193801011234" not in police.content()
        card.get_by_test_id("sort-age").click()  # a sort through the grant: youngest first
        expect(rows.first.locator('td[data-field="person_id"]')).to_have_text("2")
        shoot(police, "datahub-preview", tmp_path)

        # 4. ... downloads them as CSV: the file is masked as the preview was
        with police.expect_download() as download:
            card.get_by_test_id("grant-export-csv").click()
        expect(card.get_by_test_id("grant-notice")).to_contain_text("2")
        assert download.value.suggested_filename == f"{CODE}-grant{grant['id']}.csv"
        table_in_file = list(csv.reader(io.StringIO(Path(download.value.path()).read_text(encoding="utf-8"))))
        assert table_in_file[0] == ["person_id", "name", "phone", "age"]
        assert sorted(table_in_file[1:]) == SEEN

        # 5. ... and takes an API key for the police's systems: shown once, it reads the grant's rows
        card.get_by_test_id("grant-key").click()
        key = card.get_by_test_id("grant-key-value").input_value()
        expect(card.get_by_test_id("grant-key-shown")).to_contain_text("只显示这一次")
        r = httpx.get(f"{d.base}{BASE}/datasets/{CODE}/rows", headers={"X-API-Key": key})
        assert r.status_code == 200 and [row["name"] for row in r.json()["items"]] == ["张**", "李**"], r.text

        # 6. the steward revokes the grant; the handler's preview, refreshed, shows the platform's refusal
        with desk.expect_response(lambda r: "/api/v1/datahub/grants?role=given" in r.url):
            desk.get_by_test_id("refresh").click()  # the list has reloaded before the reason is typed
        given.get_by_test_id("revoke-reason").fill("台风已过境，停止共享")
        expect(given.get_by_test_id("revoke")).to_be_enabled()
        given.get_by_test_id("revoke").click()
        expect(given).to_have_attribute("data-standing", "revoked")
        with d.api("police") as api:
            refusal = api.get(f"{BASE}/datasets/{CODE}/rows", params={"grant": grant["id"]})
        assert refusal.status_code == 403
        w.expect("403")  # the browser logs the refused read
        card.get_by_test_id("preview-refresh").click()
        expect(card.get_by_test_id("preview-error")).to_have_text(refusal.json()["messages"]["zh-CN"])
        expect(card.get_by_test_id("preview-table")).to_have_count(0)
        shoot(police, "datahub-revoked", tmp_path)
        police.get_by_test_id("refresh").click()
        expect(card.get_by_test_id("grant-standing")).to_have_text("已撤销")
        expect(card.get_by_test_id("grant-preview")).to_have_count(0)
        after = httpx.get(f"{d.base}{BASE}/datasets/{CODE}/rows", headers={"X-API-Key": key})
        assert after.status_code in (401, 403), after.text

        # the steward's usage counts what the police read: preview pages, the export and the key's read
        desk.get_by_test_id("refresh").click()
        usage = desk.locator(f'[data-testid=usage-row][data-dataset="{CODE}"][data-consumer="police"]')
        expect(usage.get_by_test_id("usage-records")).not_to_have_text("0")


def test_a_refusal_gives_its_reason_and_a_grid_worker_only_browses(district, browser, watch):
    d = district
    _steward_and_dataset(d)
    water = watch.page(browser, token=d.token("water"))
    request_id = _ask(water, d, "排查独居老人用水异常", ["person_id", "phone"])

    desk = watch.page(browser, token=d.token("civil"))
    desk.goto(d.base + "/work/data/desk")
    ask = desk.locator(f'[data-testid=pending-request][data-id="{request_id}"]')
    ask.get_by_test_id("decide-open").click()
    expect(ask.get_by_test_id("decide-refuse")).to_be_disabled()  # a refusal says why
    ask.get_by_test_id("decide-reason").fill("用水排查不需要联系电话，请改用网格员走访")
    ask.get_by_test_id("decide-refuse").click()
    expect(desk.get_by_test_id("desk-notice")).to_contain_text(f"#{request_id}")

    water.goto(d.base + "/work/data/mine")
    mine = water.locator(f'[data-testid=my-request][data-id="{request_id}"]')
    expect(mine).to_have_attribute("data-state", "refused")
    expect(mine.get_by_test_id("request-reason")).to_have_text("用水排查不需要联系电话，请改用网格员走访")

    # a grid worker browses the catalog and the schema, and is offered no request form nor the desk
    grid = watch.page(browser, token=d.token("grid"))
    grid.goto(d.base + f"/work/data/sets/{CODE}")
    expect(grid.get_by_test_id("dataset-owner")).to_contain_text("民政")
    expect(grid.get_by_test_id("field-row")).to_have_count(len(FIELDS))
    expect(grid.get_by_test_id("nav-catalog")).to_be_visible()
    expect(grid.get_by_test_id("nav-myData")).to_have_count(0)
    expect(grid.get_by_test_id("nav-dataDesk")).to_have_count(0)
    expect(grid.get_by_test_id("request-form")).to_have_count(0)
    grid.goto(d.base + "/work/data/desk")  # not theirs: sent to their first screen
    expect(grid).not_to_have_url(re.compile(r"/work/data/desk$"))


def test_the_data_hub_screens_pass_wcag_aa(district, browser, watch):
    d = district
    _steward_and_dataset(d)
    with d.api("police") as api:
        body = {"dataset": CODE, "purpose": "无障碍检查用的申请", "fields": ["age"]}
        r = api.post(f"{BASE}/requests", json=body)
        assert r.status_code == 201, r.text
        request_id = r.json()["id"]
    found = []
    for path, who in (("/work/data", "police"), (f"/work/data/sets/{CODE}", "police"), ("/work/data/mine", "police"),
                      ("/work/data/desk", "civil")):  # fmt: skip
        page = watch.page(browser, token=d.token(who))
        page.goto(d.base + path)
        expect(page.locator("main h1")).to_be_visible()
        if path.endswith("/desk"):  # with a decision form open
            ask = page.locator(f'[data-testid=pending-request][data-id="{request_id}"]')
            ask.get_by_test_id("decide-open").click()
            expect(page.get_by_test_id("decide-form")).to_be_visible()
        page.wait_for_timeout(500)
        assert AXE.exists(), "axe-core is missing from web/node_modules: run `make web`"
        for v in _axe(page):
            nodes = "; ".join(str(n["target"]) for n in v["nodes"][:3])
            found.append(f"{path}: {v['id']} ({v['impact']}): {v['help']} at {nodes}")
    assert not found, "\n".join(found)
