"""Sensing tables: device types, devices, alarm rules, alarms, the latest value of every measurement, and
the dead letters. Readings themselves go to the Parquet lake, not to these tables."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from urbanbrain.core.db import Base, JSONType, UTCDateTime
from urbanbrain.core.models import BigId

OPEN_ALARM = text("status <> 'cleared'")


class DeviceType(Base):
    """A kind of device (电气火灾监控探测器, 烟感...) and what it measures: ``measurements`` is a list of
    ``{"name", "unit", "zh", "en"}``; a reading of any other measurement is dead-lettered."""

    __tablename__ = "sensing_device_type"

    code: Mapped[str] = mapped_column(String(48), primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100))
    measurements: Mapped[list[dict[str, Any]]] = mapped_column(JSONType)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}


class Device(Base):
    """One installed device: where it is, whose it is, and its own key (HTTP ``X-Device-Key`` or MQTT
    password; only a hash is kept). ``partition_group`` names devices whose readings are judged together
    elsewhere (a crowd zone's inputs): scaled out, a device without a building is partitioned by it."""

    __tablename__ = "sensing_device"

    id: Mapped[int] = mapped_column(primary_key=True)
    device_id: Mapped[str] = mapped_column(String(64), unique=True)
    type_code: Mapped[str] = mapped_column(ForeignKey("sensing_device_type.code"), index=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    building_code: Mapped[str | None] = mapped_column(String(40), index=True)
    venue_code: Mapped[str | None] = mapped_column(String(40))
    partition_group: Mapped[str | None] = mapped_column(String(64), index=True)
    lon: Mapped[float | None] = mapped_column(Float)
    lat: Mapped[float | None] = mapped_column(Float)
    street_code: Mapped[str | None] = mapped_column(String(32))
    community_code: Mapped[str | None] = mapped_column(String(32), index=True)
    owner_name: Mapped[str | None] = mapped_column(String(100))
    owner_phone: Mapped[str | None] = mapped_column(Text)  # protected (sealed)
    key_hash: Mapped[str] = mapped_column(String(64), index=True)  # sha256 of the device key
    status: Mapped[str] = mapped_column(String(16), default="active")  # active | disabled
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}


class Rule(Base):
    """An alarm rule as data: ``spec`` is the engine's ``RuleSpec`` (kind, measurement, op, value, ...).
    ``case_category`` is the case class opened when the alarm reaches the configured warning level."""

    __tablename__ = "sensing_rule"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    spec: Mapped[dict[str, Any]] = mapped_column(JSONType)
    description: Mapped[str] = mapped_column(String(300), default="")
    case_category: Mapped[str | None] = mapped_column(String(8))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}


class Alarm(Base):
    """An alarm (告警): one open (active or acknowledged) per device and alarm type, as ThingsBoard keeps
    them; a raise while one is open counts on it. ``event_at`` is the event time of the reading (or the
    silence) that raised it, ``raised_at`` the platform time it was raised."""

    __tablename__ = "sensing_alarm"
    __table_args__ = (
        Index(
            "uq_sensing_alarm_open",
            "origin",
            "alarm_type",
            unique=True,
            sqlite_where=OPEN_ALARM,
            postgresql_where=OPEN_ALARM,
        ),
        Index("ix_sensing_alarm_status_raised", "status", "raised_at"),
        # a raise looks for the open alarm or this very raise already recorded (a replay), by event time
        Index("ix_sensing_alarm_origin_event", "origin", "alarm_type", "event_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    origin: Mapped[str] = mapped_column(String(64))  # a device id, or a building code for a group alarm
    scope: Mapped[str] = mapped_column(String(8))  # device | group
    alarm_type: Mapped[str] = mapped_column(String(64))
    rule_code: Mapped[str] = mapped_column(String(64))
    severity: Mapped[str] = mapped_column(String(16))
    level: Mapped[str] = mapped_column(String(8))  # blue | yellow | orange | red (预警级别)
    status: Mapped[str] = mapped_column(String(16), index=True)  # active | acknowledged | cleared
    building_code: Mapped[str | None] = mapped_column(String(40), index=True)
    community_code: Mapped[str | None] = mapped_column(String(32))
    lon: Mapped[float | None] = mapped_column(Float)
    lat: Mapped[float | None] = mapped_column(Float)
    measurement: Mapped[str | None] = mapped_column(String(48))
    value: Mapped[float | None] = mapped_column(Float)
    detail: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    count: Mapped[int] = mapped_column(Integer, default=1)
    event_at: Mapped[datetime] = mapped_column(UTCDateTime)
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_event_at: Mapped[datetime] = mapped_column(UTCDateTime)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acknowledged_by: Mapped[str | None] = mapped_column(String(128))
    cleared_event_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cleared_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cleared_by: Mapped[str | None] = mapped_column(String(128))
    case_number: Mapped[str | None] = mapped_column(String(40))
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}


class Latest(Base):
    """The latest value of each device's measurement (newest event time wins; written in batches)."""

    __tablename__ = "sensing_latest"

    device_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    measurement: Mapped[str] = mapped_column(String(48), primary_key=True)
    value: Mapped[float] = mapped_column(Float)
    ts: Mapped[float] = mapped_column(Float)  # event time, epoch seconds UTC
    message_id: Mapped[str | None] = mapped_column(String(64))


class DeadLetter(Base):
    """A message that could not be taken, kept whole with the reason, for an operator to read or replay."""

    __tablename__ = "sensing_dead_letter"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    source: Mapped[str] = mapped_column(String(16))  # http | mqtt | replay
    reason: Mapped[str] = mapped_column(String(32), index=True)
    detail: Mapped[str] = mapped_column(Text, default="")
    device_id: Mapped[str | None] = mapped_column(String(64))
    message_id: Mapped[str | None] = mapped_column(String(64))
    payload: Mapped[str] = mapped_column(Text)
