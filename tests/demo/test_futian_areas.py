"""The derived Futian demo areas: counts, codes, strict nesting, tiling, validity and determinism.

These run against the real reference data shipped in ``futian_data`` (no database, no mocks).
"""

from __future__ import annotations

import csv
from collections import defaultdict
from importlib import resources

import shapely
from shapely.geometry import Point

from urbanbrain.core.geodesy import LocalProjection, area_km2, haversine_m
from urbanbrain.demo.futian import AreaSpec, build_futian_areas

SHUIWEI = Point(114.067, 22.525)
# Relative area tolerance for "tiles its parent" (GEOS overlay noise is ~1e-12 here).
TILING_TOL = 1e-9


def _csv_rows() -> list[dict[str, str]]:
    text = resources.files("urbanbrain.demo.futian_data").joinpath("divisions.csv").read_text("utf-8")
    return list(csv.DictReader(text.splitlines()))


def _by_level(areas: tuple[AreaSpec, ...], level: str) -> list[AreaSpec]:
    return [a for a in areas if a.level == level]


def test_counts_and_codes_match_divisions_csv() -> None:
    areas = build_futian_areas()
    rows = _csv_rows()
    assert [a.code for a in _by_level(areas, "district")] == ["440304"]
    streets = _by_level(areas, "street")
    assert [s.code for s in streets] == [r["code"] for r in rows if r["level"] == "street"]
    assert len(streets) == 11 and "440304400" in {s.code for s in streets}
    communities = _by_level(areas, "community")
    csv_communities = {r["code"]: r for r in rows if r["level"] == "community"}
    # The shipped CSV lists 93 community rows (the data README says 94): follow the data.
    assert len(csv_communities) == 93
    assert {c.code for c in communities} == set(csv_communities)
    for c in communities:
        assert c.parent_code == csv_communities[c.code]["parent_code"]
        assert c.name == csv_communities[c.code]["name"].removesuffix("居委会")
        assert c.name_en
    cells = _by_level(areas, "grid_cell")
    assert 300 <= len(cells) <= 600
    assert len({a.code for a in areas}) == len(areas)
    (village,) = _by_level(areas, "village")
    assert village.code == "440304004028-V01"
    assert village.parent_code == "440304004028"
    assert village.properties == {"residents": 30000, "buildings": 318, "venues": 660}


def test_parents_come_before_children_and_flags() -> None:
    areas = build_futian_areas()
    seen: set[str] = set()
    for a in areas:
        if a.level != "district":
            assert a.parent_code in seen, a.code
        seen.add(a.code)
        assert a.approximate == (a.level != "district")
    district = areas[0]
    assert "GCJ-02" in district.properties["crs_note"]


def test_grid_cell_codes_and_names() -> None:
    areas = build_futian_areas()
    by_code = {a.code: a for a in areas}
    per_parent: dict[str, list[AreaSpec]] = defaultdict(list)
    for cell in _by_level(areas, "grid_cell"):
        per_parent[cell.parent_code or ""].append(cell)
    for parent, cells in per_parent.items():
        community = by_code[parent]
        assert community.level == "community"
        for i, cell in enumerate(cells, start=1):
            assert cell.code == f"{parent}-G{i:03d}"
            assert cell.name == f"{community.name}第{i}网格"
    assert by_code["440304004028-G001"].name == "水围社区第1网格"
    assert by_code["440304004028-G001"].name_en == "Shuiwei grid 1"
    assert set(per_parent) == {c.code for c in _by_level(areas, "community")}


def test_geometries_are_valid_non_empty_polygons() -> None:
    for a in build_futian_areas():
        g = a.geometry
        assert g.geom_type in ("Polygon", "MultiPolygon"), a.code
        assert g.is_valid and not g.is_empty and g.area > 0, a.code


def test_strict_nesting_and_tiling() -> None:
    """Children lie inside their parent, do not overlap, and their union is the parent."""
    areas = build_futian_areas()
    by_code = {a.code: a for a in areas}
    children: dict[str, list[AreaSpec]] = defaultdict(list)
    for a in areas:
        if a.level in ("street", "community", "grid_cell"):
            children[a.parent_code or ""].append(a)
    expected_parent_level = {"district": "street", "street": "community", "community": "grid_cell"}
    assert set(children) == {a.code for a in areas if a.level in expected_parent_level}
    for parent_code, kids in children.items():
        parent = by_code[parent_code]
        assert {k.level for k in kids} == {expected_parent_level[parent.level]}
        pg = parent.geometry
        geoms = [k.geometry for k in kids]
        union = shapely.union_all(geoms)
        assert shapely.symmetric_difference(union, pg).area <= TILING_TOL * pg.area, parent_code
        overlap = sum(g.area for g in geoms) - union.area
        assert abs(overlap) <= TILING_TOL * pg.area, parent_code
        for k in kids:
            assert shapely.difference(k.geometry, pg).area <= TILING_TOL * k.geometry.area, k.code


def test_shuiwei_community_and_village() -> None:
    by_code = {a.code: a for a in build_futian_areas()}
    community = by_code["440304004028"]
    village = by_code["440304004028-V01"]
    assert community.name == "水围社区"
    assert community.parent_code == "440304004"
    # "Well inside": more than 100 m from the community's edge.
    assert community.geometry.contains(SHUIWEI)
    assert community.geometry.boundary.distance(SHUIWEI) * 100_000 > 100
    assert village.geometry.contains(SHUIWEI)
    assert community.geometry.contains(village.geometry)
    assert abs(area_km2(village.geometry) - 0.66) <= 0.02 * 0.66
    c = village.geometry.centroid
    assert haversine_m(c.x, c.y, SHUIWEI.x, SHUIWEI.y) < 300
    # Exactly one grid cell of 水围社区 holds the point.
    holders = [a for a in by_code.values() if a.level == "grid_cell" and a.geometry.covers(SHUIWEI)]
    assert len(holders) == 1 and holders[0].parent_code == "440304004028"


def test_district_area_and_area_function() -> None:
    district = build_futian_areas()[0]
    assert abs(area_km2(district.geometry) - 79.9) <= 0.03 * 79.9
    # area_km2 (ellipsoidal equal-area) agrees with an independent local equirectangular estimate.
    proj = LocalProjection(114.05, 22.54)
    planar = proj.geom_to_metres(district.geometry).area / 1e6
    assert abs(area_km2(district.geometry) - planar) <= 0.01 * planar
    total_streets = sum(area_km2(a.geometry) for a in build_futian_areas() if a.level == "street")
    assert abs(total_streets - area_km2(district.geometry)) < 1e-6


def test_grid_cells_have_no_slivers() -> None:
    full = 0.36  # km², a 600 m square; slivers under 25 % of it are merged away (small margin for rounding)
    for a in build_futian_areas():
        if a.level == "grid_cell":
            assert area_km2(a.geometry) >= 0.24 * full, a.code


def test_deterministic() -> None:
    first = build_futian_areas.__wrapped__()
    second = build_futian_areas.__wrapped__()
    assert len(first) == len(second)
    for a, b in zip(first, second, strict=True):
        assert (a.code, a.name, a.name_en, a.level, a.parent_code, a.approximate, a.properties) == (
            b.code,
            b.name,
            b.name_en,
            b.level,
            b.parent_code,
            b.approximate,
            b.properties,
        )
        assert shapely.to_wkb(a.geometry) == shapely.to_wkb(b.geometry), a.code
    assert build_futian_areas() is build_futian_areas()
