"""Fixtures for the sensing platform: the demo district with IoT fire warning installed, a few devices in a
Shuiwei building, and helpers that send readings through the real HTTP door."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import text

from urbanbrain.apps.fire_safety.devices import do_install_fire_monitoring
from urbanbrain.core.auth.principal import SYSTEM
from urbanbrain.demo.district import SHUIWEI_VILLAGE

OWNER_PHONE = "13800138000"


@dataclass
class Site:
    """A Shuiwei building with an electrical-fire monitor, two smoke detectors and a heat detector."""

    api: Any
    admin: dict[str, str]
    building: str
    community: str
    keys: dict[str, str] = field(default_factory=dict)
    seq: int = 0

    @property
    def client(self) -> Any:
        return self.api.client

    @property
    def platform(self) -> Any:
        return self.api.platform

    @property
    def pipeline(self) -> Any:
        return self.platform.caches["sensing.pipeline"]

    def now(self) -> float:
        return float(self.platform.clock.now().timestamp())

    def message(
        self, device: str, values: dict[str, float], ts: float | None = None, mid: str | None = None
    ) -> dict[str, Any]:
        self.seq += 1
        return {
            "id": mid or f"m{self.seq}",
            "device": device,
            "ts": self.now() if ts is None else ts,
            "values": values,
        }

    def send(self, messages: list[dict[str, Any]], *, key_of: str | None = None, **kw: Any) -> Any:
        headers = {"X-Device-Key": self.keys[key_of]} if key_of else self.admin
        r = self.client.post("/api/v1/sensing/readings", content=json.dumps(messages), headers=headers, **kw)
        return r

    def told(self, title_like: str = "%") -> list[str]:
        """Who got an inbox notification of an alarm (titles read '<级别>预警 / <level> warning: <type>')."""
        with self.platform.db.session() as session:
            sql = "SELECT recipient FROM core_notification WHERE kind = 'sensing.alarm.raised' AND title LIKE :t"
            return list(session.execute(text(sql), {"t": title_like}).scalars())

    def texted(self) -> list[tuple[str, str]]:
        """(event id, phone number) of every SMS queued for a person (direct messages), phones unsealed."""
        with self.platform.db.session() as session:
            rows = session.execute(
                text(
                    "SELECT event_id, target FROM core_delivery WHERE subscription_id IS NULL AND channel = 'sms'"
                )
            ).all()
        return [(e, self.platform.protector.open(t)) for e, t in rows]

    def settle(self) -> None:
        """Everything sent is processed, the latest values written and the state saved."""
        self.pipeline.drain()
        self.pipeline.call(self.pipeline.checkpoint).result(timeout=30)
        self.platform.relay.flush()


def shuiwei_building(platform: Any) -> tuple[str, str]:
    with platform.db.session() as session:
        row = session.execute(
            text(
                "SELECT code, community_code FROM registry_building WHERE village_code = :v ORDER BY code LIMIT 1"
            ),
            {"v": SHUIWEI_VILLAGE},
        ).one()
    return row[0], row[1]


@pytest.fixture
def site(api: Any) -> Iterator[Site]:
    with api.platform.db.session() as session:
        do_install_fire_monitoring(session, api.platform, SYSTEM)
    building, community = shuiwei_building(api.platform)
    s = Site(api, api.user("admin"), building, community)
    for device, kind in [("EFM-1", "electrical_fire_monitor"), ("SMK-1", "smoke_detector"),
                         ("SMK-2", "smoke_detector"), ("TMP-1", "temp_sensor")]:  # fmt: skip
        r = s.client.post(
            "/api/v1/sensing/devices",
            json={
                "device_id": device,
                "type_code": kind,
                "building_code": building,
                "owner_name": "王业主",
                "owner_phone": OWNER_PHONE,
            },  # fmt: skip
            headers=s.admin,
        )
        assert r.status_code == 201, r.text
        s.keys[device] = r.json()["key"]
    s.pipeline.reload()
    yield s
