"""Fixtures for the district lake: the seeded district behind the real app, people to work cases, and a helper
that lands what the bus has queued."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pytest

from urbanbrain.domains.datahub import queries
from urbanbrain.domains.datahub.lake import landing
from urbanbrain.domains.datahub.lake.store import DistrictLake

SHUIWEI = (114.0665, 22.5262)
PEOPLE = {
    "operator": ("operator", {}),
    "admin": ("admin", {}),
    "verifier": ("verifier", {}),
    "urban": ("dept_handler", {"department": "urban_management"}),
}


@dataclass
class District:
    """The seeded district on the real app, its lake, and shortcuts for cases."""

    api: Any
    heads: dict[str, dict[str, str]] = field(default_factory=dict)

    @property
    def client(self) -> Any:
        return self.api.client

    @property
    def platform(self) -> Any:
        return self.api.platform

    @property
    def lake(self) -> DistrictLake:
        return queries.lake(self.platform)

    def head(self, who: str) -> dict[str, str]:
        if who not in self.heads:
            role, scope = PEOPLE[who]
            self.heads[who] = self.api.user(role, **scope)
        return self.heads[who]

    def land(self) -> int:
        """Publish what was committed, let the consumers queue it, and drain the queue into the lake."""
        self.platform.relay.flush()
        return landing.drain(self.platform)

    def report(self, **body: Any) -> dict[str, Any]:
        lon, lat = SHUIWEI
        payload = {"description": "水围村路口垃圾堆了两天没人清理", "source": "app", "lon": lon, "lat": lat,
                   "category_code": "E0101"}  # fmt: skip
        payload.update(body)
        r = self.client.post("/api/v1/cases", headers=self.head("operator"), json=payload)
        assert r.status_code == 201, r.text
        return r.json()

    def act(self, who: str, case: dict[str, Any], name: str, **body: Any) -> dict[str, Any]:
        body.setdefault("version", case["version"])
        r = self.client.post(
            f"/api/v1/cases/{case['token']}/actions/{name}", headers=self.head(who), json=body
        )
        assert r.status_code == 200, r.text
        return r.json()

    def rows(self, table: str, where: str = "true", params: list[Any] | None = None) -> list[dict[str, Any]]:
        """The current rows of a lake table, as a DuckDB user reads them."""
        got: pa.Table = self.lake.query_arrow(
            f"SELECT * FROM {self.lake.relation_sql(table)} WHERE {where}", params
        )
        return got.to_pylist()


@pytest.fixture
def district(api: Any) -> District:
    return District(api)
