"""Core tables: departments, users, API keys, the audit chain, the outbox and the consumers' inbox, counters,
and notifications (the in-app inbox, subscriptions and deliveries)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from urbanbrain.core.db import Base, JSONType, UTCDateTime

# BIGINT on PostgreSQL, INTEGER on SQLite (whose rowid alias must be spelled INTEGER).
BigId = BigInteger().with_variant(Integer(), "sqlite")


class Department(Base):
    """A unit that owns work and data: a functional bureau, a street office or a community work station."""

    __tablename__ = "core_department"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(
        String(32), index=True
    )  # functional | street_office | community_station
    area_code: Mapped[str | None] = mapped_column(String(64), index=True)
    phone: Mapped[str | None] = mapped_column(String(64))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}


class User(Base):
    """A staff account. ``role`` names a role in :mod:`urbanbrain.core.auth.roles`."""

    __tablename__ = "core_user"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    full_name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(32))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("core_department.id"), index=True)
    area_code: Mapped[str | None] = mapped_column(String(64))  # the street or community a scoped role covers
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}


class ApiKey(Base):
    """A key for a device or a data consumer. Only a hash of the secret is stored."""

    __tablename__ = "core_api_key"

    id: Mapped[int] = mapped_column(primary_key=True)
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(128))
    name: Mapped[str] = mapped_column(String(200))
    scopes: Mapped[list[str]] = mapped_column(JSONType)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("core_department.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AuditEntry(Base):
    """One write, hash-chained to the previous one so that an edited or deleted row is detected."""

    __tablename__ = "core_audit"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, unique=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(128), index=True)
    entity_type: Mapped[str] = mapped_column(String(64))
    entity_id: Mapped[str] = mapped_column(String(64))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHead(Base):
    """The chain's last sequence number and hash: deleting the newest rows is detected against it."""

    __tablename__ = "core_audit_head"

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger)
    hash: Mapped[str] = mapped_column(String(64))


class OutboxEvent(Base):
    """An event written in the same transaction as the change; the relay publishes it after commit."""

    __tablename__ = "core_outbox"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    event_id: Mapped[str] = mapped_column(String(36), unique=True)
    type: Mapped[str] = mapped_column(String(128))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)


class InboxEntry(Base):
    """Which consumer has handled which event: makes at-least-once delivery idempotent."""

    __tablename__ = "core_inbox"
    __table_args__ = (UniqueConstraint("consumer", "event_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    consumer: Mapped[str] = mapped_column(String(128))
    event_id: Mapped[str] = mapped_column(String(36))
    handled_at: Mapped[datetime] = mapped_column(UTCDateTime)


class SequenceCounter(Base):
    """A named counter (``cases:440304-C0101``, ``registry:FT-SL``): see :mod:`urbanbrain.core.sequence`."""

    __tablename__ = "core_sequence"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    last: Mapped[int] = mapped_column(BigInteger, default=0)


class Notification(Base):
    """A row in a department's in-app inbox (the command centre's too), about a subject (a case, an alarm)."""

    __tablename__ = "core_notification"
    __table_args__ = (Index("ix_core_notification_inbox", "recipient", "read_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    recipient: Mapped[str] = mapped_column(String(64))  # a department code
    kind: Mapped[str] = mapped_column(String(64))  # the event type that caused it
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    subject_type: Mapped[str | None] = mapped_column(String(32))  # case | alarm | hazard ...
    subject_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Subscription(Base):
    """Who hears about which events, through which channel: a webhook URL (signed with ``secret``,
    HMAC-SHA256), an e-mail address or a phone number for SMS."""

    __tablename__ = "core_subscription"

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))  # webhook | email | sms
    target: Mapped[str] = mapped_column(String(500))
    secret: Mapped[str | None] = mapped_column(String(128))
    events: Mapped[list[str]] = mapped_column(JSONType)  # patterns such as cases.case.>
    department_code: Mapped[str | None] = mapped_column(String(64))  # only events about this department
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Delivery(Base):
    """One event to one subscription (or one message to one person), with its attempts; unique per
    subscription and event, so a redelivered event is sent once."""

    __tablename__ = "core_delivery"
    __table_args__ = (
        Index("ix_core_delivery_due", "status", "next_attempt_at"),
        UniqueConstraint("subscription_id", "event_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    # None for a message to one person (a device owner's SMS), which names its own channel and target.
    subscription_id: Mapped[int | None] = mapped_column(ForeignKey("core_subscription.id"), index=True)
    channel: Mapped[str | None] = mapped_column(String(16))
    target: Mapped[str | None] = mapped_column(Text)  # protected (sealed): a person's phone or address
    event_id: Mapped[str] = mapped_column(String(36))
    event_type: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending|sent|failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
