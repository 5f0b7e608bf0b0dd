"""fire_safety: inspections, hazards, their history, code sequences

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26 00:10:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import urbanbrain.core.db

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "fire_safety_inspection",
        sa.Column("id", BigId, nullable=False),
        sa.Column("code", sa.String(length=24), nullable=False),
        sa.Column("target_kind", sa.String(length=16), nullable=False),
        sa.Column("target_code", sa.String(length=40), nullable=False),
        sa.Column("building_code", sa.String(length=40), nullable=True),
        sa.Column("street_code", sa.String(length=32), nullable=True),
        sa.Column("community_code", sa.String(length=32), nullable=True),
        sa.Column("inspector", sa.String(length=128), nullable=False),
        sa.Column("inspected_at", urbanbrain.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("result", sa.String(length=16), nullable=False),
        sa.Column("hazard_code", sa.String(length=24), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fire_safety_inspection")),
        sa.UniqueConstraint("code", name=op.f("uq_fire_safety_inspection_code")),
    )
    with op.batch_alter_table("fire_safety_inspection", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_fire_safety_inspection_building_code"), ["building_code"], unique=False
        )
        batch_op.create_index(
            "ix_fire_safety_inspection_community_at", ["community_code", "inspected_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_fire_safety_inspection_street_code"), ["street_code"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_fire_safety_inspection_target_code"), ["target_code"], unique=False
        )

    op.create_table(
        "fire_safety_sequence",
        sa.Column("key", sa.String(length=32), nullable=False),
        sa.Column("last", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_fire_safety_sequence")),
    )
    op.create_table(
        "fire_safety_hazard",
        sa.Column("id", BigId, nullable=False),
        sa.Column("code", sa.String(length=24), nullable=False),
        sa.Column("inspection_id", BigId, nullable=False),
        sa.Column("target_kind", sa.String(length=16), nullable=False),
        sa.Column("target_code", sa.String(length=40), nullable=False),
        sa.Column("building_code", sa.String(length=40), nullable=True),
        sa.Column("venue_code", sa.String(length=40), nullable=True),
        sa.Column("street_code", sa.String(length=32), nullable=True),
        sa.Column("community_code", sa.String(length=32), nullable=True),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("address", sa.String(length=300), nullable=True),
        sa.Column("type_code", sa.String(length=32), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("found_at", urbanbrain.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("deadline", urbanbrain.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("rectified_at", urbanbrain.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("closed_at", urbanbrain.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("overdue_at", urbanbrain.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("was_overdue", sa.Boolean(), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("case_number", sa.String(length=40), nullable=True),
        sa.Column("escalated_at", urbanbrain.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("updated_at", urbanbrain.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["inspection_id"],
            ["fire_safety_inspection.id"],
            name=op.f("fk_fire_safety_hazard_inspection_id_fire_safety_inspection"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fire_safety_hazard")),
        sa.UniqueConstraint("code", name=op.f("uq_fire_safety_hazard_code")),
    )
    with op.batch_alter_table("fire_safety_hazard", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_fire_safety_hazard_building_code"), ["building_code"], unique=False
        )
        batch_op.create_index(
            "ix_fire_safety_hazard_community_found", ["community_code", "found_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_fire_safety_hazard_inspection_id"), ["inspection_id"], unique=False
        )
        batch_op.create_index("ix_fire_safety_hazard_state_deadline", ["state", "deadline"], unique=False)
        batch_op.create_index(batch_op.f("ix_fire_safety_hazard_street_code"), ["street_code"], unique=False)
        batch_op.create_index(batch_op.f("ix_fire_safety_hazard_target_code"), ["target_code"], unique=False)
        batch_op.create_index(batch_op.f("ix_fire_safety_hazard_type_code"), ["type_code"], unique=False)

    op.create_table(
        "fire_safety_history",
        sa.Column("id", BigId, nullable=False),
        sa.Column("hazard_id", BigId, nullable=False),
        sa.Column("inspection_id", BigId, nullable=True),
        sa.Column("at", urbanbrain.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("transition", sa.String(length=32), nullable=False),
        sa.Column("from_state", sa.String(length=16), nullable=True),
        sa.Column("to_state", sa.String(length=16), nullable=False),
        sa.Column("deadline", urbanbrain.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["hazard_id"],
            ["fire_safety_hazard.id"],
            name=op.f("fk_fire_safety_history_hazard_id_fire_safety_hazard"),
        ),
        sa.ForeignKeyConstraint(
            ["inspection_id"],
            ["fire_safety_inspection.id"],
            name=op.f("fk_fire_safety_history_inspection_id_fire_safety_inspection"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fire_safety_history")),
    )
    with op.batch_alter_table("fire_safety_history", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_fire_safety_history_hazard_id"), ["hazard_id"], unique=False)


def downgrade() -> None:
    # Children first: history points at hazards and inspections, hazards at inspections.
    op.drop_table("fire_safety_history")
    op.drop_table("fire_safety_hazard")
    op.drop_table("fire_safety_sequence")
    op.drop_table("fire_safety_inspection")
