"""`urbanbrain seed futian` at full scale, on both backends: the seed's figures and codes."""

import csv
import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import func, select

from urbanbrain.core.audit import verify_chain
from urbanbrain.core.models import Department
from urbanbrain.domains.registry.models import Area, Building, Facility, Resident, Unit, Venue

DIVISIONS = Path(__file__).resolve().parents[3] / "urbanbrain/demo/futian_data/divisions.csv"


def test_seed_command_loads_futian_at_full_scale(templates, backend, tmp_path):
    from tests.conftest import TEST_PII_KEY, build_platform

    url = templates.fresh(backend, "migrated")
    env = dict(
        os.environ,
        URBANBRAIN_DATABASE_URL=url,
        URBANBRAIN_DATA_DIR=str(tmp_path),
        URBANBRAIN_PII_KEY=TEST_PII_KEY,
    )
    r = subprocess.run(
        [sys.executable, "-m", "urbanbrain.cli", "seed", "futian"],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    again = subprocess.run(
        [sys.executable, "-m", "urbanbrain.cli", "seed", "futian"],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert again.returncode == 0 and "already loaded" in again.stdout

    platform = build_platform(url, tmp_path / "check")
    try:
        with platform.db.session() as s:
            levels = dict(s.execute(select(Area.level, func.count()).group_by(Area.level)).all())
            codes = set(s.scalars(select(Area.code)))
            village = "440304004028-V01"
            shuiwei_buildings = s.scalar(select(func.count()).where(Building.village_code == village))
            shuiwei_venues = s.scalar(
                select(func.count())
                .select_from(Venue)
                .join(Building, Building.id == Venue.building_id)
                .where(Building.village_code == village)
            )
            three_small = s.scalar(
                select(func.count())
                .select_from(Venue)
                .join(Building, Building.id == Venue.building_id)
                .where(Building.village_code == village, Venue.kind != "merchant")
            )
            shuiwei_residents = s.scalar(
                select(func.count())
                .select_from(Resident)
                .join(Unit, Unit.id == Resident.unit_id)
                .join(Building, Building.id == Unit.building_id)
                .where(Building.village_code == village)
            )
            facilities = s.scalar(select(func.count(Facility.id)))
            facility_kinds = set(s.scalars(select(Facility.kind).distinct()))
            unlocated = s.scalar(select(func.count()).where(Facility.grid_code.is_(None)))
            dept_codes = set(s.scalars(select(Department.code)))
            sample = s.scalars(select(Facility.code).order_by(Facility.code).limit(3)).all()
            area_km2 = s.scalar(select(Area.area_km2).where(Area.code == village))
            _, problems = verify_chain(s)
    finally:
        platform.close()

    with DIVISIONS.open(encoding="utf-8") as fh:
        official = {row["code"] for row in csv.DictReader(fh)} - {"440300"}
    assert official <= codes  # every official district, street and community code
    assert levels["district"] == 1 and levels["street"] == 11 and levels["community"] == 93
    assert 300 <= levels["grid_cell"] <= 600
    assert shuiwei_buildings == 318 and shuiwei_venues == 660 and three_small > 300
    assert shuiwei_residents > 30_000
    assert abs(area_km2 - 0.66) < 0.02
    assert facilities >= 20_000 and unlocated == 0
    assert {
        "street_light",
        "manhole_cover",
        "rubbish_bin",
        "newsstand",
        "fire_hydrant",
        "guard_rail",
        "bus_shelter",
    } <= facility_kinds
    assert all(c.startswith("FT-") and len(c) == 12 for c in sample)
    for code in (
        "police",
        "fire",
        "traffic",
        "urban_management",
        "roads_facilities",
        "environment",
        "housing_construction",
        "water",
        "market_supervision",
        "health",
        "civil_affairs",
        "emergency",
        "culture_tourism",
        "justice",
        "street-440304004",
        "station-440304004028",
    ):
        assert code in dept_codes
    assert problems == []
