"""Crowd tables: zones with their inputs, and each zone's latest estimate (its history lives in the alarms
it raised and, later, the lake)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Float, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from urbanbrain.core.db import Base, JSONType, UTCDateTime
from urbanbrain.core.models import BigId


class Zone(Base):
    """A plaza, a street, a metro exit, a park: where density is watched (人群聚集监测区域)."""

    __tablename__ = "crowd_zone"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    area_m2: Mapped[float] = mapped_column(Float)  # walkable area
    capacity: Mapped[int | None] = mapped_column(Integer)  # 最大承载量, persons
    geometry: Mapped[dict[str, Any]] = mapped_column(JSONType)  # GeoJSON Polygon, lon/lat (GCJ-02)
    lon: Mapped[float] = mapped_column(Float)  # a point inside, for the map and the alarms
    lat: Mapped[float] = mapped_column(Float)
    street_code: Mapped[str | None] = mapped_column(String(32), index=True)
    community_code: Mapped[str | None] = mapped_column(String(32))
    # {"density": [blue, yellow, orange, red]} or {"capacity_ratio": [...]}: None is the defaults
    levels: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}


class ZoneInput(Base):
    """A sensing device that feeds a zone, and how: a counter at an entrance or exit, a camera, a cell."""

    __tablename__ = "crowd_input"
    __table_args__ = (UniqueConstraint("zone_id", "device_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    zone_id: Mapped[int] = mapped_column(ForeignKey("crowd_zone.id"), index=True)
    device_id: Mapped[str] = mapped_column(String(64), index=True)
    role: Mapped[str] = mapped_column(String(16))  # entrance | exit | camera | cell


class ZoneState(Base):
    """A zone's latest estimate, in event time: written at every tick of its estimator."""

    __tablename__ = "crowd_state"

    zone_id: Mapped[int] = mapped_column(ForeignKey("crowd_zone.id"), primary_key=True)
    as_of: Mapped[datetime] = mapped_column(UTCDateTime)  # the event time judged
    occupancy: Mapped[float] = mapped_column(Float)
    density: Mapped[float] = mapped_column(Float)
    sd: Mapped[float] = mapped_column(Float)
    flow_per_min: Mapped[float] = mapped_column(Float)
    level: Mapped[str | None] = mapped_column(String(8))
    minutes_to_danger: Mapped[float | None] = mapped_column(Float)
    forecast: Mapped[list[dict[str, Any]]] = mapped_column(JSONType)
    # each counter's persons/min over the trend's window: {device: [in, out]} (what a what-if continues)
    gates: Mapped[dict[str, list[float]] | None] = mapped_column(JSONType)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class WhatIf(Base):
    """A control measure tried in simulation from a zone's state (推演): requested by an operator, computed
    in the background (JuPedSim), its result kept so that any process can answer for it and an operator
    can attach it to an incident."""

    __tablename__ = "crowd_what_if"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    zone_id: Mapped[int] = mapped_column(ForeignKey("crowd_zone.id"), index=True)
    status: Mapped[str] = mapped_column(String(8))  # running | done | failed
    measure: Mapped[dict[str, Any]] = mapped_column(JSONType)  # {"kind", "input", "rate_per_min"?}
    minutes: Mapped[int] = mapped_column(Integer)
    as_of: Mapped[datetime] = mapped_column(UTCDateTime)  # the event time of the state it starts from
    start: Mapped[dict[str, Any]] = mapped_column(JSONType)  # what it assumed: occupancy, rates, scale
    result: Mapped[dict[str, Any] | None] = mapped_column(JSONType)  # {"without": ..., "with": ...}
    error: Mapped[str | None] = mapped_column(String(500))
    requested_by: Mapped[str] = mapped_column(String(100))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    computed_in_s: Mapped[float | None] = mapped_column(Float)
