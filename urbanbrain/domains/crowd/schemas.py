"""Request and response shapes of ``/api/v1/crowd``."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from urbanbrain.domains.crowd.levels import LEVELS


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ZoneInputIn(_Strict):
    device_id: str = Field(min_length=1, max_length=64)
    role: Literal["entrance", "exit", "camera", "cell"] = Field(
        description="entrance / exit: a line counter (in, out); camera: a crowd camera (head_count); "
        "cell: a phone-signal estimate (persons)."
    )


class Polygon(_Strict):
    type: Literal["Polygon"]
    coordinates: list[list[list[float]]] = Field(min_length=1, max_length=20)

    @field_validator("coordinates")
    @classmethod
    def _ring(cls, rings: list[list[list[float]]]) -> list[list[list[float]]]:
        for ring in rings:
            if not 4 <= len(ring) <= 2000 or any(len(p) != 2 for p in ring):
                raise ValueError("each ring is 4 to 2000 [lon, lat] points")
        return rings


class Levels(_Strict):
    """Where blue, yellow, orange and red start: densities (persons/m²), or ratios of the capacity."""

    density: list[float] | None = Field(default=None, min_length=4, max_length=4)
    capacity_ratio: list[float] | None = Field(default=None, min_length=4, max_length=4)

    @model_validator(mode="after")
    def _one(self) -> Levels:
        values = self.density if self.density is not None else self.capacity_ratio
        if (self.density is None) == (self.capacity_ratio is None):
            raise ValueError("give density or capacity_ratio, not both")
        assert values is not None
        if any(v <= 0 for v in values) or any(b <= a for a, b in zip(values, values[1:], strict=False)):
            raise ValueError("four positive values, rising from blue to red")
        return self


class ZoneSave(_Strict):
    name: str = Field(min_length=1, max_length=200)
    area_m2: float = Field(gt=0, le=10_000_000, description="The walkable area, m².")
    capacity: int | None = Field(default=None, gt=0, le=10_000_000, description="最大承载量, persons.")
    geometry: Polygon = Field(description="GeoJSON Polygon in lon/lat, the registry's datum (GCJ-02).")
    inputs: list[ZoneInputIn] = Field(default=[], max_length=200)
    levels: Levels | None = Field(default=None, description=f"Thresholds of {', '.join(LEVELS)}.")


class ForecastPoint(BaseModel):
    minutes_ahead: int
    density: float
    low: float
    high: float


class ZonePublic(BaseModel):
    code: str
    name: str
    area_m2: float
    capacity: int | None
    geometry: dict[str, Any]
    lon: float
    lat: float
    street_code: str | None
    community_code: str | None
    inputs: list[ZoneInputIn]
    levels: dict[str, list[float]] = Field(description="The thresholds in force, as densities.")
    version: int
    occupancy: float | None = Field(description="Persons in the zone now (None before its first input).")
    density: float | None
    level: str | None
    forecast: list[ForecastPoint]
    minutes_to_danger: float | None = Field(
        description="When the forecast reaches the orange (danger) density; None when not rising towards it."
    )
    flow_per_min: float | None = Field(description="Net persons per minute coming in (the trend).")
    as_of: datetime | None = Field(description="The event time of the estimate.")
