"""Alembic environment: one migration tree for SQLite and PostgreSQL (+ PostGIS)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import pool

from urbanbrain.core import plugins
from urbanbrain.core.db import Base, make_engine

config = context.config
plugins.import_models()  # every domain's tables, so autogenerate sees them
target_metadata = Base.metadata


def run_migrations_online() -> None:
    connectable = config.attributes.get("connection")
    if connectable is not None:
        _run(connectable)
        return
    engine = make_engine(config.get_main_option("sqlalchemy.url") or "", poolclass=pool.NullPool)
    with engine.connect() as connection:
        _run(connection)
    engine.dispose()


def _run(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copying them
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations_online()
