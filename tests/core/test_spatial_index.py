"""AreaIndex must agree exactly with a brute-force ``covers`` test (real Futian grid cells, no mocks)."""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
import pytest
import shapely
from shapely.geometry import Polygon, box

from urbanbrain.core.spatial_index import AreaIndex
from urbanbrain.demo.futian import build_futian_areas


@lru_cache(maxsize=1)
def _cells() -> tuple[list[int], list[shapely.Geometry]]:
    cells = [a for a in build_futian_areas() if a.level == "grid_cell"]
    # Non-contiguous ids, to check that ids (not positions) are returned.
    return [10_000 + 7 * i for i in range(len(cells))], [a.geometry for a in cells]


@lru_cache(maxsize=1)
def _index() -> AreaIndex:
    ids, geoms = _cells()
    return AreaIndex(ids, geoms)


def _covering(xs: np.ndarray, ys: np.ndarray) -> list[set[int]]:
    """Brute force: the ids of every polygon that covers each point."""
    ids, geoms = _cells()
    hits: list[set[int]] = [set() for _ in range(len(xs))]
    for pid, g in zip(ids, geoms, strict=True):
        for k in np.flatnonzero(shapely.intersects_xy(g, xs, ys)):
            hits[k].add(pid)
    return hits


def _check(index: AreaIndex, xs: np.ndarray, ys: np.ndarray, expected: list[set[int]]) -> None:
    many = index.lookup_many(xs, ys)
    assert many.dtype == np.int64 and many.shape == xs.shape
    for k, (x, y) in enumerate(zip(xs.tolist(), ys.tolist(), strict=True)):
        single = index.lookup(x, y)
        if expected[k]:
            assert single in expected[k], (x, y)
            assert int(many[k]) in expected[k], (x, y)
        else:
            assert single is None, (x, y)
            assert many[k] == -1, (x, y)


def test_random_points_match_brute_force() -> None:
    ids, geoms = _cells()
    minx, miny, maxx, maxy = shapely.total_bounds(geoms)
    rng = np.random.default_rng(42)
    n = 30_000
    xs = rng.uniform(minx - 0.005, maxx + 0.005, n)
    ys = rng.uniform(miny - 0.005, maxy + 0.005, n)
    expected = _covering(xs, ys)
    assert sum(1 for e in expected if e) > n // 3  # the sample really exercises the inside
    _check(_index(), xs, ys, expected)


def test_points_near_and_on_edges() -> None:
    """Vertices, points on edges, and points a hair (1e-9°, ~0.1 mm) off them: the exact fallback path."""
    _, geoms = _cells()
    rng = np.random.default_rng(7)
    coords = shapely.get_coordinates(shapely.get_rings(shapely.get_parts(np.asarray(geoms, dtype=object))))
    i = rng.choice(len(coords) - 1, size=1500, replace=False)
    pick, nxt = coords[i], coords[i + 1]  # consecutive vertices: mostly an edge of one ring
    t = rng.uniform(0, 1, (1500, 1))
    along = pick + (nxt - pick) * t  # mostly on (or within rounding of) an edge
    pts = [pick, along]
    for dx, dy in ((1e-9, 0), (-1e-9, 0), (0, 1e-9), (0, -1e-9), (3e-7, -2e-7)):
        pts.append(pick + (dx, dy))
        pts.append(along + (dx, dy))
    allp = np.vstack(pts)
    xs, ys = allp[:, 0].copy(), allp[:, 1].copy()
    _check(_index(), xs, ys, _covering(xs, ys))


def test_interior_shared_vertices_are_never_lost() -> None:
    """A vertex shared by cells inside the district is covered by them, so it must get one of them."""
    _, geoms = _cells()
    index = _index()
    inner = build_futian_areas()[0].geometry.buffer(-1e-5)
    coords = shapely.get_coordinates(np.asarray(geoms[:40], dtype=object))
    keep = shapely.contains_xy(inner, coords[:, 0], coords[:, 1])
    assert keep.sum() > 50
    for x, y in coords[keep].tolist():
        assert index.lookup(x, y) is not None
    assert (index.lookup_many(coords[keep, 0], coords[keep, 1]) >= 0).all()


def test_nan_inf_and_outside() -> None:
    index = _index()
    for x, y in ((math.nan, 22.54), (114.05, math.nan), (math.inf, 22.54), (114.05, -math.inf), (0.0, 0.0)):
        assert index.lookup(x, y) is None
    xs = np.array([math.nan, 114.05, math.inf, -math.inf, 0.0, 200.0, 113.9])
    ys = np.array([22.54, math.nan, 22.54, 22.54, 0.0, 22.54, 22.54])
    assert index.lookup_many(xs, ys).tolist() == [-1] * len(xs)
    assert index.lookup_many(np.array([]), np.array([])).shape == (0,)
    # Shuiwei village is well inside the district.
    hit = index.lookup(114.067, 22.525)
    assert hit is not None and index.lookup_many(np.array([114.067]), np.array([22.525]))[0] == hit


def test_holes_and_multipolygons() -> None:
    """Rings of holes count as boundaries; a polygon inside a hole wins there; multipolygon parts work."""
    outer = Polygon(box(0, 0, 10, 10).exterior.coords, [box(3, 3, 7, 7).exterior.coords])
    inner = box(4, 4, 6, 6)  # sits inside the hole, leaving a ring-shaped gap
    multi = shapely.MultiPolygon([box(20, 0, 22, 2), box(25, 5, 27, 7)])
    index = AreaIndex([1, 2, 3], [outer, inner, multi])
    cases = {(1, 1): 1, (5, 5): 2, (3.5, 3.5): None, (6.5, 5): None, (21, 1): 3, (26, 6): 3, (23, 3): None}
    for (x, y), want in cases.items():
        assert index.lookup(x, y) == want
    xs = np.array([p[0] for p in cases], dtype=float)
    ys = np.array([p[1] for p in cases], dtype=float)
    assert index.lookup_many(xs, ys).tolist() == [-1 if v is None else v for v in cases.values()]
    rng = np.random.default_rng(3)
    rx, ry = rng.uniform(-1, 28, 20_000), rng.uniform(-1, 11, 20_000)
    brute = np.full(rx.shape, -1)
    for pid, g in ((1, outer), (2, inner), (3, multi)):
        brute[shapely.intersects_xy(g, rx, ry)] = pid
    assert np.array_equal(index.lookup_many(rx, ry), brute)
    assert [index.lookup(x, y) or -1 for x, y in zip(rx.tolist(), ry.tolist(), strict=True)] == brute.tolist()


def test_empty_index_and_bad_input() -> None:
    empty = AreaIndex([], [])
    assert empty.lookup(1.0, 2.0) is None
    assert empty.lookup_many(np.array([1.0]), np.array([2.0])).tolist() == [-1]
    with pytest.raises(ValueError):
        AreaIndex([1, 2], [box(0, 0, 1, 1)])
    with pytest.raises(ValueError):
        _index().lookup_many(np.array([1.0, 2.0]), np.array([1.0]))


def test_index_is_compact() -> None:
    index = _index()
    assert len(index) == len(_cells()[0])
    assert index.nbytes < 50_000_000
    assert index.boundary_fraction < 0.15
