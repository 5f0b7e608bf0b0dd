"""sensing: index alarms by origin, type and event time (a raise's lookup of a replay scanned the table)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26 10:00:00.000000
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_sensing_alarm_origin_event", "sensing_alarm", ["origin", "alarm_type", "event_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_sensing_alarm_origin_event", table_name="sensing_alarm")
