"""Linkage tables. An incident carries its state on one row; its tasks are rows of their own (one per
department and plan task), and everything that happens to either is a timeline row, in order."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from urbanbrain.core.db import Base, JSONType, UTCDateTime
from urbanbrain.core.models import BigId


class Plan(Base):
    """A plan (预案) an admin edited; the shipped ``plans.toml`` holds the ones nobody has edited."""

    __tablename__ = "linkage_plan"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)  # the incident type: crowd, flood, ...
    body: Mapped[dict[str, Any]] = mapped_column(JSONType)  # name, auto_start_level, tasks, ...
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_by: Mapped[str] = mapped_column(String(128))
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}


class Incident(Base):
    """One emergency response (应急事件): a plan started at a level for a place, until stand-down."""

    __tablename__ = "linkage_incident"
    __table_args__ = (
        # One open incident per type and zone: the key is set while open and cleared at stand-down (NULLs
        # never collide), so two alarms racing for the same zone cannot both start one.
        UniqueConstraint("open_key", name="uq_linkage_incident_open_key"),
        Index("ix_linkage_incident_state_started", "state", "started_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    code: Mapped[str] = mapped_column(String(24), unique=True)  # YJ-20180709-0001
    incident_type: Mapped[str] = mapped_column(String(40))
    level: Mapped[str] = mapped_column(String(8))  # blue | yellow | orange | red
    first_level: Mapped[str] = mapped_column(String(8))
    title: Mapped[str] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(16))  # active | stood_down
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    radius_m: Mapped[float] = mapped_column(Float)
    polygon: Mapped[list[list[float]] | None] = mapped_column(JSONType)  # [[lon, lat], ...], closed
    zone_code: Mapped[str | None] = mapped_column(String(64), index=True)
    area_code: Mapped[str | None] = mapped_column(String(64))
    alarm_id: Mapped[int | None] = mapped_column(BigId)  # the alarm that started it, if any
    open_key: Mapped[str | None] = mapped_column(String(120))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    started_by: Mapped[str] = mapped_column(String(128))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime)  # the last start, escalation or stand-down
    messages: Mapped[int] = mapped_column(Integer, default=1)  # CAP messages so far (start, escalations)
    stood_down_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}


class Task(Base):
    """One department's task in an incident, with the deadline to acknowledge it (签收时限)."""

    __tablename__ = "linkage_task"
    __table_args__ = (
        UniqueConstraint("incident_id", "key", "department_code", name="uq_linkage_task_incident_key"),
        Index("ix_linkage_task_state_deadline", "state", "ack_deadline"),
        Index("ix_linkage_task_department_state", "department_code", "state"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("linkage_incident.id"), index=True)
    key: Mapped[str] = mapped_column(String(40))  # the plan task's key
    level: Mapped[str] = mapped_column(String(8))  # the plan level it came with
    department_code: Mapped[str] = mapped_column(String(64))
    text_zh: Mapped[str] = mapped_column(Text)
    text_en: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16))  # assigned | acknowledged | done | stood_down
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ack_deadline: Mapped[datetime] = mapped_column(UTCDateTime)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acknowledged_by: Mapped[str | None] = mapped_column(String(128))
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    overdue_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # flagged once by the sweep
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}


class TimelineEntry(Base):
    """The shared timeline (事件时间线): every start, assignment, acknowledgement, note, overdue task, level
    change, attachment and the stand-down, in the order they happened."""

    __tablename__ = "linkage_timeline"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("linkage_incident.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(24))
    task_id: Mapped[int | None] = mapped_column(BigId)
    department_code: Mapped[str | None] = mapped_column(String(64))
    level: Mapped[str | None] = mapped_column(String(8))
    attachment_id: Mapped[int | None] = mapped_column(BigId)
    note: Mapped[str | None] = mapped_column(Text)


class Attachment(Base):
    """A JSON result attached to an incident: a crowd what-if, a situation report."""

    __tablename__ = "linkage_attachment"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("linkage_incident.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(200))
    data: Mapped[dict[str, Any]] = mapped_column(JSONType)
    attached_at: Mapped[datetime] = mapped_column(UTCDateTime)
    attached_by: Mapped[str] = mapped_column(String(128))
