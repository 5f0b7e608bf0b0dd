"""datahub: the catalog, requests, grants, usage, and the lake's queue of records to land

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-09 07:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import urbanbrain.core.db

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "datahub_dataset",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=60), nullable=False),
        sa.Column("title_zh", sa.String(length=200), nullable=False),
        sa.Column("title_en", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("owner_department", sa.String(length=64), nullable=False),
        sa.Column("source_kind", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=80), nullable=False),
        sa.Column("update_frequency", sa.String(length=16), nullable=False),
        sa.Column("sharing_class", sa.String(length=16), nullable=False),
        sa.Column(
            "keywords", sa.JSON().with_variant(sa.JSON(none_as_null=True), "postgresql"), nullable=False
        ),
        sa.Column("published_by", sa.String(length=128), nullable=False),
        sa.Column("published_at", urbanbrain.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", urbanbrain.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_datahub_dataset")),
        sa.UniqueConstraint("code", name=op.f("uq_datahub_dataset_code")),
    )
    with op.batch_alter_table("datahub_dataset", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_datahub_dataset_owner_department"), ["owner_department"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_datahub_dataset_sharing_class"), ["sharing_class"], unique=False)

    op.create_table(
        "datahub_lake_pending",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("lake_table", sa.String(length=40), nullable=False),
        sa.Column("record_id", sa.String(length=64), nullable=False),
        sa.Column("queued_at", urbanbrain.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_datahub_lake_pending")),
        sa.UniqueConstraint("lake_table", "record_id", name=op.f("uq_datahub_lake_pending_lake_table")),
    )
    with op.batch_alter_table("datahub_lake_pending", schema=None) as batch_op:
        batch_op.create_index("ix_datahub_lake_pending_queued", ["queued_at"], unique=False)

    op.create_table(
        "datahub_field",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dataset_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("description_en", sa.Text(), nullable=False),
        sa.Column("protected", sa.Boolean(), nullable=False),
        sa.Column("mask", sa.String(length=16), nullable=True),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["datahub_dataset.id"],
            name=op.f("fk_datahub_field_dataset_id_datahub_dataset"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_datahub_field")),
        sa.UniqueConstraint("dataset_id", "name", name=op.f("uq_datahub_field_dataset_id")),
    )
    with op.batch_alter_table("datahub_field", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_datahub_field_dataset_id"), ["dataset_id"], unique=False)

    op.create_table(
        "datahub_request",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("dataset_id", sa.Integer(), nullable=False),
        sa.Column("consumer_department", sa.String(length=64), nullable=False),
        sa.Column("requested_by", sa.String(length=128), nullable=False),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("fields", sa.JSON().with_variant(sa.JSON(none_as_null=True), "postgresql"), nullable=False),
        sa.Column("rows", sa.JSON().with_variant(sa.JSON(none_as_null=True), "postgresql"), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("decided_by", sa.String(length=128), nullable=True),
        sa.Column("decided_at", urbanbrain.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("created_at", urbanbrain.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["dataset_id"], ["datahub_dataset.id"], name=op.f("fk_datahub_request_dataset_id_datahub_dataset")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_datahub_request")),
    )
    with op.batch_alter_table("datahub_request", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_datahub_request_consumer_department"), ["consumer_department"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_datahub_request_dataset_id"), ["dataset_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_datahub_request_state"), ["state"], unique=False)

    op.create_table(
        "datahub_usage",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("dataset_id", sa.Integer(), nullable=False),
        sa.Column("consumer_department", sa.String(length=64), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("accesses", sa.Integer(), nullable=False),
        sa.Column("records", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.ForeignKeyConstraint(
            ["dataset_id"], ["datahub_dataset.id"], name=op.f("fk_datahub_usage_dataset_id_datahub_dataset")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_datahub_usage")),
        sa.UniqueConstraint(
            "dataset_id", "consumer_department", "day", name=op.f("uq_datahub_usage_dataset_id")
        ),
    )
    with op.batch_alter_table("datahub_usage", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_datahub_usage_dataset_id"), ["dataset_id"], unique=False)

    op.create_table(
        "datahub_grant",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("request_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("dataset_id", sa.Integer(), nullable=False),
        sa.Column("consumer_department", sa.String(length=64), nullable=False),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("fields", sa.JSON().with_variant(sa.JSON(none_as_null=True), "postgresql"), nullable=False),
        sa.Column("rows", sa.JSON().with_variant(sa.JSON(none_as_null=True), "postgresql"), nullable=True),
        sa.Column("granted_by", sa.String(length=128), nullable=False),
        sa.Column("granted_at", urbanbrain.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", urbanbrain.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", urbanbrain.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_by", sa.String(length=128), nullable=True),
        sa.Column("api_key_id", sa.Integer(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["api_key_id"], ["core_api_key.id"], name=op.f("fk_datahub_grant_api_key_id_core_api_key")
        ),
        sa.ForeignKeyConstraint(
            ["dataset_id"], ["datahub_dataset.id"], name=op.f("fk_datahub_grant_dataset_id_datahub_dataset")
        ),
        sa.ForeignKeyConstraint(
            ["request_id"], ["datahub_request.id"], name=op.f("fk_datahub_grant_request_id_datahub_request")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_datahub_grant")),
        sa.UniqueConstraint("request_id", name=op.f("uq_datahub_grant_request_id")),
    )
    with op.batch_alter_table("datahub_grant", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_datahub_grant_consumer_department"), ["consumer_department"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_datahub_grant_dataset_id"), ["dataset_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("datahub_grant", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_datahub_grant_dataset_id"))
        batch_op.drop_index(batch_op.f("ix_datahub_grant_consumer_department"))

    op.drop_table("datahub_grant")
    with op.batch_alter_table("datahub_usage", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_datahub_usage_dataset_id"))

    op.drop_table("datahub_usage")
    with op.batch_alter_table("datahub_request", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_datahub_request_state"))
        batch_op.drop_index(batch_op.f("ix_datahub_request_dataset_id"))
        batch_op.drop_index(batch_op.f("ix_datahub_request_consumer_department"))

    op.drop_table("datahub_request")
    with op.batch_alter_table("datahub_field", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_datahub_field_dataset_id"))

    op.drop_table("datahub_field")
    with op.batch_alter_table("datahub_lake_pending", schema=None) as batch_op:
        batch_op.drop_index("ix_datahub_lake_pending_queued")

    op.drop_table("datahub_lake_pending")
    with op.batch_alter_table("datahub_dataset", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_datahub_dataset_sharing_class"))
        batch_op.drop_index(batch_op.f("ix_datahub_dataset_owner_department"))

    op.drop_table("datahub_dataset")
