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


class MeasureIn(_Strict):
    kind: Literal["close_entrance", "meter_entrance", "open_exit"] = Field(
        description="close_entrance: arrivals there turned away; meter_entrance: at most rate_per_min let in; "
        "open_exit: a closed exit (one whose counter counts nobody out while others do) opened."
    )
    input: str = Field(min_length=1, max_length=64, description="The counter (device id) of that gate.")
    rate_per_min: float | None = Field(
        default=None, ge=0, le=10_000, description="Persons per minute let in (meter_entrance only)."
    )


class WhatIfRequest(_Strict):
    measure: MeasureIn
    minutes: int = Field(default=20, ge=1, le=120, description="How far ahead to simulate.")


class WhatIfRun(BaseModel):
    peak_density: float
    peak_minute: float
    series: list[list[float]] = Field(description="[minute, persons/m²] every half minute from now.")


class WhatIfStart(BaseModel):
    occupancy: float
    inflow_per_min: float
    outflow_per_min: float
    dwell_min: float = Field(description="How long people stay, from Little's law (240 when none leave yet).")
    scale: float = Field(description="The miniature's factor on area and flows (1: life size).")
    closed_exits: list[str]


class WhatIfPublic(BaseModel):
    id: int
    zone: str
    status: Literal["running", "done", "failed"]
    as_of: datetime = Field(description="The event time of the zone's state it starts from.")
    minutes: int
    measure: MeasureIn
    start: WhatIfStart = Field(description="What the simulation assumed.")
    without: WhatIfRun | None = None
    with_: WhatIfRun | None = Field(default=None, alias="with")
    computed_in_s: float | None = None
    error: str | None = None
    requested_by: str
    requested_at: datetime

    model_config = ConfigDict(populate_by_name=True)
