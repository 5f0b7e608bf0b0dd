"""crowd: zones, their inputs, and each zone's latest estimate

A crowd zone (a plaza, a street, a metro exit) has an outline, a walkable area, an optional capacity and its
inputs: sensing devices that count at its entrances and exits, cameras that count heads, phone-signal cells.
Its estimate (occupancy, density, level, forecast) is kept as of the latest event time judged.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 05:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import urbanbrain.core.db

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSONType = sa.JSON().with_variant(sa.JSON(none_as_null=True), "postgresql")
When = urbanbrain.core.db.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "crowd_zone",
        sa.Column("id", BigId, nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("area_m2", sa.Float(), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=True),
        sa.Column("geometry", JSONType, nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("street_code", sa.String(length=32), nullable=True),
        sa.Column("community_code", sa.String(length=32), nullable=True),
        sa.Column("levels", JSONType, nullable=True),
        sa.Column("created_at", When, nullable=False),
        sa.Column("updated_at", When, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crowd_zone")),
        sa.UniqueConstraint("code", name=op.f("uq_crowd_zone_code")),
    )
    with op.batch_alter_table("crowd_zone", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_crowd_zone_street_code"), ["street_code"], unique=False)
    op.create_table(
        "crowd_input",
        sa.Column("id", BigId, nullable=False),
        sa.Column("zone_id", BigId, nullable=False),
        sa.Column("device_id", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["zone_id"], ["crowd_zone.id"], name=op.f("fk_crowd_input_zone_id_crowd_zone")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crowd_input")),
        sa.UniqueConstraint("zone_id", "device_id", name=op.f("uq_crowd_input_zone_id")),
    )
    with op.batch_alter_table("crowd_input", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_crowd_input_zone_id"), ["zone_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_crowd_input_device_id"), ["device_id"], unique=False)
    op.create_table(
        "crowd_state",
        sa.Column("zone_id", BigId, nullable=False),
        sa.Column("as_of", When, nullable=False),
        sa.Column("occupancy", sa.Float(), nullable=False),
        sa.Column("density", sa.Float(), nullable=False),
        sa.Column("sd", sa.Float(), nullable=False),
        sa.Column("flow_per_min", sa.Float(), nullable=False),
        sa.Column("level", sa.String(length=8), nullable=True),
        sa.Column("minutes_to_danger", sa.Float(), nullable=True),
        sa.Column("forecast", JSONType, nullable=False),
        sa.Column("updated_at", When, nullable=False),
        sa.ForeignKeyConstraint(
            ["zone_id"], ["crowd_zone.id"], name=op.f("fk_crowd_state_zone_id_crowd_zone")
        ),
        sa.PrimaryKeyConstraint("zone_id", name=op.f("pk_crowd_state")),
    )


def downgrade() -> None:
    op.drop_table("crowd_state")
    with op.batch_alter_table("crowd_input", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_crowd_input_device_id"))
        batch_op.drop_index(batch_op.f("ix_crowd_input_zone_id"))
    op.drop_table("crowd_input")
    with op.batch_alter_table("crowd_zone", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_crowd_zone_street_code"))
    op.drop_table("crowd_zone")
