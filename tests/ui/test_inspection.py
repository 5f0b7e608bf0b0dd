"""A grid worker on a 390 px phone records an inspection with a photo of the hazard, finds the photo on the
hazard's card, then reports the fix with a photo of it: the hazard's history keeps each photo at its step."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.ui.conftest import png

PHONE = {"width": 390, "height": 844}


def test_a_hazard_photographed_as_found_and_as_fixed(district, browser, watch, tmp_path):
    d = district
    photo = tmp_path / "hazard.png"
    photo.write_bytes(png())
    page = watch.page(browser, **PHONE, token=d.token("grid"))
    page.goto(d.base + "/work/inspections")
    page.get_by_test_id("tab-record").click()
    page.get_by_test_id("inspection-pick").first.click()
    page.get_by_test_id("inspection-add-hazard").click()
    page.get_by_test_id("hazard-description").fill("一楼楼道停放电动车充电")
    page.get_by_test_id("hazard-photo").set_input_files(str(photo))
    page.get_by_test_id("inspection-submit").click()
    expect(page.get_by_test_id("inspection-notice")).to_be_visible()
    expect(page.get_by_test_id("inspection-photo-warning")).to_have_count(0)

    with d.api("grid") as api:
        [inspection] = api.get("/api/v1/fire_safety/inspections", params={"page_size": 1}).json()["items"]
    code = inspection["hazards"][0]["code"]
    card = page.locator(f'[data-testid=hazard][data-code="{code}"]')
    card.get_by_test_id("hazard-show-photos").click()
    image = card.locator("[data-testid=hazard-photos] img")
    expect(image).to_have_count(1)
    # the photo is fetched behind the login and really drawn, not a broken image
    page.wait_for_function("img => img.complete && img.naturalWidth === 16", arg=image.element_handle())

    card.get_by_test_id("hazard-rectify").click()
    card.get_by_test_id("hazard-note").fill("电动车已移至集中充电棚")
    card.get_by_test_id("hazard-photo").set_input_files(str(photo))
    card.get_by_test_id("hazard-submit").click()
    expect(page.get_by_test_id("inspection-notice")).to_contain_text(code)

    with d.api("grid") as api:
        hazard = api.get(f"/api/v1/fire_safety/hazards/{code}").json()
        steps = {h["transition"]: h["photos"] for h in hazard["history"]}
        assert hazard["state"] == "rectified"
        assert len(steps["found"]) == 1 and len(steps["rectify"]) == 1
        got = api.get(f"/api/v1/fire_safety/hazards/{code}/photos/{steps['rectify'][0]}")
        assert got.content == png() and got.headers["content-type"] == "image/png"
