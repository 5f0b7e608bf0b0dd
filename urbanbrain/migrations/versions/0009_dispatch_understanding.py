"""cases: what dispatch understood of a report, and the classifier's versions

A case now records the kind of request (consultation, complaint, help, report, suggestion), whether it was
an emergency (told to call 110/119/120 and flagged to the command centre), the knowledge-base answer a
consultation was given, and how its position was found (the reporter's GPS, a facility, or words). The
classifier's versions are rows: each retraining is kept with its scores, and promotion is recorded.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 19:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import urbanbrain.core.db

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cases_case") as batch:
        batch.add_column(sa.Column("request_kind", sa.String(16), nullable=True))
        batch.add_column(sa.Column("emergency", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("answer_code", sa.String(40), nullable=True))
        batch.add_column(sa.Column("located_by", sa.String(16), nullable=True))
        batch.create_index("ix_cases_case_request_kind", ["request_kind"])
    op.create_table(
        "cases_classifier_version",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("version", sa.String(40), nullable=False, unique=True),
        sa.Column("created_at", urbanbrain.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(128), nullable=True),
        sa.Column("n_corrections", sa.Integer(), nullable=False),
        sa.Column("scores", sa.JSON().with_variant(sa.JSON(none_as_null=True), "postgresql"), nullable=False),
        sa.Column("promoted", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.String(300), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("cases_classifier_version")
    with op.batch_alter_table("cases_case") as batch:
        batch.drop_index("ix_cases_case_request_kind")
        batch.drop_column("located_by")
        batch.drop_column("answer_code")
        batch.drop_column("emergency")
        batch.drop_column("request_kind")
