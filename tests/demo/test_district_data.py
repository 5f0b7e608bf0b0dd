"""The generated demo registry (pure, no database): the seed's Shuiwei figures, positions inside the district,
unique codes, valid ID numbers, references that resolve, and determinism."""

from __future__ import annotations

import re
from collections import Counter
from datetime import date
from typing import Any

import numpy as np
import pytest
import shapely

from urbanbrain.demo.departments import FUNCTIONAL_CODES, demo_departments
from urbanbrain.demo.district import SHUIWEI_VILLAGE, DemoDistrict, generate
from urbanbrain.demo.futian import build_futian_areas
from urbanbrain.demo.names import id_check_digit, id_number_valid
from urbanbrain.domains.registry import models

FUNCTIONAL = {
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
    "transport",
    "planning",
    "education",
    "human_resources",
    "smart_city_office",
}
NEVER = {"id", "created_at", "updated_at", "version", "street_code", "community_code", "grid_code"}


@pytest.fixture(scope="module")
def areas() -> tuple[Any, ...]:
    return tuple(build_futian_areas())


@pytest.fixture(scope="module")
def departments(areas: tuple[Any, ...]) -> list[dict[str, Any]]:
    return demo_departments(areas)


@pytest.fixture(scope="module")
def full(areas: tuple[Any, ...], departments: list[dict[str, Any]]) -> DemoDistrict:
    return generate(areas, departments)


@pytest.fixture(scope="module")
def small(areas: tuple[Any, ...], departments: list[dict[str, Any]]) -> DemoDistrict:
    return generate(areas, departments, scale=0.1)


def _geom(areas: tuple[Any, ...], level: str) -> Any:
    g = next(a.geometry for a in areas if a.level == level)
    shapely.prepare(g)
    return g


def _inside(geom: Any, rows: list[dict[str, Any]]) -> np.ndarray:
    return shapely.contains_xy(geom, np.array([r["lon"] for r in rows]), np.array([r["lat"] for r in rows]))


def _shuiwei(d: DemoDistrict) -> tuple[set[str], set[str]]:
    buildings = {b["code"] for b in d.buildings if b["village_code"] == SHUIWEI_VILLAGE}
    units = {u["code"] for u in d.units if u["building_code"] in buildings}
    return buildings, units


def test_departments(areas: tuple[Any, ...], departments: list[dict[str, Any]]) -> None:
    assert set(FUNCTIONAL_CODES) == FUNCTIONAL
    kinds = Counter(d["kind"] for d in departments)
    communities = [a for a in areas if a.level == "community"]
    assert kinds == {
        "functional": len(FUNCTIONAL),
        "street_office": 11,
        "community_station": len(communities),
    }
    assert len(communities) >= 93  # the official list has 93 (the seed speaks of 95 communities)
    for d in departments:
        assert set(d) == {"code", "name", "name_en", "kind", "area_code", "phone"}
        assert re.fullmatch(r"0755-8\d{7}", d["phone"])
        if d["kind"] == "functional":
            assert d["area_code"] == "440304"
    by_code = {d["code"]: d for d in departments}
    assert len(by_code) == len(departments)
    assert by_code["street-440304004"]["name"] == "福田街道办事处"
    assert by_code["station-440304004028"]["name"] == "水围社区工作站"
    assert by_code["station-440304004028"]["area_code"] == "440304004028"
    assert by_code["smart_city_office"]["name"] == "福田区智慧城市指挥中心"


@pytest.mark.parametrize("which", ["full", "small"])
def test_shuiwei_matches_the_seed_at_any_scale(which: str, request: pytest.FixtureRequest) -> None:
    d: DemoDistrict = request.getfixturevalue(which)
    buildings, units = _shuiwei(d)
    assert len(buildings) == 318
    assert sum(v["building_code"] in buildings for v in d.venues) == 660
    assert sum(r["unit_code"] in units for r in d.residents) > 30_000
    sw = [b for b in d.buildings if b["code"] in buildings]
    assert all(6 <= b["floors"] <= 9 and 1985 <= b["built_year"] <= 2005 for b in sw)
    assert all(re.fullmatch(r"福田区福田街道水围村\d+坊\d+号", b["address"]) for b in sw)
    assert len({b["address"] for b in sw}) == 318


def test_shuiwei_is_identical_across_scales(full: DemoDistrict, small: DemoDistrict) -> None:
    def pick(d: DemoDistrict) -> list[Any]:
        return [dict(b, footprint=b["footprint"].wkb) for b in d.buildings if b["village_code"]]

    assert pick(full) == pick(small)


def test_positions_inside_district_and_village(areas: tuple[Any, ...], full: DemoDistrict) -> None:
    district, village = _geom(areas, "district"), _geom(areas, "village")
    for rows in (full.buildings, full.venues, full.facilities):
        assert _inside(district, rows).all()
    sw = [b for b in full.buildings if b["village_code"]]
    others = [b for b in full.buildings if not b["village_code"]]
    assert _inside(village, sw).all()
    assert all(village.contains(b["footprint"]) for b in sw)
    assert not _inside(village, others).any()
    assert not any(village.intersects(b["footprint"]) for b in others)
    assert _inside(village, [v for v in full.venues if v["building_code"].startswith(SHUIWEI_VILLAGE)]).all()


def test_footprints_are_small_valid_rectangles(full: DemoDistrict) -> None:
    feet = np.array([b["footprint"] for b in full.buildings])
    assert shapely.is_valid(feet).all()
    # Side lengths 8-40 m give 64-1600 m² (1 m² ~ 8.6e-11 deg² at 22.5° N).
    area_m2 = shapely.area(feet) * 111_320**2 * np.cos(np.radians(22.54))
    assert area_m2.min() > 60 and area_m2.max() < 1700
    assert shapely.contains_xy(feet, *np.array([(b["lon"], b["lat"]) for b in full.buildings]).T).all()


def test_codes_unique_and_references_resolve(full: DemoDistrict) -> None:
    for rows, key in (
        (full.buildings, "code"),
        (full.units, "code"),
        (full.venues, "code"),
        (full.licences, "number"),
        (full.facilities, "code"),
    ):
        values = [r[key] for r in rows]
        assert len(values) == len(set(values))
    buildings = {b["code"] for b in full.buildings}
    units = {u["code"]: u for u in full.units}
    venues = {v["code"] for v in full.venues}
    assert all(u["building_code"] in buildings for u in full.units)
    assert all(units[r["unit_code"]]["kind"] == "household" for r in full.residents)
    assert all(
        v["building_code"] in buildings and v["code"].startswith(v["building_code"] + "-S")
        for v in full.venues
    )
    assert all(lic["venue_code"] in venues for lic in full.licences)
    assert {lic["venue_code"] for lic in full.licences if lic["kind"] == "business"} == venues
    food = {v["code"] for v in full.venues if v["category"] in {"便利店", "餐饮", "水果", "超市", "茶行"}}
    assert food == {lic["venue_code"] for lic in full.licences if lic["kind"] == "food"}
    hotels = {v["code"] for v in full.venues if v["kind"] == "small_hotel"}
    assert hotels <= {lic["venue_code"] for lic in full.licences if lic["kind"] == "special_trade"}
    statuses = Counter(lic["status"] for lic in full.licences)
    assert statuses["valid"] > statuses["expired"] > 0
    assert all(lic["expires_on"] is None or lic["expires_on"] > lic["issued_on"] for lic in full.licences)


def test_keys_match_model_columns(full: DemoDistrict) -> None:
    refs = {
        "buildings": (models.Building, set()),
        "units": (models.Unit, {"building_code"}),
        "residents": (models.Resident, {"unit_code"}),
        "venues": (models.Venue, {"building_code"}),
        "licences": (models.Licence, {"venue_code"}),
        "facilities": (models.Facility, {"owner_department_code"}),
    }
    for name, (model, extra) in refs.items():
        columns = set(model.__table__.columns.keys())
        keys = set(getattr(full, name)[0])
        assert not keys & NEVER, name
        assert keys <= columns | extra, (name, keys - columns - extra)
        assert keys == set.union(*(set(r) for r in getattr(full, name))), name


def test_id_numbers_valid_and_consistent(full: DemoDistrict) -> None:
    assert id_check_digit("11010519491231002") == "X"  # the GB 11643 worked example
    numbers = [r["id_number"] for r in full.residents]
    assert len(numbers) == len(set(numbers))
    for r in full.residents:
        n = r["id_number"]
        assert id_number_valid(n), n
        assert int(n[6:10]) == r["birth_year"]
        assert date(int(n[6:10]), int(n[10:12]), int(n[12:14])) <= r["moved_in"] < date(2018, 7, 9)
        assert (int(n[16]) % 2 == 1) == (r["gender"] == "M")
        assert r["phone"] is None or re.fullmatch(r"1\d{10}", r["phone"])
    assert Counter(r["relation"] for r in full.residents).keys() == {"head", "member", "tenant"}


def test_facilities(full: DemoDistrict) -> None:
    assert len(full.facilities) >= 20_000
    kinds = Counter(f["kind"] for f in full.facilities)
    assert set(kinds) == {
        "street_light",
        "manhole_cover",
        "rubbish_bin",
        "newsstand",
        "fire_hydrant",
        "guard_rail",
        "bus_shelter",
        "traffic_signal",
        "bench",
        "public_toilet",
        "camera_pole",
    }
    assert kinds.most_common(1)[0][0] == "street_light"
    for f in full.facilities:
        assert re.fullmatch(r"FT-[A-Z]{2}-\d{6}", f["code"]) and f["code"] in f["name"]
        assert f["owner_department_code"] in FUNCTIONAL
        assert f["status"] in {"in_service", "damaged", "removed"}
        assert date(2000, 1, 1) <= f["installed_on"] <= date(2018, 12, 31)
    owners = {(f["kind"], f["owner_department_code"]) for f in full.facilities}
    assert ("street_light", "roads_facilities") in owners and ("camera_pole", "police") in owners
    assert Counter(f["status"] for f in full.facilities)["in_service"] > 0.9 * len(full.facilities)


def test_scale_shrinks_the_rest(full: DemoDistrict, small: DemoDistrict) -> None:
    assert 3_500 <= len(full.buildings) - 318 <= 4_500
    assert 10_000 <= len(full.units) <= 40_000
    assert len(small.facilities) < len(full.facilities) / 5
    assert len(small.buildings) - 318 < (len(full.buildings) - 318) / 5


def test_deterministic(
    areas: tuple[Any, ...], departments: list[dict[str, Any]], small: DemoDistrict
) -> None:
    again = generate(areas, departments, scale=0.1)
    for name in ("units", "residents", "venues", "licences", "facilities"):
        assert getattr(again, name) == getattr(small, name), name
    assert [dict(b, footprint=b["footprint"].wkb) for b in again.buildings] == [
        dict(b, footprint=b["footprint"].wkb) for b in small.buildings
    ]
    other = generate(areas, departments, scale=0.1, seed=1)
    assert [r["id_number"] for r in other.residents[:50]] != [r["id_number"] for r in small.residents[:50]]


def test_missing_department_is_reported(areas: tuple[Any, ...], departments: list[dict[str, Any]]) -> None:
    with pytest.raises(ValueError, match="roads_facilities"):
        generate(areas, [d for d in departments if d["code"] != "roads_facilities"], scale=0.01)
