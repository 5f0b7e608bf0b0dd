"""crowd: each counter's recent rates in a zone's state, and the what-ifs tried from it

A zone's state keeps each counter's persons per minute in and out, which a what-if continues at each
entrance and exit; a what-if (a control measure simulated from the zone's state) is kept with what it
assumed and its result, so any process can answer for it and an operator can attach it to an incident.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 07:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import urbanbrain.core.db

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSONType = sa.JSON().with_variant(sa.JSON(none_as_null=True), "postgresql")
When = urbanbrain.core.db.UTCDateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("crowd_state", schema=None) as batch_op:
        batch_op.add_column(sa.Column("gates", JSONType, nullable=True))
    op.create_table(
        "crowd_what_if",
        sa.Column("id", BigId, nullable=False),
        sa.Column("zone_id", BigId, nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("measure", JSONType, nullable=False),
        sa.Column("minutes", sa.Integer(), nullable=False),
        sa.Column("as_of", When, nullable=False),
        sa.Column("start", JSONType, nullable=False),
        sa.Column("result", JSONType, nullable=True),
        sa.Column("error", sa.String(length=500), nullable=True),
        sa.Column("requested_by", sa.String(length=100), nullable=False),
        sa.Column("requested_at", When, nullable=False),
        sa.Column("finished_at", When, nullable=True),
        sa.Column("computed_in_s", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["zone_id"], ["crowd_zone.id"], name=op.f("fk_crowd_what_if_zone_id_crowd_zone")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crowd_what_if")),
    )
    with op.batch_alter_table("crowd_what_if", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_crowd_what_if_zone_id"), ["zone_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("crowd_what_if", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_crowd_what_if_zone_id"))
    op.drop_table("crowd_what_if")
    with op.batch_alter_table("crowd_state", schema=None) as batch_op:
        batch_op.drop_column("gates")
