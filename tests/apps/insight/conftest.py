"""Fixtures for decision support: a platform with a user per role over HTTP, and a writer of district-lake
files in the lake's layout, so KPIs are checked against rows whose answers are counted by hand."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.conftest import People

BASE = "/api/v1/insight"
STREET = "440304004"
COMMUNITY = "440304004028"
OTHER_STREET = "440304001"
OTHER_COMMUNITY = "440304001001"
TS = pa.timestamp("us")
CASE_SCHEMA = pa.schema([
    ("case_id", pa.int64()), ("number", pa.string()), ("version", pa.int64()), ("state", pa.string()),
    ("source", pa.string()), ("category_code", pa.string()), ("major_code", pa.string()),
    ("request_kind", pa.string()), ("priority", pa.int64()), ("title", pa.string()), ("description", pa.string()),
    ("lon", pa.float64()), ("lat", pa.float64()), ("address", pa.string()), ("street_code", pa.string()),
    ("community_code", pa.string()), ("grid_code", pa.string()), ("facility_code", pa.string()),
    ("department_code", pa.string()), ("reporter_name", pa.string()), ("reporter_contact", pa.string()),
    ("emergency", pa.bool_()), ("escalation_level", pa.int64()), ("reported_at", TS), ("registered_at", TS),
    ("dispatched_at", TS), ("accepted_at", TS), ("resolved_at", TS), ("verified_at", TS), ("closed_at", TS),
    ("accept_due_at", TS), ("resolve_due_at", TS), ("sla_breached_at", TS), ("satisfaction", pa.int64()),
    ("merged_into_id", pa.int64()), ("updated_at", TS), ("landed_at", TS),
])  # fmt: skip
ALARM_SCHEMA = pa.schema([
    ("alarm_id", pa.int64()), ("version", pa.int64()), ("origin", pa.string()), ("scope", pa.string()),
    ("alarm_type", pa.string()), ("rule_code", pa.string()), ("severity", pa.string()), ("level", pa.string()),
    ("status", pa.string()), ("building_code", pa.string()), ("community_code", pa.string()),
    ("street_code", pa.string()), ("lon", pa.float64()), ("lat", pa.float64()), ("measurement", pa.string()),
    ("value", pa.float64()), ("count", pa.int64()), ("event_at", TS), ("raised_at", TS), ("last_event_at", TS),
    ("acknowledged_at", TS), ("cleared_at", TS), ("case_number", pa.string()), ("landed_at", TS),
])  # fmt: skip
_files = itertools.count()


def utc(local: datetime) -> datetime:
    """A local (UTC+8) wall time as the lake holds it: UTC, naive."""
    return local - timedelta(hours=8)


class Lake:
    """Writes rows into ``<data_dir>/lake`` the way the district lake lays them out."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.ids = itertools.count(1)

    def cases(self, *rows: dict[str, Any]) -> None:
        by_day: dict[str, list[dict[str, Any]]] = {}
        for r in rows:
            row = {
                "case_id": next(self.ids), "version": 1, "state": "closed", "source": "app",
                "category_code": "C0101", "major_code": "C01", "department_code": "water",
                "street_code": STREET, "community_code": COMMUNITY, "emergency": False,
                "lon": 114.0596, "lat": 22.5431, **r,
            }  # fmt: skip
            row.setdefault("number", f"AJ-{row['case_id']:06d}")
            row.setdefault("title", f"case {row['case_id']}")
            row.setdefault("landed_at", row["reported_at"])
            local = row["reported_at"] + timedelta(hours=8)
            by_day.setdefault(local.date().isoformat(), []).append(row)
        for day, items in by_day.items():
            self._write("cases", day, items, CASE_SCHEMA)

    def alarms(self, *rows: dict[str, Any]) -> None:
        by_day: dict[str, list[dict[str, Any]]] = {}
        for r in rows:
            row = {"alarm_id": next(self.ids), "version": 1, "status": "active", "alarm_type": "smoke",
                   "level": "yellow", "community_code": COMMUNITY, "street_code": STREET, **r}  # fmt: skip
            row.setdefault("landed_at", row["raised_at"])
            by_day.setdefault((row["raised_at"] + timedelta(hours=8)).date().isoformat(), []).append(row)
        for day, items in by_day.items():
            self._write("alarms", day, items, ALARM_SCHEMA)

    def _write(self, table: str, day: str, rows: list[dict[str, Any]], schema: pa.Schema) -> None:
        folder = self.root / table / f"date={day}"
        folder.mkdir(parents=True, exist_ok=True)
        pq.write_table(pa.Table.from_pylist(rows, schema=schema), folder / f"part-{next(_files)}.parquet")


class Desk(People):
    base = BASE

    lake: Lake = None  # type: ignore[assignment]

    def refresh(self) -> Any:
        return self.call("POST", "admin", "/refresh")


@pytest.fixture
def desk(empty_api: Any) -> Desk:
    d = Desk(
        empty_api,
        {
            "admin": ("admin", {}),
            "operator": ("operator", {}),
            "street": ("street_officer", {"area": STREET}),
        },
    )
    d.lake = Lake(empty_api.platform.settings.data_dir / "lake")
    return d
