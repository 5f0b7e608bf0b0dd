"""Shared helpers for the point-in-area benchmarks, and a small benchmark of its own.

Why: the platform tags every located event with its leaf grid cell, so the lookup's throughput bounds
ingestion.  These helpers time a lookup function the way callers use it (one point at a time from a
Python loop, or a numpy batch) and provide the baselines it must beat (a bare STRtree, a naive loop).

Run ``python benchmarks/geo_bench_core.py`` to print the table for the Futian grid cells.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray
from shapely.geometry import Point

SingleFn = Callable[[float, float], Any]
BatchFn = Callable[[NDArray[np.float64], NDArray[np.float64]], Any]


def random_points_in(geom: Any, n: int, seed: int = 0) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """``n`` points uniformly distributed (in lon/lat) inside ``geom``, reproducible from ``seed``."""
    rng = np.random.default_rng(seed)
    minx, miny, maxx, maxy = shapely.bounds(geom)
    shapely.prepare(geom)
    xs: list[NDArray[np.float64]] = []
    ys: list[NDArray[np.float64]] = []
    have = 0
    while have < n:
        cx = rng.uniform(minx, maxx, max(1024, 2 * (n - have)))
        cy = rng.uniform(miny, maxy, cx.size)
        ok = shapely.contains_xy(geom, cx, cy)
        xs.append(cx[ok])
        ys.append(cy[ok])
        have += int(ok.sum())
    return np.concatenate(xs)[:n], np.concatenate(ys)[:n]


def time_single(fn: SingleFn, lons: NDArray[np.float64], lats: NDArray[np.float64], repeat: int = 3) -> float:
    """Lookups per second calling ``fn(lon, lat)`` once per point from a Python loop (best of ``repeat``)."""
    xl, yl = lons.tolist(), lats.tolist()
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        for x, y in zip(xl, yl, strict=True):
            fn(x, y)
        best = min(best, time.perf_counter() - t0)
    return len(xl) / best


def time_batched(fn: BatchFn, lons: NDArray[np.float64], lats: NDArray[np.float64], repeat: int = 5) -> float:
    """Points per second for one ``fn(lons, lats)`` call over the whole batch (best of ``repeat``)."""
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn(lons, lats)
        best = min(best, time.perf_counter() - t0)
    return len(lons) / best


def brute_force_lookup(polys: Sequence[Any], ids: Sequence[int] | None = None) -> SingleFn:
    """A naive ``(lon, lat) -> id | None`` that tries every polygon's ``contains`` in turn (the floor)."""
    pairs = list(zip(range(len(polys)) if ids is None else ids, polys, strict=True))

    def lookup(lon: float, lat: float) -> int | None:
        p = Point(lon, lat)
        for pid, poly in pairs:
            if poly.contains(p):
                return int(pid)
        return None

    return lookup


def strtree_lookups(polys: Sequence[Any], ids: Sequence[int] | None = None) -> tuple[SingleFn, BatchFn]:
    """Single and batched lookups on a bare ``shapely.STRtree`` with an exact predicate (the baseline)."""
    tree = shapely.STRtree(list(polys))
    id_arr = np.arange(len(polys), dtype=np.int64) if ids is None else np.asarray(ids, dtype=np.int64)

    def single(lon: float, lat: float) -> int | None:
        hit = tree.query(Point(lon, lat), predicate="intersects")
        return int(id_arr[hit[0]]) if len(hit) else None

    def batched(lons: NDArray[np.float64], lats: NDArray[np.float64]) -> NDArray[np.int64]:
        q_pt, q_geom = tree.query(shapely.points(lons, lats), predicate="intersects")
        out = np.full(len(lons), -1, dtype=np.int64)
        out[q_pt] = id_arr[q_geom]
        return out

    return single, batched


def main() -> None:
    from urbanbrain.core.spatial_index import AreaIndex
    from urbanbrain.demo.futian import build_futian_areas

    areas = build_futian_areas()
    cells = [a for a in areas if a.level == "grid_cell"]
    polys = [a.geometry for a in cells]
    ids = list(range(1, len(cells) + 1))
    t0 = time.perf_counter()
    index = AreaIndex(ids, polys)
    build_s = time.perf_counter() - t0
    lons, lats = random_points_in(areas[0].geometry, 200_000, seed=1)
    single_tree, batched_tree = strtree_lookups(polys, ids)
    brute = brute_force_lookup(polys, ids)

    assert np.array_equal(index.lookup_many(lons, lats), batched_tree(lons, lats))
    n_single = 100_000
    rows = [
        ("AreaIndex single", time_single(index.lookup, lons[:n_single], lats[:n_single])),
        ("AreaIndex batched", time_batched(index.lookup_many, lons, lats)),
        ("STRtree single", time_single(single_tree, lons[:n_single], lats[:n_single])),
        ("STRtree batched", time_batched(batched_tree, lons, lats)),
        ("brute-force loop", time_single(brute, lons[:2_000], lats[:2_000], repeat=1)),
    ]
    ref = {"single": rows[2][1], "batched": rows[3][1]}
    print(
        f"{len(polys)} grid cells, raster {index.raster_shape[0]}x{index.raster_shape[1]}, "
        f"boundary cells {index.boundary_fraction:.1%}, {index.nbytes / 1e6:.1f} MB, build {build_s:.2f} s"
    )
    print(f"{'method':<20}{'lookups/s':>14}{'vs STRtree':>12}")
    for name, rate in rows:
        base = ref["batched"] if "batched" in name else ref["single"]
        print(f"{name:<20}{rate:>14,.0f}{rate / base:>11.2f}x")


if __name__ == "__main__":
    main()
