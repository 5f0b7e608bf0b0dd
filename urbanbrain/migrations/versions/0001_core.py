"""core: departments, users, API keys, audit chain, outbox, inbox

Revision ID: 0001
Revises:
Create Date: 2026-11-25 16:52:38.408721
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import urbanbrain.core.db

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        # PostGIS backs the registry's geometries; the extension needs superuser or trusted install.
        op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    op.create_table(
        "core_audit",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("at", urbanbrain.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("action", sa.String(length=128), nullable=False),
        sa.Column("entity_type", sa.String(length=64), nullable=False),
        sa.Column("entity_id", sa.String(length=64), nullable=False),
        sa.Column("before", sa.JSON().with_variant(sa.JSON(none_as_null=True), "postgresql"), nullable=True),
        sa.Column("after", sa.JSON().with_variant(sa.JSON(none_as_null=True), "postgresql"), nullable=True),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_core_audit")),
        sa.UniqueConstraint("seq", name=op.f("uq_core_audit_seq")),
    )
    with op.batch_alter_table("core_audit", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_core_audit_action"), ["action"], unique=False)

    head = op.create_table(
        "core_audit_head",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_core_audit_head")),
    )
    op.bulk_insert(head, [{"id": 1, "seq": 0, "hash": "0" * 64}])

    op.create_table(
        "core_department",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("name_en", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("area_code", sa.String(length=64), nullable=True),
        sa.Column("phone", sa.String(length=64), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_core_department")),
        sa.UniqueConstraint("code", name=op.f("uq_core_department_code")),
    )
    with op.batch_alter_table("core_department", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_core_department_area_code"), ["area_code"], unique=False)
        batch_op.create_index(batch_op.f("ix_core_department_kind"), ["kind"], unique=False)

    op.create_table(
        "core_inbox",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("consumer", sa.String(length=128), nullable=False),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("handled_at", urbanbrain.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_core_inbox")),
        sa.UniqueConstraint("consumer", "event_id", name=op.f("uq_core_inbox_consumer")),
    )

    op.create_table(
        "core_outbox",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("type", sa.String(length=128), nullable=False),
        sa.Column(
            "payload", sa.JSON().with_variant(sa.JSON(none_as_null=True), "postgresql"), nullable=False
        ),
        sa.Column("occurred_at", urbanbrain.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("published_at", urbanbrain.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_core_outbox")),
        sa.UniqueConstraint("event_id", name=op.f("uq_core_outbox_event_id")),
    )
    with op.batch_alter_table("core_outbox", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_core_outbox_published_at"), ["published_at"], unique=False)

    op.create_table(
        "core_api_key",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("secret_hash", sa.String(length=128), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("scopes", sa.JSON().with_variant(sa.JSON(none_as_null=True), "postgresql"), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=True),
        sa.Column("created_at", urbanbrain.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", urbanbrain.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["department_id"],
            ["core_department.id"],
            name=op.f("fk_core_api_key_department_id_core_department"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_core_api_key")),
        sa.UniqueConstraint("prefix", name=op.f("uq_core_api_key_prefix")),
    )

    op.create_table(
        "core_user",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("full_name", sa.String(length=200), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=True),
        sa.Column("area_code", sa.String(length=64), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", urbanbrain.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["department_id"], ["core_department.id"], name=op.f("fk_core_user_department_id_core_department")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_core_user")),
        sa.UniqueConstraint("username", name=op.f("uq_core_user_username")),
    )
    with op.batch_alter_table("core_user", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_core_user_department_id"), ["department_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("core_user", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_core_user_department_id"))

    op.drop_table("core_user")

    op.drop_table("core_api_key")

    with op.batch_alter_table("core_outbox", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_core_outbox_published_at"))

    op.drop_table("core_outbox")

    op.drop_table("core_inbox")

    with op.batch_alter_table("core_department", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_core_department_kind"))
        batch_op.drop_index(batch_op.f("ix_core_department_area_code"))

    op.drop_table("core_department")

    op.drop_table("core_audit_head")

    with op.batch_alter_table("core_audit", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_core_audit_action"))

    op.drop_table("core_audit")
