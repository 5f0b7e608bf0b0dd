"""cases: the reporter's feedback key, apart from the case's token

The token is a case's reference before it has a number (staff and Open311 clients look cases up by it);
the feedback key lets the reporter confirm or reject the fix and is theirs alone: a new one is sent to
the reporter's contact each time the case is resolved, and only its SHA-256 digest is kept.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 15:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cases_case") as batch:
        batch.add_column(sa.Column("feedback_digest", sa.String(64), nullable=True))
        batch.create_index("ix_cases_case_feedback_digest", ["feedback_digest"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("cases_case") as batch:
        batch.drop_index("ix_cases_case_feedback_digest")
        batch.drop_column("feedback_digest")
