"""fire_safety: photos of hazards

A grid worker photographs a hazard when it is found, and again when the owner has fixed it; each photo is
tied to the hazard and to the step of its history it shows. The files live under the data directory
(``fire_safety/<hazard id>/<sha256>.<ext>``), the rows say where.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 04:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import urbanbrain.core.db

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "fire_safety_photo",
        sa.Column("id", BigId, nullable=False),
        sa.Column("hazard_id", BigId, nullable=False),
        sa.Column("history_id", BigId, nullable=False),
        sa.Column("path", sa.String(length=300), nullable=False),
        sa.Column("content_type", sa.String(length=32), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("uploaded_at", urbanbrain.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("uploaded_by", sa.String(length=128), nullable=False),
        sa.ForeignKeyConstraint(
            ["hazard_id"],
            ["fire_safety_hazard.id"],
            name=op.f("fk_fire_safety_photo_hazard_id_fire_safety_hazard"),
        ),
        sa.ForeignKeyConstraint(
            ["history_id"],
            ["fire_safety_history.id"],
            name=op.f("fk_fire_safety_photo_history_id_fire_safety_history"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fire_safety_photo")),
    )
    with op.batch_alter_table("fire_safety_photo", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_fire_safety_photo_hazard_id"), ["hazard_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("fire_safety_photo", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_fire_safety_photo_hazard_id"))
    op.drop_table("fire_safety_photo")
