"""linkage: emergency plans, incidents, tasks, the shared timeline and attachments

A plan an admin edited is a row (the shipped plans.toml holds the rest); an incident is one response, its
tasks one per department and plan task, its timeline every step in order. ``open_key`` (type and zone) is
set while an incident is open: the unique constraint keeps one open incident per zone.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-08 10:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import urbanbrain.core.db

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSONType = sa.JSON().with_variant(sa.JSON(none_as_null=True), "postgresql")

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "linkage_incident",
        sa.Column("id", BigId, nullable=False),
        sa.Column("code", sa.String(length=24), nullable=False),
        sa.Column("incident_type", sa.String(length=40), nullable=False),
        sa.Column("level", sa.String(length=8), nullable=False),
        sa.Column("first_level", sa.String(length=8), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("radius_m", sa.Float(), nullable=False),
        sa.Column("polygon", JSONType, nullable=True),
        sa.Column("zone_code", sa.String(length=64), nullable=True),
        sa.Column("area_code", sa.String(length=64), nullable=True),
        sa.Column("alarm_id", BigId, nullable=True),
        sa.Column("open_key", sa.String(length=120), nullable=True),
        sa.Column("started_at", urbanbrain.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("started_by", sa.String(length=128), nullable=False),
        sa.Column("changed_at", urbanbrain.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("messages", sa.Integer(), nullable=False),
        sa.Column("stood_down_at", urbanbrain.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_linkage_incident")),
        sa.UniqueConstraint("code", name=op.f("uq_linkage_incident_code")),
        sa.UniqueConstraint("open_key", name="uq_linkage_incident_open_key"),
    )
    op.create_index(
        "ix_linkage_incident_state_started", "linkage_incident", ["state", "started_at"], unique=False
    )
    op.create_index(op.f("ix_linkage_incident_zone_code"), "linkage_incident", ["zone_code"], unique=False)
    op.create_table(
        "linkage_plan",
        sa.Column("id", BigId, nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("body", JSONType, nullable=False),
        sa.Column("updated_at", urbanbrain.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=128), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_linkage_plan")),
        sa.UniqueConstraint("code", name=op.f("uq_linkage_plan_code")),
    )
    op.create_table(
        "linkage_attachment",
        sa.Column("id", BigId, nullable=False),
        sa.Column("incident_id", BigId, nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("data", JSONType, nullable=False),
        sa.Column("attached_at", urbanbrain.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("attached_by", sa.String(length=128), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["linkage_incident.id"],
            name=op.f("fk_linkage_attachment_incident_id_linkage_incident"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_linkage_attachment")),
    )
    op.create_index(
        op.f("ix_linkage_attachment_incident_id"), "linkage_attachment", ["incident_id"], unique=False
    )
    op.create_table(
        "linkage_task",
        sa.Column("id", BigId, nullable=False),
        sa.Column("incident_id", BigId, nullable=False),
        sa.Column("key", sa.String(length=40), nullable=False),
        sa.Column("level", sa.String(length=8), nullable=False),
        sa.Column("department_code", sa.String(length=64), nullable=False),
        sa.Column("text_zh", sa.Text(), nullable=False),
        sa.Column("text_en", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("assigned_at", urbanbrain.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ack_deadline", urbanbrain.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("acknowledged_at", urbanbrain.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("acknowledged_by", sa.String(length=128), nullable=True),
        sa.Column("done_at", urbanbrain.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("overdue_at", urbanbrain.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["linkage_incident.id"],
            name=op.f("fk_linkage_task_incident_id_linkage_incident"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_linkage_task")),
        sa.UniqueConstraint("incident_id", "key", "department_code", name="uq_linkage_task_incident_key"),
    )
    op.create_index(
        "ix_linkage_task_department_state", "linkage_task", ["department_code", "state"], unique=False
    )
    op.create_index(op.f("ix_linkage_task_incident_id"), "linkage_task", ["incident_id"], unique=False)
    op.create_index("ix_linkage_task_state_deadline", "linkage_task", ["state", "ack_deadline"], unique=False)
    op.create_table(
        "linkage_timeline",
        sa.Column("id", BigId, nullable=False),
        sa.Column("incident_id", BigId, nullable=False),
        sa.Column("at", urbanbrain.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("task_id", BigId, nullable=True),
        sa.Column("department_code", sa.String(length=64), nullable=True),
        sa.Column("level", sa.String(length=8), nullable=True),
        sa.Column("attachment_id", BigId, nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["linkage_incident.id"],
            name=op.f("fk_linkage_timeline_incident_id_linkage_incident"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_linkage_timeline")),
    )
    op.create_index(
        op.f("ix_linkage_timeline_incident_id"), "linkage_timeline", ["incident_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_linkage_timeline_incident_id"), table_name="linkage_timeline")
    op.drop_table("linkage_timeline")
    op.drop_index("ix_linkage_task_state_deadline", table_name="linkage_task")
    op.drop_index(op.f("ix_linkage_task_incident_id"), table_name="linkage_task")
    op.drop_index("ix_linkage_task_department_state", table_name="linkage_task")
    op.drop_table("linkage_task")
    op.drop_index(op.f("ix_linkage_attachment_incident_id"), table_name="linkage_attachment")
    op.drop_table("linkage_attachment")
    op.drop_table("linkage_plan")
    op.drop_index(op.f("ix_linkage_incident_zone_code"), table_name="linkage_incident")
    op.drop_index("ix_linkage_incident_state_started", table_name="linkage_incident")
    op.drop_table("linkage_incident")
