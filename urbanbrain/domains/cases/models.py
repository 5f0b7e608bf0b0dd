"""Case tables. A case carries its whole state on one row (for fast inboxes and statistics); its history,
notes, photos, links and notifications are rows of their own."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Boolean, Date, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from urbanbrain.core.db import Base, JSONType, UTCDateTime
from urbanbrain.core.models import BigId


class Case(Base):
    __tablename__ = "cases_case"
    __table_args__ = (
        Index("ix_cases_case_state_dept", "state", "department_code"),
        Index("ix_cases_case_category_reported", "category_code", "reported_at"),
        Index("ix_cases_case_lonlat", "lon", "lat"),
        Index("ix_cases_case_resolve_due", "resolve_due_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    number: Mapped[str | None] = mapped_column(String(40), unique=True)  # given at registration (立案)
    token: Mapped[str] = mapped_column(String(36), unique=True)  # Open311 token, given before the number
    state: Mapped[str] = mapped_column(String(20), index=True)
    source: Mapped[str] = mapped_column(String(16))  # app|qr|hotline|grid|sensor|opinion|operator
    category_code: Mapped[str | None] = mapped_column(String(8))
    major_code: Mapped[str | None] = mapped_column(String(8))
    priority: Mapped[int] = mapped_column(Integer, default=3)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    lon: Mapped[float | None] = mapped_column(Float)
    lat: Mapped[float | None] = mapped_column(Float)
    address: Mapped[str | None] = mapped_column(String(300))
    street_code: Mapped[str | None] = mapped_column(String(32), index=True)
    community_code: Mapped[str | None] = mapped_column(String(32), index=True)
    grid_code: Mapped[str | None] = mapped_column(String(32))
    facility_code: Mapped[str | None] = mapped_column(String(40), index=True)
    media_url: Mapped[str | None] = mapped_column(String(500))  # Open311's photo link
    reporter_name: Mapped[str | None] = mapped_column(String(100))
    reporter_contact: Mapped[str | None] = mapped_column(Text)  # protected (sealed)
    reporter_user: Mapped[str | None] = mapped_column(String(128))  # who filed it (actor name)
    source_ref: Mapped[str | None] = mapped_column(
        String(64), unique=True
    )  # what opened it: sensing.alarm:17
    department_code: Mapped[str | None] = mapped_column(String(64), index=True)
    classified_as: Mapped[str | None] = mapped_column(String(8))
    classification_confidence: Mapped[float | None] = mapped_column(Float)
    triage_reason: Mapped[str | None] = mapped_column(String(32), index=True)  # low_confidence|no_route|...
    # consultation|complaint|help|report|suggestion (咨询/投诉/求助/举报/建议), as classified or as corrected
    request_kind: Mapped[str | None] = mapped_column(String(16), index=True)
    emergency: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())  # 110/119/120 now
    answer_code: Mapped[str | None] = mapped_column(
        String(40)
    )  # the knowledge-base answer a consultation got
    located_by: Mapped[str | None] = mapped_column(String(16))  # position|facility|address (words, geocoded)
    duplicate_candidates: Mapped[list[int]] = mapped_column(JSONType, default=list)
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("cases_case.id"))
    escalation_level: Mapped[int] = mapped_column(Integer, default=0)
    reported_at: Mapped[datetime] = mapped_column(UTCDateTime)
    registered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    dispatched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    accept_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolve_warn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # 80% of the time limit
    resolve_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    suspended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sla_warned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sla_breached_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    pending_request: Mapped[dict[str, Any] | None] = mapped_column(
        JSONType
    )  # suspend/extend awaiting approval
    verification_passed: Mapped[bool | None] = mapped_column(Boolean)
    satisfaction: Mapped[int | None] = mapped_column(Integer)  # 1..5 from the reporter's callback
    # SHA-256 of the reporter's feedback key (sent only to them when the case is resolved; see feedback.py)
    feedback_digest: Mapped[str | None] = mapped_column(String(64), unique=True, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)

    # Optimistic concurrency in SQL: every UPDATE carries "WHERE version = <read>", so of two handlers
    # accepting the same case, the second one's write finds no row and fails.
    __mapper_args__ = {"version_id_col": version}


class CaseHistory(Base):
    """Every transition, in order: who, when, from which state to which, and why."""

    __tablename__ = "cases_history"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases_case.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(128))
    transition: Mapped[str] = mapped_column(String(32))
    from_state: Mapped[str | None] = mapped_column(String(20))
    to_state: Mapped[str] = mapped_column(String(20))
    department_code: Mapped[str | None] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(Text)
    public: Mapped[bool] = mapped_column(Boolean, default=True)  # shown to the reporter (Open311 updates)


class CasePhoto(Base):
    __tablename__ = "cases_photo"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases_case.id"), index=True)
    history_id: Mapped[int | None] = mapped_column(ForeignKey("cases_history.id"))
    path: Mapped[str] = mapped_column(String(300))
    content_type: Mapped[str] = mapped_column(String(32))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    uploaded_by: Mapped[str] = mapped_column(String(128))


class CaseLink(Base):
    """A merged duplicate, recorded both ways (``duplicate_of`` and ``has_duplicate``)."""

    __tablename__ = "cases_link"
    __table_args__ = (UniqueConstraint("case_id", "other_id", "kind"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases_case.id"), index=True)
    other_id: Mapped[int] = mapped_column(ForeignKey("cases_case.id"))
    kind: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class RoutingRule(Base):
    """Which department gets a class of case, optionally only in one area; ``facility_owner`` rules send a
    case about a facility to the unit that owns it. Lower ``rank`` wins; the taxonomy's default is last."""

    __tablename__ = "cases_routing_rule"

    id: Mapped[int] = mapped_column(primary_key=True)
    rank: Mapped[int] = mapped_column(Integer, default=100)
    category_code: Mapped[str | None] = mapped_column(String(8))  # a minor or major code; None = any
    area_code: Mapped[str | None] = mapped_column(String(32))  # a street, community or grid cell; None = any
    facility_owner: Mapped[bool] = mapped_column(Boolean, default=False)
    department_code: Mapped[str | None] = mapped_column(String(64))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    note: Mapped[str | None] = mapped_column(String(200))


class CalendarDay(Base):
    """An exception to the working week: a public holiday, or a weekend day worked in exchange (调休)."""

    __tablename__ = "cases_calendar_day"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # holiday | workday
    name: Mapped[str | None] = mapped_column(String(100))


class ClassifierVersion(Base):
    """A trained classifier: its scores on the held evaluation set, and whether it was promoted to serve.

    The model files live under the data directory (``classifier/<version>/``); only the active row's model
    serves. A version is promoted only when it beats the active one (``classify/retrain.py``)."""

    __tablename__ = "cases_classifier_version"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[str] = mapped_column(String(40), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str | None] = mapped_column(String(128))
    n_corrections: Mapped[int] = mapped_column(Integer)  # dispatchers' decisions it learned from
    scores: Mapped[dict[str, Any]] = mapped_column(JSONType)  # {"candidate": {...}, "active": {...}}
    promoted: Mapped[bool] = mapped_column(Boolean)
    active: Mapped[bool] = mapped_column(Boolean)
    reason: Mapped[str | None] = mapped_column(String(300))
