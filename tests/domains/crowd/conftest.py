"""Fixtures for crowd zones: the demo district with the crowd device types, a plaza's counters and camera
provisioned on the sensing platform, and helpers that send their readings through the real HTTP door."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pytest

from urbanbrain.core.auth.principal import SYSTEM
from urbanbrain.domains.crowd.actions import do_install_device_types

# A square of about 100 m × 100 m on the Civic Center plaza (市民中心广场), Futian, in lon/lat (GCJ-02).
PLAZA = [
    [114.0590, 22.5425],
    [114.0600, 22.5425],
    [114.0600, 22.5434],
    [114.0590, 22.5434],
    [114.0590, 22.5425],
]
AREA = 2000.0  # m² walkable of it
DEVICES = {
    "PZ-E1": "line_counter",
    "PZ-E2": "line_counter",
    "PZ-X1": "line_counter",
    "PZ-CAM1": "crowd_camera",
}
INPUTS = [
    {"device_id": "PZ-E1", "role": "entrance"},
    {"device_id": "PZ-E2", "role": "entrance"},
    {"device_id": "PZ-X1", "role": "exit"},
    {"device_id": "PZ-CAM1", "role": "camera"},
]


@dataclass
class Plaza:
    api: Any
    admin: dict[str, str]
    seq: int = 0
    heads: dict[str, dict[str, str]] = field(default_factory=dict)

    @property
    def client(self) -> Any:
        return self.api.client

    @property
    def platform(self) -> Any:
        return self.api.platform

    def zone_body(self, **changes: Any) -> dict[str, Any]:
        body = {"name": "市民中心广场（灯光秀）", "area_m2": AREA, "capacity": 8000,
                "geometry": {"type": "Polygon", "coordinates": [PLAZA]}, "inputs": INPUTS}  # fmt: skip
        return {**body, **changes}

    def put_zone(
        self, code: str = "FT-CIVIC-PLAZA", expect: int = 200, who: str = "operator", **changes: Any
    ):
        r = self.client.put(
            f"/api/v1/crowd/zones/{code}", json=self.zone_body(**changes), headers=self.head(who)
        )
        assert r.status_code == expect, r.text
        return r.json()

    def head(self, who: str) -> dict[str, str]:
        """A logged-in user: ``operator``, ``admin``, ``handler`` (police), or ``street:<code>``."""
        if who not in self.heads:
            if who.startswith("street:"):
                self.heads[who] = self.api.user("street_officer", area=who.split(":", 1)[1])
            elif who == "handler":
                self.heads[who] = self.api.user("dept_handler", department="police")
            else:
                self.heads[who] = self.api.user(who)
        return self.heads[who]

    def send(self, messages: list[dict[str, Any]]) -> None:
        r = self.client.post("/api/v1/sensing/readings", content=json.dumps(messages), headers=self.admin)
        assert r.status_code in (200, 202), r.text

    def message(self, device: str, ts: float, values: dict[str, float]) -> dict[str, Any]:
        self.seq += 1
        return {"id": f"c{self.seq}", "device": device, "ts": ts, "values": values}

    def settle(self, until: float | None = None) -> None:
        pipeline = self.platform.caches["sensing.pipeline"]
        pipeline.drain()
        if until is not None:
            from urbanbrain.domains.crowd.engine import engine

            engine(self.platform).advance(until)
        self.platform.relay.flush()


@pytest.fixture
def plaza(api: Any) -> Plaza:
    with api.platform.db.session() as session:
        do_install_device_types(session, api.platform, SYSTEM)
    p = Plaza(api, api.user("admin"))
    for device, kind in DEVICES.items():
        r = p.client.post("/api/v1/sensing/devices", json={"device_id": device, "type_code": kind,
                                                             "lon": 114.0595, "lat": 22.5430}, headers=p.admin)  # fmt: skip
        assert r.status_code == 201, r.text
    p.platform.caches["sensing.pipeline"].reload()
    return p
