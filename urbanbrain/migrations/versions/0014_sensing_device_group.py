"""sensing: a device's partition group

Devices whose readings are judged together elsewhere (a crowd zone's counters, cameras and cells) share a
partition group; scaled out, a device without a building is partitioned by its group, so one worker sees
all of them.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-08 07:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sensing_device", schema=None) as batch_op:
        batch_op.add_column(sa.Column("partition_group", sa.String(length=64), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_sensing_device_partition_group"), ["partition_group"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("sensing_device", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sensing_device_partition_group"))
        batch_op.drop_column("partition_group")
