"""registry: areas, buildings, units, residents, venues, licences, facilities

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 16:52:38.408721
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import urbanbrain.core.db

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "registry_area",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("name_en", sa.String(length=200), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("parent_code", sa.String(length=32), nullable=True),
        sa.Column("approximate", sa.Boolean(), nullable=False),
        sa.Column("geom", urbanbrain.core.db.Geometry(), nullable=False),
        sa.Column("min_lon", sa.Float(), nullable=False),
        sa.Column("min_lat", sa.Float(), nullable=False),
        sa.Column("max_lon", sa.Float(), nullable=False),
        sa.Column("max_lat", sa.Float(), nullable=False),
        sa.Column("area_km2", sa.Float(), nullable=False),
        sa.Column(
            "properties", sa.JSON().with_variant(sa.JSON(none_as_null=True), "postgresql"), nullable=False
        ),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registry_area")),
        sa.UniqueConstraint("code", name=op.f("uq_registry_area_code")),
    )
    with op.batch_alter_table("registry_area", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_registry_area_level"), ["level"], unique=False)
        batch_op.create_index(batch_op.f("ix_registry_area_parent_code"), ["parent_code"], unique=False)

    op.create_table(
        "registry_building",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("address", sa.String(length=300), nullable=False),
        sa.Column("footprint", urbanbrain.core.db.Geometry(), nullable=True),
        sa.Column("floors", sa.Integer(), nullable=False),
        sa.Column("use", sa.String(length=32), nullable=False),
        sa.Column("structure", sa.String(length=32), nullable=True),
        sa.Column("built_year", sa.Integer(), nullable=True),
        sa.Column("village_code", sa.String(length=32), nullable=True),
        sa.Column("owner_name", sa.String(length=200), nullable=True),
        sa.Column("owner_phone", sa.Text(), nullable=True),
        sa.Column(
            "properties", sa.JSON().with_variant(sa.JSON(none_as_null=True), "postgresql"), nullable=False
        ),
        sa.Column("created_at", urbanbrain.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", urbanbrain.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("street_code", sa.String(length=32), nullable=True),
        sa.Column("community_code", sa.String(length=32), nullable=True),
        sa.Column("grid_code", sa.String(length=32), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registry_building")),
        sa.UniqueConstraint("code", name=op.f("uq_registry_building_code")),
    )
    with op.batch_alter_table("registry_building", schema=None) as batch_op:
        batch_op.create_index("ix_registry_building_community", ["community_code"], unique=False)
        batch_op.create_index("ix_registry_building_lonlat", ["lon", "lat"], unique=False)
        batch_op.create_index("ix_registry_building_street", ["street_code"], unique=False)
        batch_op.create_index(batch_op.f("ix_registry_building_village_code"), ["village_code"], unique=False)

    op.create_table(
        "registry_facility",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("owner_department_id", sa.Integer(), nullable=False),
        sa.Column("responsible_person", sa.String(length=100), nullable=False),
        sa.Column("responsible_phone", sa.String(length=64), nullable=True),
        sa.Column("installed_on", sa.Date(), nullable=True),
        sa.Column(
            "settings", sa.JSON().with_variant(sa.JSON(none_as_null=True), "postgresql"), nullable=False
        ),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", urbanbrain.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", urbanbrain.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("street_code", sa.String(length=32), nullable=True),
        sa.Column("community_code", sa.String(length=32), nullable=True),
        sa.Column("grid_code", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["owner_department_id"],
            ["core_department.id"],
            name=op.f("fk_registry_facility_owner_department_id_core_department"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registry_facility")),
        sa.UniqueConstraint("code", name=op.f("uq_registry_facility_code")),
    )
    with op.batch_alter_table("registry_facility", schema=None) as batch_op:
        batch_op.create_index("ix_registry_facility_community", ["community_code"], unique=False)
        batch_op.create_index(batch_op.f("ix_registry_facility_kind"), ["kind"], unique=False)
        batch_op.create_index("ix_registry_facility_lonlat", ["lon", "lat"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_registry_facility_owner_department_id"), ["owner_department_id"], unique=False
        )
        batch_op.create_index("ix_registry_facility_street", ["street_code"], unique=False)

    op.create_table(
        "registry_unit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=48), nullable=False),
        sa.Column("building_id", sa.Integer(), nullable=False),
        sa.Column("floor", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("area_m2", sa.Float(), nullable=True),
        sa.Column("tenure", sa.String(length=16), nullable=True),
        sa.Column("created_at", urbanbrain.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", urbanbrain.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["building_id"],
            ["registry_building.id"],
            name=op.f("fk_registry_unit_building_id_registry_building"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registry_unit")),
        sa.UniqueConstraint("code", name=op.f("uq_registry_unit_code")),
    )
    with op.batch_alter_table("registry_unit", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_registry_unit_building_id"), ["building_id"], unique=False)

    op.create_table(
        "registry_venue",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("category", sa.String(length=64), nullable=False),
        sa.Column("building_id", sa.Integer(), nullable=True),
        sa.Column("address", sa.String(length=300), nullable=False),
        sa.Column("operator_name", sa.String(length=200), nullable=True),
        sa.Column("operator_phone", sa.Text(), nullable=True),
        sa.Column("employees", sa.Integer(), nullable=True),
        sa.Column("floor_area_m2", sa.Float(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", urbanbrain.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", urbanbrain.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("street_code", sa.String(length=32), nullable=True),
        sa.Column("community_code", sa.String(length=32), nullable=True),
        sa.Column("grid_code", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["building_id"],
            ["registry_building.id"],
            name=op.f("fk_registry_venue_building_id_registry_building"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registry_venue")),
        sa.UniqueConstraint("code", name=op.f("uq_registry_venue_code")),
    )
    with op.batch_alter_table("registry_venue", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_registry_venue_building_id"), ["building_id"], unique=False)
        batch_op.create_index("ix_registry_venue_community", ["community_code"], unique=False)
        batch_op.create_index(batch_op.f("ix_registry_venue_kind"), ["kind"], unique=False)
        batch_op.create_index("ix_registry_venue_lonlat", ["lon", "lat"], unique=False)
        batch_op.create_index("ix_registry_venue_street", ["street_code"], unique=False)

    op.create_table(
        "registry_licence",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("venue_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("number", sa.String(length=64), nullable=False),
        sa.Column("issued_on", sa.Date(), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=True),
        sa.Column("issuer_department_code", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["venue_id"], ["registry_venue.id"], name=op.f("fk_registry_licence_venue_id_registry_venue")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registry_licence")),
        sa.UniqueConstraint("number", name=op.f("uq_registry_licence_number")),
    )
    with op.batch_alter_table("registry_licence", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_registry_licence_expires_on"), ["expires_on"], unique=False)
        batch_op.create_index(batch_op.f("ix_registry_licence_venue_id"), ["venue_id"], unique=False)

    op.create_table(
        "registry_resident",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("gender", sa.String(length=8), nullable=True),
        sa.Column("birth_year", sa.Integer(), nullable=True),
        sa.Column("relation", sa.String(length=16), nullable=False),
        sa.Column("id_number", sa.Text(), nullable=True),
        sa.Column("id_number_index", sa.String(length=64), nullable=True),
        sa.Column("phone", sa.Text(), nullable=True),
        sa.Column("moved_in", sa.Date(), nullable=True),
        sa.Column("created_at", urbanbrain.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", urbanbrain.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["registry_unit.id"], name=op.f("fk_registry_resident_unit_id_registry_unit")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registry_resident")),
    )
    with op.batch_alter_table("registry_resident", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_registry_resident_id_number_index"), ["id_number_index"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_registry_resident_unit_id"), ["unit_id"], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE INDEX ix_registry_area_geom ON registry_area USING gist (geom)")
        op.execute("CREATE INDEX ix_registry_building_footprint ON registry_building USING gist (footprint)")


def downgrade() -> None:
    with op.batch_alter_table("registry_resident", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_registry_resident_unit_id"))
        batch_op.drop_index(batch_op.f("ix_registry_resident_id_number_index"))

    op.drop_table("registry_resident")

    with op.batch_alter_table("registry_licence", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_registry_licence_venue_id"))
        batch_op.drop_index(batch_op.f("ix_registry_licence_expires_on"))

    op.drop_table("registry_licence")

    with op.batch_alter_table("registry_venue", schema=None) as batch_op:
        batch_op.drop_index("ix_registry_venue_street")
        batch_op.drop_index("ix_registry_venue_lonlat")
        batch_op.drop_index(batch_op.f("ix_registry_venue_kind"))
        batch_op.drop_index("ix_registry_venue_community")
        batch_op.drop_index(batch_op.f("ix_registry_venue_building_id"))

    op.drop_table("registry_venue")

    with op.batch_alter_table("registry_unit", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_registry_unit_building_id"))

    op.drop_table("registry_unit")

    with op.batch_alter_table("registry_facility", schema=None) as batch_op:
        batch_op.drop_index("ix_registry_facility_street")
        batch_op.drop_index(batch_op.f("ix_registry_facility_owner_department_id"))
        batch_op.drop_index("ix_registry_facility_lonlat")
        batch_op.drop_index(batch_op.f("ix_registry_facility_kind"))
        batch_op.drop_index("ix_registry_facility_community")

    op.drop_table("registry_facility")

    with op.batch_alter_table("registry_building", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_registry_building_village_code"))
        batch_op.drop_index("ix_registry_building_street")
        batch_op.drop_index("ix_registry_building_lonlat")
        batch_op.drop_index("ix_registry_building_community")

    op.drop_table("registry_building")

    with op.batch_alter_table("registry_area", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_registry_area_parent_code"))
        batch_op.drop_index(batch_op.f("ix_registry_area_level"))

    op.drop_table("registry_area")
