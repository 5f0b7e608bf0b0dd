"""core: counters, the inbox, subscriptions and deliveries move to the core; cases remember what opened them

Counters (cases_sequence, fire_safety_sequence) become core_sequence, namespaced by their domain; the
notification tables of the cases domain become core_notification (about any subject, not only a case),
core_subscription and core_delivery. Rows are copied, ids kept. cases_case gains source_ref (the alarm a case
was opened for), unique.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 14:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import urbanbrain.core.db

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON = sa.JSON().with_variant(sa.JSON(none_as_null=True), "postgresql")
TIME = urbanbrain.core.db.UTCDateTime(timezone=True)


def _reset_ids(table: str) -> None:
    """PostgreSQL: the id sequence continues after the copied rows."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), coalesce(max(id), 1), max(id) IS NOT NULL) "
            f"FROM {table}"
        )


def upgrade() -> None:
    op.create_table(
        "core_sequence",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("last", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_core_sequence")),
    )
    op.execute("INSERT INTO core_sequence (key, last) SELECT 'cases:' || key, last FROM cases_sequence")
    op.execute(
        "INSERT INTO core_sequence (key, last) SELECT 'fire_safety:' || key, last FROM fire_safety_sequence"
    )
    op.drop_table("cases_sequence")
    op.drop_table("fire_safety_sequence")

    op.create_table(
        "core_subscription",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("target", sa.String(length=500), nullable=False),
        sa.Column("secret", sa.String(length=128), nullable=True),
        sa.Column("events", JSON, nullable=False),
        sa.Column("department_code", sa.String(length=64), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_core_subscription")),
    )
    op.execute(
        "INSERT INTO core_subscription (id, channel, target, secret, events, department_code, active, created_at) "
        "SELECT id, channel, target, secret, events, department_code, active, created_at FROM cases_subscription"
    )
    _reset_ids("core_subscription")
    op.create_table(
        "core_delivery",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("subscription_id", sa.Integer(), nullable=True),
        sa.Column("channel", sa.String(length=16), nullable=True),
        sa.Column("target", sa.Text(), nullable=True),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("event_type", sa.String(length=64), nullable=False),
        sa.Column("payload", JSON, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", TIME, nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("sent_at", TIME, nullable=True),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["core_subscription.id"],
            name=op.f("fk_core_delivery_subscription_id_core_subscription"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_core_delivery")),
        sa.UniqueConstraint("subscription_id", "event_id", name=op.f("uq_core_delivery_subscription_id")),
    )
    with op.batch_alter_table("core_delivery", schema=None) as batch_op:
        batch_op.create_index("ix_core_delivery_due", ["status", "next_attempt_at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_core_delivery_subscription_id"), ["subscription_id"], unique=False
        )
    columns = (
        "id, subscription_id, channel, target, event_id, event_type, payload, status, attempts, "
        "next_attempt_at, last_error, sent_at"
    )
    op.execute(f"INSERT INTO core_delivery ({columns}) SELECT {columns} FROM cases_delivery")
    _reset_ids("core_delivery")
    op.drop_table("cases_delivery")
    op.drop_table("cases_subscription")

    op.create_table(
        "core_notification",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("recipient", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("subject_type", sa.String(length=32), nullable=True),
        sa.Column("subject_id", sa.String(length=64), nullable=True),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("read_at", TIME, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_core_notification")),
    )
    with op.batch_alter_table("core_notification", schema=None) as batch_op:
        batch_op.create_index("ix_core_notification_inbox", ["recipient", "read_at"], unique=False)
    op.execute(
        "INSERT INTO core_notification (id, recipient, kind, title, body, subject_type, subject_id, created_at, "
        "read_at) SELECT id, recipient, kind, title, body, CASE WHEN case_id IS NULL THEN NULL ELSE 'case' END, "
        "CAST(case_id AS VARCHAR(64)), created_at, read_at FROM cases_notification"
    )
    _reset_ids("core_notification")
    op.drop_table("cases_notification")

    with op.batch_alter_table("cases_case", schema=None) as batch_op:
        batch_op.add_column(sa.Column("source_ref", sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_cases_case_source_ref"), ["source_ref"])


def downgrade() -> None:
    with op.batch_alter_table("cases_case", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_cases_case_source_ref"), type_="unique")
        batch_op.drop_column("source_ref")

    op.create_table(
        "cases_notification",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("recipient", sa.String(length=64), nullable=False),
        sa.Column("case_id", BIG_ID, nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("read_at", TIME, nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases_case.id"], name=op.f("fk_cases_notification_case_id_cases_case")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cases_notification")),
    )
    with op.batch_alter_table("cases_notification", schema=None) as batch_op:
        batch_op.create_index("ix_cases_notification_inbox", ["recipient", "read_at"], unique=False)
    # Rows about other subjects (alarms) had no place in the old table.
    op.execute(
        "INSERT INTO cases_notification (id, recipient, case_id, kind, title, body, created_at, read_at) "
        "SELECT id, recipient, CAST(subject_id AS INTEGER), substr(kind, 1, 32), title, body, created_at, "
        "read_at FROM core_notification WHERE subject_type = 'case' OR subject_type IS NULL"
    )
    op.drop_table("core_notification")

    op.create_table(
        "cases_subscription",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("target", sa.String(length=500), nullable=False),
        sa.Column("secret", sa.String(length=128), nullable=True),
        sa.Column("events", JSON, nullable=False),
        sa.Column("department_code", sa.String(length=64), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cases_subscription")),
    )
    op.execute("INSERT INTO cases_subscription SELECT * FROM core_subscription")
    op.create_table(
        "cases_delivery",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("subscription_id", sa.Integer(), nullable=True),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("event_type", sa.String(length=64), nullable=False),
        sa.Column("payload", JSON, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", TIME, nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("sent_at", TIME, nullable=True),
        sa.Column("channel", sa.String(length=16), nullable=True),
        sa.Column("target", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["cases_subscription.id"],
            name=op.f("fk_cases_delivery_subscription_id_cases_subscription"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cases_delivery")),
        sa.UniqueConstraint("subscription_id", "event_id", name=op.f("uq_cases_delivery_subscription_id")),
    )
    with op.batch_alter_table("cases_delivery", schema=None) as batch_op:
        batch_op.create_index("ix_cases_delivery_due", ["status", "next_attempt_at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_cases_delivery_subscription_id"), ["subscription_id"], unique=False
        )
    columns = (
        "id, subscription_id, channel, target, event_id, event_type, payload, status, attempts, "
        "next_attempt_at, last_error, sent_at"
    )
    op.execute(f"INSERT INTO cases_delivery ({columns}) SELECT {columns} FROM core_delivery")
    op.drop_table("core_delivery")
    op.drop_table("core_subscription")

    op.create_table(
        "fire_safety_sequence",
        sa.Column("key", sa.String(length=32), nullable=False),
        sa.Column("last", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_fire_safety_sequence")),
    )
    op.create_table(
        "cases_sequence",
        sa.Column("key", sa.String(length=32), nullable=False),
        sa.Column("last", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_cases_sequence")),
    )
    op.execute(
        "INSERT INTO cases_sequence (key, last) SELECT substr(key, 7), last FROM core_sequence "
        "WHERE key LIKE 'cases:%'"
    )
    op.execute(
        "INSERT INTO fire_safety_sequence (key, last) SELECT substr(key, 13), last FROM core_sequence "
        "WHERE key LIKE 'fire_safety:%'"
    )
    op.drop_table("core_sequence")
