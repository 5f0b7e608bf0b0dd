"""Decision support's answers. The KPI, hotspot, forecast and brief bodies are documented field by field in
``docs/insight.md``; the models here pin their top level for the OpenAPI description."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class RefreshPublic(BaseModel):
    changed: dict[str, list[str]]
    removed: dict[str, list[str]]
    rows_read: int
    seconds: float
    generation: int


class KpisPublic(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    from_: date = Field(alias="from")
    to: date
    area: str | None
    area_name: str | None
    as_of: datetime
    generation: int
    cases: dict[str, Any]
    on_time: dict[str, Any]
    departments: list[dict[str, Any]]
    overdue: dict[str, Any]
    alarms: dict[str, Any]
    hazards: dict[str, Any]
    devices: dict[str, Any]


class HotspotsPublic(BaseModel):
    last_day: date
    window_days: int
    weeks: int
    area: str | None
    resolution: int
    generation: int
    items: list[dict[str, Any]]


class ForecastsPublic(BaseModel):
    by: str
    area: str | None
    last_day: date
    horizon: int
    level: float
    generation: int
    baseline: str
    items: list[dict[str, Any]]
