"""Registry tables. Every located row keeps its street, community and grid cell codes, derived from its
position on write, so that area filters and data scopes are plain indexed comparisons on both backends.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from shapely.geometry.base import BaseGeometry
from sqlalchemy import Boolean, Date, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from urbanbrain.core.db import Base, Geometry, JSONType, UTCDateTime


class Area(Base):
    """District → street → community → grid cell (网格); plus special zones such as an urban village."""

    __tablename__ = "registry_area"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200), default="")
    level: Mapped[str] = mapped_column(String(16), index=True)  # district|street|community|grid_cell|village
    parent_code: Mapped[str | None] = mapped_column(String(32), index=True)
    approximate: Mapped[bool] = mapped_column(Boolean, default=False)
    geom: Mapped[BaseGeometry] = mapped_column(Geometry)
    min_lon: Mapped[float] = mapped_column(Float)
    min_lat: Mapped[float] = mapped_column(Float)
    max_lon: Mapped[float] = mapped_column(Float)
    max_lat: Mapped[float] = mapped_column(Float)
    area_km2: Mapped[float] = mapped_column(Float)
    properties: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}


class _Located:
    """Columns shared by every row with a position."""

    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    street_code: Mapped[str | None] = mapped_column(String(32))
    community_code: Mapped[str | None] = mapped_column(String(32))
    grid_code: Mapped[str | None] = mapped_column(String(32))


class Building(_Located, Base):
    """A coded building (每栋建筑编码)."""

    __tablename__ = "registry_building"
    __table_args__ = (
        Index("ix_registry_building_lonlat", "lon", "lat"),
        Index("ix_registry_building_street", "street_code"),
        Index("ix_registry_building_community", "community_code"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(String(300))
    footprint: Mapped[BaseGeometry | None] = mapped_column(Geometry)
    floors: Mapped[int] = mapped_column(Integer)
    use: Mapped[str] = mapped_column(String(32))  # residential|commercial|mixed|office|industrial|public
    structure: Mapped[str | None] = mapped_column(String(32))
    built_year: Mapped[int | None] = mapped_column(Integer)
    village_code: Mapped[str | None] = mapped_column(String(32), index=True)
    owner_name: Mapped[str | None] = mapped_column(String(200))
    owner_phone: Mapped[str | None] = mapped_column(Text)  # protected (sealed)
    properties: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}


class Unit(Base):
    """A household or other unit in a building (每户建档)."""

    __tablename__ = "registry_unit"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(48), unique=True)
    building_id: Mapped[int] = mapped_column(ForeignKey("registry_building.id"), index=True)
    floor: Mapped[int] = mapped_column(Integer)
    number: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(16))  # household|shop|office|vacant
    area_m2: Mapped[float | None] = mapped_column(Float)
    tenure: Mapped[str | None] = mapped_column(String(16))  # owner|rented|collective
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}


class Resident(Base):
    """A person living in a unit. ID number and phone are sealed; ``id_number_index`` finds one exactly."""

    __tablename__ = "registry_resident"

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("registry_unit.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    gender: Mapped[str | None] = mapped_column(String(8))
    birth_year: Mapped[int | None] = mapped_column(Integer)
    relation: Mapped[str] = mapped_column(String(16))  # head|member|tenant
    id_number: Mapped[str | None] = mapped_column(Text)  # protected (sealed)
    id_number_index: Mapped[str | None] = mapped_column(String(64), index=True)
    phone: Mapped[str | None] = mapped_column(Text)  # protected (sealed)
    moved_in: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}


class Venue(_Located, Base):
    """A venue or merchant; the "three small" (三小场所) kinds get the fire-safety focus."""

    __tablename__ = "registry_venue"
    __table_args__ = (
        Index("ix_registry_venue_lonlat", "lon", "lat"),
        Index("ix_registry_venue_street", "street_code"),
        Index("ix_registry_venue_community", "community_code"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(
        String(32), index=True
    )  # small_shop|small_hotel|small_entertainment|merchant
    category: Mapped[str] = mapped_column(String(64))
    building_id: Mapped[int | None] = mapped_column(ForeignKey("registry_building.id"), index=True)
    address: Mapped[str] = mapped_column(String(300))
    operator_name: Mapped[str | None] = mapped_column(String(200))
    operator_phone: Mapped[str | None] = mapped_column(Text)  # protected (sealed)
    employees: Mapped[int | None] = mapped_column(Integer)
    floor_area_m2: Mapped[float | None] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(16), default="open")  # open|closed|suspended
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}


class Licence(Base):
    """A venue's licence (business, food, fire-safety, special trade)."""

    __tablename__ = "registry_licence"

    id: Mapped[int] = mapped_column(primary_key=True)
    venue_id: Mapped[int] = mapped_column(ForeignKey("registry_venue.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))  # business|food|fire_safety|special_trade|entertainment
    number: Mapped[str] = mapped_column(String(64), unique=True)
    issued_on: Mapped[date] = mapped_column(Date)
    expires_on: Mapped[date | None] = mapped_column(Date, index=True)
    issuer_department_code: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="valid")  # valid|expired|revoked


class Facility(_Located, Base):
    """A public facility that "shows its identity" (亮身份) through the public code on its QR label."""

    __tablename__ = "registry_facility"
    __table_args__ = (
        Index("ix_registry_facility_lonlat", "lon", "lat"),
        Index("ix_registry_facility_street", "street_code"),
        Index("ix_registry_facility_community", "community_code"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)  # public QR code, stable for the label's life
    kind: Mapped[str] = mapped_column(String(32), index=True)
    name: Mapped[str] = mapped_column(String(200))
    owner_department_id: Mapped[int] = mapped_column(ForeignKey("core_department.id"), index=True)
    responsible_person: Mapped[str] = mapped_column(String(100))
    responsible_phone: Mapped[str | None] = mapped_column(String(64))  # a work phone, shown publicly
    installed_on: Mapped[date | None] = mapped_column(Date)
    settings: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    status: Mapped[str] = mapped_column(String(16), default="in_service")  # in_service|damaged|removed
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}
