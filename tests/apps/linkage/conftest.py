"""Fixtures for linkage tests: the seeded district, an operator at the command centre, an admin and the
handlers of the departments a crowd plan calls on, all acting through HTTP."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from tests.conftest import People
from urbanbrain.apps.linkage.actions import acknowledge_sweep
from urbanbrain.core.bus.outbox import emit
from urbanbrain.core.models import Notification

BASE = "/api/v1/linkage"
SHUIWEI_COMMUNITY = "440304004028"
SHUIWEI_STREET_OFFICE = "street-440304004"
PLAZA = (114.0596, 22.5431)  # the Civic Center plaza (市民中心广场)


class Desk(People):
    """An API client with a user per role, and shortcuts for plans, incidents and tasks."""

    base = BASE

    def start(
        self, level: str = "yellow", zone: str | None = "civic_plaza", expect: int = 201, **kw: Any
    ) -> Any:
        body = {
            "incident_type": "crowd",
            "level": level,
            "title": "市民中心灯光秀人群聚集",
            "lon": PLAZA[0],
            "lat": PLAZA[1],
            "zone_code": zone,
            "area_code": SHUIWEI_COMMUNITY,
            **kw,
        }
        return self.call("POST", "operator", "/incidents", expect, json=body)

    def incident(self, ref: Any, who: str = "operator", expect: int = 200) -> Any:
        return self.call("GET", who, f"/incidents/{ref}", expect)

    def task(self, incident: dict[str, Any], key: str) -> dict[str, Any]:
        return next(t for t in incident["tasks"] if t["key"] == key)

    def sweep(self) -> dict[str, int]:
        with self.platform.db.session() as s:
            result = acknowledge_sweep(s, self.platform)
        self.platform.relay.flush()
        return result

    def inbox(self, recipient: str, kind: str) -> list[Notification]:
        with self.platform.db.session() as s:
            return list(
                s.scalars(
                    select(Notification).where(Notification.recipient == recipient, Notification.kind == kind)
                )
            )

    def raise_alarm(
        self, alarm_id: int, level: str, zone: str, alarm_type: str = "crowd.forecast", origin: str = "crowd"
    ) -> None:
        """A crowd warning as sensing publishes it (``alarm_payload``), through the outbox and the bus."""
        payload = {
            "alarm_id": alarm_id, "origin": origin, "scope": "zone", "alarm_type": alarm_type,
            "rule_code": None, "severity": None, "level": level, "status": "open", "building_code": None,
            "community_code": SHUIWEI_COMMUNITY, "lon": PLAZA[0], "lat": PLAZA[1],
            "measurement": "density", "value": 5.2, "detail": {"zone_code": zone, "minutes_ahead": 10},
            "count": 1, "event_at": self.platform.clock.now().isoformat(),
            "raised_at": self.platform.clock.now().isoformat(), "cleared_at": None, "case_number": None,
        }  # fmt: skip
        with self.platform.db.session() as s:
            emit(s, "sensing.alarm.raised", payload, self.platform.clock.now())
        self.platform.relay.flush()


@pytest.fixture
def desk(api: Any) -> Desk:
    return Desk(
        api,
        {
            "operator": ("operator", {}),
            "admin": ("admin", {}),
            "police": ("dept_handler", {"department": "police"}),
            "traffic": ("dept_handler", {"department": "traffic"}),
            "health": ("dept_handler", {"department": "health"}),
            "grid": ("grid_worker", {"area": SHUIWEI_COMMUNITY}),
        },
    )
