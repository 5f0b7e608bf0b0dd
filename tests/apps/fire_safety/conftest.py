"""Fixtures for fire-safety tests: the seeded district, with a grid worker in Shuiwei village (水围村) and
the people who review the work, all acting through HTTP."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import People

SHUIWEI_COMMUNITY = "440304004028"
SHUIWEI_VILLAGE = "440304004028-V01"
SHUIWEI_STREET = "440304004"
BASE = "/api/v1/fire_safety"


class Grid(People):
    """An API client with a user per role, and shortcuts for the hazard loop."""

    base = BASE

    def buildings(self, n: int, *, village: str = SHUIWEI_VILLAGE) -> list[dict[str, Any]]:
        r = self.client.get(
            "/api/v1/registry/buildings",
            headers=self.head("admin"),
            params={"village_code": village, "page_size": n},
        )
        assert r.status_code == 200, r.text
        return r.json()["items"]

    def inspect(
        self,
        who: str,
        target: str,
        *hazards: tuple[str, str] | tuple[str, str, str],
        kind: str = "building",
        expect: int = 201,
    ) -> Any:
        """Record an inspection; each hazard is (type, description) or (type, description, severity)."""
        body = {
            "target_kind": kind,
            "target_code": target,
            "hazards": [
                {"type_code": h[0], "description": h[1], "severity": h[2] if len(h) > 2 else "general"}
                for h in hazards
            ],
        }
        return self.call("POST", who, "/inspections", expect, json=body)

    def hazard(self, who: str, code: str, expect: int = 200) -> Any:
        return self.call("GET", who, f"/hazards/{code}", expect)

    def rectify(self, who: str, h: dict[str, Any], note: str = "已整改", expect: int = 200) -> Any:
        body = {"note": note, "version": h["version"]}
        return self.call("POST", who, f"/hazards/{h['code']}/rectification", expect, json=body)

    def reinspect(self, who: str, h: dict[str, Any], passed: bool, expect: int = 200, **body: Any) -> Any:
        body.update(passed=passed, version=h["version"])
        return self.call("POST", who, f"/hazards/{h['code']}/reinspection", expect, json=body)

    def escalate(self, who: str, h: dict[str, Any], expect: int = 200, **body: Any) -> Any:
        return self.call("POST", who, f"/hazards/{h['code']}/escalation", expect, json=body)

    def sweep(self) -> dict[str, int]:
        from urbanbrain.apps.fire_safety.actions import overdue_sweep

        with self.platform.db.session() as s:
            result = overdue_sweep(s, self.platform)
        self.platform.relay.flush()
        return result


@pytest.fixture
def grid(api: Any) -> Grid:
    g = Grid(
        api,
        {
            "worker": ("grid_worker", {"area": SHUIWEI_COMMUNITY}),
            "street": ("street_officer", {"area": SHUIWEI_STREET}),
            "operator": ("operator", {}),
            "admin": ("admin", {}),
            "handler": ("dept_handler", {"department": "fire"}),
        },
    )
    # The outsider is a grid worker of Shuiwei's neighbouring community, in the same street.
    areas = g.client.get(
        "/api/v1/registry/areas",
        headers=g.head("admin"),
        params={"level": "community", "parent_code": SHUIWEI_STREET, "page_size": 100},
    ).json()["items"]
    other = next(a["code"] for a in areas if a["code"] != SHUIWEI_COMMUNITY)
    g.people["outsider"] = ("grid_worker", {"area": other})
    return g
