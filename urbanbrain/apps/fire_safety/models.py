"""Fire-safety tables. A hazard carries its whole state on one row (for fast lists and statistics); its
history is rows of its own. Codes are what people quote on the phone: JC-/YH-<local date>-<sequence>."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from urbanbrain.core.db import Base, UTCDateTime
from urbanbrain.core.models import BigId


class Inspection(Base):
    """One visit to a building or venue (消防检查): routine, or a re-inspection of one hazard (复查)."""

    __tablename__ = "fire_safety_inspection"
    __table_args__ = (Index("ix_fire_safety_inspection_community_at", "community_code", "inspected_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    code: Mapped[str] = mapped_column(String(24), unique=True)  # JC-20180709-0001
    target_kind: Mapped[str] = mapped_column(String(16))  # building | venue
    target_code: Mapped[str] = mapped_column(String(40), index=True)
    building_code: Mapped[str | None] = mapped_column(String(40), index=True)
    street_code: Mapped[str | None] = mapped_column(String(32), index=True)
    community_code: Mapped[str | None] = mapped_column(String(32))
    inspector: Mapped[str] = mapped_column(String(128))  # the actor's name
    inspected_at: Mapped[datetime] = mapped_column(UTCDateTime)
    kind: Mapped[str] = mapped_column(String(16))  # routine | re_inspection
    result: Mapped[str] = mapped_column(String(16))  # pass | hazards_found
    hazard_code: Mapped[str | None] = mapped_column(String(24))  # a re-inspection: the hazard it checked
    note: Mapped[str | None] = mapped_column(Text)


class Hazard(Base):
    """A fire hazard (隐患) found in an inspection, followed until a re-inspection closes it (销号)."""

    __tablename__ = "fire_safety_hazard"
    __table_args__ = (
        Index("ix_fire_safety_hazard_state_deadline", "state", "deadline"),
        Index("ix_fire_safety_hazard_community_found", "community_code", "found_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    code: Mapped[str] = mapped_column(String(24), unique=True)  # YH-20180709-0001
    inspection_id: Mapped[int] = mapped_column(ForeignKey("fire_safety_inspection.id"), index=True)
    target_kind: Mapped[str] = mapped_column(String(16))
    target_code: Mapped[str] = mapped_column(String(40), index=True)
    building_code: Mapped[str | None] = mapped_column(String(40), index=True)
    venue_code: Mapped[str | None] = mapped_column(String(40))
    street_code: Mapped[str | None] = mapped_column(String(32), index=True)
    community_code: Mapped[str | None] = mapped_column(String(32))
    # Where the target stands, copied when found: an escalation files its case here.
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    address: Mapped[str | None] = mapped_column(String(300))
    type_code: Mapped[str] = mapped_column(String(32), index=True)
    description: Mapped[str] = mapped_column(Text)
    severity: Mapped[str] = mapped_column(String(16))  # general | major
    state: Mapped[str] = mapped_column(String(16))  # open | rectified | closed
    found_at: Mapped[datetime] = mapped_column(UTCDateTime)
    deadline: Mapped[datetime] = mapped_column(UTCDateTime)  # local midnight after the last allowed day
    rectified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    overdue_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # flagged against the current deadline
    was_overdue: Mapped[bool] = mapped_column(Boolean, default=False)  # ever late: not "on time" any more
    failures: Mapped[int] = mapped_column(Integer, default=0)  # re-inspections failed
    case_number: Mapped[str | None] = mapped_column(String(40))  # the case it was escalated to
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)

    # Optimistic concurrency: of two people re-inspecting the same hazard, the second write fails.
    __mapper_args__ = {"version_id_col": version}


class HazardHistory(Base):
    """Every step of a hazard, in order: found, rectified, re-inspected, overdue, escalated."""

    __tablename__ = "fire_safety_history"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    hazard_id: Mapped[int] = mapped_column(ForeignKey("fire_safety_hazard.id"), index=True)
    inspection_id: Mapped[int | None] = mapped_column(ForeignKey("fire_safety_inspection.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(128))
    transition: Mapped[str] = mapped_column(String(32))
    from_state: Mapped[str | None] = mapped_column(String(16))
    to_state: Mapped[str] = mapped_column(String(16))
    deadline: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the deadline in force after the step
    note: Mapped[str | None] = mapped_column(Text)


class HazardPhoto(Base):
    """A photo of a hazard, tied to the step it shows: as found, as rectified, at re-inspection."""

    __tablename__ = "fire_safety_photo"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    hazard_id: Mapped[int] = mapped_column(ForeignKey("fire_safety_hazard.id"), index=True)
    history_id: Mapped[int] = mapped_column(ForeignKey("fire_safety_history.id"))
    path: Mapped[str] = mapped_column(String(300))
    content_type: Mapped[str] = mapped_column(String(32))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    uploaded_by: Mapped[str] = mapped_column(String(128))
