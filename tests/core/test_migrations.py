"""One Alembic tree: up, down and up again on SQLite and on PostgreSQL + PostGIS."""

from sqlalchemy import inspect

from urbanbrain.core import migrate
from urbanbrain.core.db import make_engine

HEAD = "0015"


def _tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(inspect(engine).get_table_names()) - {"alembic_version", "spatial_ref_sys"}
    finally:
        engine.dispose()


def test_migrations_go_up_and_down(templates, backend):
    url = templates.fresh(backend, "empty")
    migrate.upgrade(url)
    assert migrate.current(url) == HEAD
    assert {"core_user", "core_audit", "core_outbox", "registry_area", "registry_facility"} <= _tables(url)

    migrate.downgrade(url, "0001")
    tables = _tables(url)
    assert "core_user" in tables and not any(t.startswith("registry_") for t in tables)

    migrate.downgrade(url, "base")
    assert migrate.current(url) is None
    assert _tables(url) == set()

    migrate.upgrade(url)
    assert migrate.current(url) == HEAD


def test_postgis_geometry_column_and_index(templates):
    url = templates.fresh("postgresql", "empty")
    migrate.upgrade(url)
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            coltype = conn.exec_driver_sql(
                "SELECT udt_name FROM information_schema.columns WHERE table_name='registry_area' AND column_name='geom'"
            ).scalar()
            index = conn.exec_driver_sql(
                "SELECT indexdef FROM pg_indexes WHERE indexname='ix_registry_area_geom'"
            ).scalar()
    finally:
        engine.dispose()
    assert coltype == "geometry"
    assert "gist" in index.lower()


def test_the_migrations_build_exactly_the_tables_the_models_describe(templates, backend):
    """No model change without its migration: autogenerate finds nothing to do (PostGIS's own table and the
    GiST indexes the migrations add by hand aside)."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from urbanbrain.core import plugins
    from urbanbrain.core.db import Base

    plugins.import_models()
    url = templates.fresh(backend, "empty")
    migrate.upgrade(url)
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    finally:
        engine.dispose()
    postgis = {"spatial_ref_sys", "ix_registry_area_geom", "ix_registry_building_footprint"}
    left = [d for d in diff if getattr(d[1], "name", None) not in postgis]
    assert left == []
