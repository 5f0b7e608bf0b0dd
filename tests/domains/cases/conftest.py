"""Fixtures for case tests: the seeded district, with people in each role around a Shuiwei case."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

SHUIWEI = (114.0665, 22.5262)


@dataclass
class Desk:
    """An API client with a user per role, and shortcuts for the lifecycle."""

    api: Any
    heads: dict[str, dict[str, str]]

    @property
    def client(self):
        return self.api.client

    @property
    def platform(self):
        return self.api.platform

    def report(self, who: str = "operator", **body: Any) -> dict[str, Any]:
        lon, lat = body.pop("at", SHUIWEI)
        payload = {"description": "水围村路口垃圾堆了两天没人清理", "source": "app"}
        if lon is not None:
            payload.update(lon=lon, lat=lat)
        payload.update(body)
        r = self.client.post("/api/v1/cases", headers=self.heads[who], json=payload)
        assert r.status_code == 201, r.text
        return r.json()

    def act(
        self, who: str, case: dict[str, Any], name: str, expect: int = 200, **body: Any
    ) -> dict[str, Any]:
        body.setdefault("version", case["version"])
        r = self.client.post(
            f"/api/v1/cases/{case['token']}/actions/{name}", headers=self.heads[who], json=body
        )
        assert r.status_code == expect, r.text
        return r.json()

    def get(self, who: str, case: dict[str, Any]) -> dict[str, Any]:
        r = self.client.get(f"/api/v1/cases/{case['token']}", headers=self.heads[who])
        assert r.status_code == 200, r.text
        return r.json()


PEOPLE = {
    "operator": ("operator", {}),
    "admin": ("admin", {}),
    "verifier": ("verifier", {}),
    "urban": ("dept_handler", {"department": "urban_management"}),
    "urban2": ("dept_handler", {"department": "urban_management"}),
    "water": ("dept_handler", {"department": "water"}),
    "roads": ("dept_handler", {"department": "roads_facilities"}),
    "street": ("dept_handler", {"department": "street-440304004"}),
    "grid": ("grid_worker", {"area": "440304004028"}),
    "lianhua": ("street_officer", {"area": "440304008"}),
}


class People(dict):
    """Logs each person in on first use: hashing passwords is slow on purpose (Argon2id)."""

    def __init__(self, api: Any) -> None:
        super().__init__()
        self.api = api

    def __missing__(self, who: str) -> dict[str, str]:
        role, scope = PEOPLE[who]
        self[who] = self.api.user(role, **scope)
        return self[who]


@pytest.fixture
def desk(api) -> Desk:
    return Desk(api, People(api))


@pytest.fixture
def platform_with_departments(seeded):
    """The seeded platform without HTTP: for properties checked at the action level."""
    return seeded
