"""Data hub tables: datasets and their fields (the catalog), access requests, grants, usage per day, and the
lake's queue of records to land."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from urbanbrain.core.db import Base, JSONType, UTCDateTime
from urbanbrain.core.models import BigId


class Dataset(Base):
    """A published dataset (数据资源): what it holds, who owns it, how often it changes, how it is shared."""

    __tablename__ = "datahub_dataset"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(60), unique=True)
    title_zh: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    owner_department: Mapped[str] = mapped_column(String(64), index=True)  # a registry department code
    # registry | cases | alarms | telemetry | upload: where the rows come from
    source_kind: Mapped[str] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(String(80))  # the lake table it is served from
    update_frequency: Mapped[str] = mapped_column(
        String(16)
    )  # realtime|hourly|daily|weekly|monthly|irregular
    # unconditional | conditional | not_shared (无条件共享 / 有条件共享 / 不予共享)
    sharing_class: Mapped[str] = mapped_column(String(16), index=True)
    keywords: Mapped[list[str]] = mapped_column(JSONType, default=list)
    published_by: Mapped[str] = mapped_column(String(128))
    published_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}


class DatasetField(Base):
    """One field of a dataset's schema; a protected field is only ever served masked or not at all."""

    __tablename__ = "datahub_field"
    __table_args__ = (UniqueConstraint("dataset_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    dataset_id: Mapped[int] = mapped_column(ForeignKey("datahub_dataset.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(64))
    type: Mapped[str] = mapped_column(String(16))  # string|integer|number|boolean|timestamp|date
    description: Mapped[str] = mapped_column(Text, default="")
    description_en: Mapped[str] = mapped_column(Text, default="")
    protected: Mapped[bool] = mapped_column(Boolean, default=False)
    mask: Mapped[str | None] = mapped_column(String(16))  # id_number|phone|name|hidden, for protected fields


class AccessRequest(Base):
    """A consumer department's request for a dataset (共享申请), decided by the owner."""

    __tablename__ = "datahub_request"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    dataset_id: Mapped[int] = mapped_column(ForeignKey("datahub_dataset.id"), index=True)
    consumer_department: Mapped[str] = mapped_column(String(64), index=True)
    requested_by: Mapped[str] = mapped_column(String(128))
    purpose: Mapped[str] = mapped_column(Text)
    fields: Mapped[list[str]] = mapped_column(JSONType)
    rows: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONType)  # row conditions asked for
    state: Mapped[str] = mapped_column(String(16), index=True)  # pending|approved|refused
    decided_by: Mapped[str | None] = mapped_column(String(128))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}


class Grant(Base):
    """What a consumer may read (共享授权): fields (clear or masked), rows, until when, through which key."""

    __tablename__ = "datahub_grant"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("datahub_request.id"), unique=True)
    dataset_id: Mapped[int] = mapped_column(ForeignKey("datahub_dataset.id"), index=True)
    consumer_department: Mapped[str] = mapped_column(String(64), index=True)
    purpose: Mapped[str] = mapped_column(Text)
    fields: Mapped[list[dict[str, str]]] = mapped_column(JSONType)  # [{"name", "mode": clear|masked}]
    rows: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONType)  # conditions every read carries
    granted_by: Mapped[str] = mapped_column(String(128))
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_by: Mapped[str | None] = mapped_column(String(128))
    api_key_id: Mapped[int | None] = mapped_column(ForeignKey("core_api_key.id"))
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}


class Usage(Base):
    """Records shared per dataset, consumer and day (共享调用统计)."""

    __tablename__ = "datahub_usage"
    __table_args__ = (UniqueConstraint("dataset_id", "consumer_department", "day"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    dataset_id: Mapped[int] = mapped_column(ForeignKey("datahub_dataset.id"), index=True)
    consumer_department: Mapped[str] = mapped_column(String(64))
    day: Mapped[date] = mapped_column(Date)
    accesses: Mapped[int] = mapped_column(Integer, default=0)
    records: Mapped[int] = mapped_column(BigId, default=0)


class LakePending(Base):
    """A record whose current state the lake has still to land: queued by the bus consumers in the same
    transaction as their inbox mark, removed once the lake's file holding it is in place."""

    __tablename__ = "datahub_lake_pending"
    __table_args__ = (
        UniqueConstraint("lake_table", "record_id"),
        Index("ix_datahub_lake_pending_queued", "queued_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    lake_table: Mapped[str] = mapped_column(String(40))
    record_id: Mapped[str] = mapped_column(String(64))
    queued_at: Mapped[datetime] = mapped_column(UTCDateTime)
