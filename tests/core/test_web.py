"""The web UI's serving: its pages at the paths people open, built assets cached for good, a strict
Content-Security-Policy everywhere, and what the pages learn about the deployment before a login."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from urbanbrain.api import web
from urbanbrain.api.app import create_app

PAGES = ["/", "/login", "/work", "/work/inbox", "/work/cases/440304-E0101-000001", "/m", "/m/", "/m/report",
         "/m/track/440304-E0101-000001", "/f/FT-RB-000001"]  # fmt: skip


@pytest.fixture
def built(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A stand-in for Vite's output folder, so that serving is tested apart from building."""
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text(
        '<!doctype html><div id="app"></div><script src="/assets/app-1a2b.js">'
    )
    (tmp_path / "assets" / "app-1a2b.js").write_text("console.log('ub')")
    monkeypatch.setattr(web, "BUILT", tmp_path)
    return tmp_path


def test_every_page_path_serves_the_app_with_a_strict_policy(platform, built):
    with TestClient(create_app(platform=platform)) as client:
        for path in PAGES:
            r = client.get(path, follow_redirects=False)
            assert r.status_code == 200, path
            assert '<div id="app">' in r.text
            assert r.headers["cache-control"] == "no-cache"  # a new build is picked up at once
            csp = r.headers["content-security-policy"]
            assert "script-src 'self';" in csp and "unsafe-eval" not in csp and "default-src 'self'" in csp
            assert r.headers["x-frame-options"] == "DENY"
        asset = client.get("/assets/app-1a2b.js")
        assert asset.status_code == 200 and "immutable" in asset.headers["cache-control"]
        assert client.get("/assets/missing.js").status_code == 404
        # the API keeps its own answers under the same policy; an unknown API path is still a JSON 404
        r = client.get("/api/v1/nope")
        assert r.status_code == 404 and r.json()["code"] and "content-security-policy" in r.headers


def test_an_unbuilt_ui_says_how_to_build_it(platform, tmp_path, monkeypatch):
    monkeypatch.setattr(web, "BUILT", tmp_path / "nothing")
    with TestClient(create_app(platform=platform)) as client:
        r = client.get("/")
        assert r.status_code == 503 and "make web" in r.text and "界面尚未构建" in r.text


def test_the_config_tells_the_pages_the_citizens_key_and_the_tile_server(platform, built):
    platform.settings.web_open311_key = "ub_test_key"
    platform.settings.map_tile_url = "https://tiles.example.gov.cn/{z}/{x}/{y}.png"
    with TestClient(create_app(platform=platform)) as client:
        body = client.get("/api/v1/ui/config").json()  # no login
        assert body["open311_key"] == "ub_test_key"
        assert body["tile_url"] == "https://tiles.example.gov.cn/{z}/{x}/{y}.png"
        assert body["utc_offset_hours"] == 8 and body["district_code"] == "440304"
        csp = client.get("/").headers["content-security-policy"]
        # the configured tile server, and only it, may be reached by the map
        assert "img-src 'self' data: blob: https://tiles.example.gov.cn;" in csp
        assert "connect-src 'self' https://tiles.example.gov.cn;" in csp


def test_the_api_docs_load_nothing_from_outside(platform, built):
    with TestClient(create_app(platform=platform)) as client:
        for path in ("/docs", "/redoc"):
            r = client.get(path)
            assert r.status_code == 200
            assert (
                "googleapis" not in r.text
                and "cdn." not in r.text
                and "https://" not in r.text.split("<body")[1]
            )
