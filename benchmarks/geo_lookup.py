"""Point -> (street, community, grid cell) lookups/s with the in-process index built from the database.

What it measures, per backend (SQLite and PostgreSQL + PostGIS, or the one ``--database-url`` names):

* the time to build :class:`~urbanbrain.domains.registry.spatial.AreaLookup` from the ``registry_area`` rows;
* ``AreaLookup.locate(lon, lat)``, one point at a time from a Python loop, returning all three codes
  (target: >= 200,000 lookups/s);
* ``AreaLookup.locate_many(lons, lats)`` over a numpy batch (target: >= 1,000,000 points/s), and the raw
  ``AreaIndex.lookup_many`` under it (which returns an int array instead of one ``Located`` per point);
* the raw ``AreaIndex.lookup`` / ``lookup_many`` on the same cells;
* the baselines, measured in the same run on the same points: a bare ``shapely.STRtree`` with an exact
  predicate (single and batched), a brute-force loop of ``Polygon.contains`` over the (unprepared) grid-cell
  polygons, and, on PostgreSQL, one prepared ``ST_Contains`` query per point over one psycopg connection
  (GiST-indexed geometry column).

Why: every located record (sensor reading, phone ping, incident) is tagged with its street, community and
grid cell, so this lookup bounds ingestion throughput; doing it in process must beat both a database round
trip per point and the obvious STRtree, by a margin measured here rather than claimed.

Before anything is timed the results are checked: ``locate`` must agree with the brute-force loop on a
sample (and its street/community must be the grid cell's ancestors in the database), ``locate_many`` and
the STRtree must agree with ``index.lookup_many`` on every point, and PostGIS must agree with the index on
its sample.  Points exactly on a shared edge may legitimately differ; they are counted and reported.

Run from the repository root: ``python benchmarks/geo_lookup.py`` (by default it makes a temporary SQLite
file and a temporary PostgreSQL database, migrates and seeds each with the Futian demo district at scale
0.05, and removes them at the end).  Exit status 1 when a correctness check fails, 0 otherwise (a missed
throughput target is reported, not an error).
"""

from __future__ import annotations

import argparse
import contextlib
import secrets
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
import shapely
from sqlalchemy import func, select

sys.path.insert(0, str(Path(__file__).resolve().parent))

from geo_bench_core import (  # noqa: E402
    brute_force_lookup,
    random_points_in,
    strtree_lookups,
    time_batched,
    time_single,
)

from urbanbrain.core.db import Database  # noqa: E402
from urbanbrain.core.spatial_index import AreaIndex  # noqa: E402
from urbanbrain.domains.registry.models import Area  # noqa: E402
from urbanbrain.domains.registry.spatial import AreaLookup, Located  # noqa: E402

SINGLE_TARGET = 200_000
BATCH_TARGET = 1_000_000
SEED_SCALE = 0.05
DEFAULT_PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
POSTGIS_SQL = (
    "SELECT code FROM registry_area WHERE level = 'grid_cell' "
    "AND ST_Contains(geom, ST_SetSRID(ST_MakePoint(%s, %s), 4326))"
)


@dataclass
class Row:
    """One line of the result table."""

    method: str
    points: int
    rate: float
    kind: str  # "single" or "batched": which STRtree baseline it is compared with
    target: int | None = None


@dataclass
class BackendResult:
    """Everything measured on one backend."""

    backend: str
    build_s: float
    index_build_s: float
    info: str
    rows: list[Row] = field(default_factory=list)
    checks: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------------------------- databases


def _psycopg_url(url: str) -> str:
    """A libpq URL for psycopg from a SQLAlchemy one."""
    return "postgresql://" + url.split("://", 1)[1] if url.startswith("postgresql") else url


def _seed(url: str, data_dir: Path) -> None:
    """Migrate ``url`` and load the Futian demo district at :data:`SEED_SCALE`."""
    from urbanbrain.core.auth.principal import SYSTEM
    from urbanbrain.core.config import Settings
    from urbanbrain.core.context import Platform
    from urbanbrain.core.migrate import upgrade
    from urbanbrain.demo.seed import do_seed_futian

    upgrade(url)
    settings = Settings(
        database_url=url, data_dir=data_dir, pii_key=secrets.token_hex(32), secret_key=secrets.token_hex(32)
    )
    platform = Platform.build(settings)
    try:
        with platform.db.session() as session:
            do_seed_futian(session, platform, SYSTEM, scale=SEED_SCALE)
    finally:
        platform.close()


@contextlib.contextmanager
def temporary_databases(pg_admin_url: str) -> Iterator[list[tuple[str, str]]]:
    """(backend, url) for a seeded temporary SQLite file and PostgreSQL database; both removed afterwards."""
    made_pg: list[str] = []
    with tempfile.TemporaryDirectory(prefix="ub-geo-bench-") as tmp:
        root = Path(tmp)
        out: list[tuple[str, str]] = []
        try:
            t0 = time.perf_counter()
            sqlite_url = f"sqlite:///{root / 'bench.sqlite3'}"
            _seed(sqlite_url, root / "data_sqlite")
            out.append(("sqlite", sqlite_url))
            print(f"seeded temporary SQLite database in {time.perf_counter() - t0:.1f} s")
            name = f"ub_geo_bench_{uuid.uuid4().hex[:8]}"
            try:
                with psycopg.connect(_psycopg_url(pg_admin_url), autocommit=True) as conn:
                    conn.execute(f'CREATE DATABASE "{name}"')
            except psycopg.Error as exc:
                print(f"PostgreSQL unavailable at {pg_admin_url} ({type(exc).__name__}); SQLite only")
            else:
                made_pg.append(name)
                t0 = time.perf_counter()
                pg_url = pg_admin_url.rsplit("/", 1)[0] + "/" + name
                _seed(pg_url, root / "data_pg")
                out.append(("postgresql", pg_url))
                print(f"seeded temporary PostgreSQL database {name} in {time.perf_counter() - t0:.1f} s")
            yield out
        finally:
            for name in made_pg:
                with (
                    contextlib.suppress(psycopg.Error),
                    psycopg.connect(_psycopg_url(pg_admin_url), autocommit=True) as conn,
                ):
                    conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# ------------------------------------------------------------------------------------------ measurement


def _best_of(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    """Shortest wall time of ``repeat`` calls, and the last result."""
    best, result = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t0)
    return best, result


def _on_edge(lookup: AreaLookup, lon: float, lat: float) -> bool:
    """Whether the point lies on some grid cell's boundary (where any covering cell is a right answer)."""
    return any(shapely.intersects_xy(shapely.boundary(c[3]), lon, lat) for c in lookup.cells)


def _postgis_lookup(conn: psycopg.Connection[Any]) -> Callable[[float, float], str | None]:
    """One prepared ``ST_Contains`` round trip per point."""
    cur = conn.cursor()

    def lookup(lon: float, lat: float) -> str | None:
        cur.execute(POSTGIS_SQL, (lon, lat), prepare=True)
        row = cur.fetchone()
        return None if row is None else str(row[0])

    return lookup


def measure(backend: str, url: str, n_points: int, n_slow: int, seed: int) -> BackendResult:
    """Build the lookup from ``url``, verify it, and time every method on the same points."""
    db = Database(url)
    try:
        with db.session() as session:
            n_cells = session.scalar(select(func.count()).select_from(Area).where(Area.level == "grid_cell"))
            if not n_cells:
                raise SystemExit(f"{backend}: no grid cells in registry_area at {url}; seed it first")
            parents = {code: parent for code, parent in session.execute(select(Area.code, Area.parent_code))}
            build_s, lookup = _best_of(lambda: AreaLookup.from_session(session), 3)
    finally:
        db.dispose()
    assert isinstance(lookup, AreaLookup) and lookup.index is not None and lookup.district is not None
    index: AreaIndex = lookup.index
    polys = [c[3] for c in lookup.cells]
    index_build_s, _ = _best_of(lambda: AreaIndex(list(range(len(polys))), polys), 3)
    info = (
        f"{len(polys)} grid cells; raster {index.raster_shape[0]}x{index.raster_shape[1]}, "
        f"{index.boundary_fraction:.1%} boundary cells, {index.nbytes / 1e6:.1f} MB; "
        f"build from database {build_s:.2f} s (raster alone {index_build_s:.2f} s)"
    )
    res = BackendResult(backend, build_s, index_build_s, info)

    lons, lats = random_points_in(lookup.district, n_points, seed=seed)
    slon, slat = lons[:n_slow], lats[:n_slow]
    # The naive loop gets its own, unprepared copies (the index prepared the originals in place).
    naive_polys = list(shapely.from_wkb(shapely.to_wkb(np.asarray(polys, dtype=object))))
    brute_pos = brute_force_lookup(naive_polys)
    cells = lookup.cells

    def brute(lon: float, lat: float) -> Located:
        p = brute_pos(lon, lat)
        if p is None:
            return Located(None, None, None)
        grid, community, street, _ = cells[p]
        return Located(street, community, grid)

    tree_single, tree_batched = strtree_lookups(polys)

    # ---- correctness, before timing
    edge, bad = 0, 0
    hierarchy_bad = 0
    for x, y in zip(slon.tolist(), slat.tolist(), strict=True):
        got, want = lookup.locate(x, y), brute(x, y)
        if got != want:
            if _on_edge(lookup, x, y):
                edge += 1
            else:
                bad += 1
        if (
            got.grid_code is None
            or parents.get(got.grid_code) != got.community_code
            or (parents.get(got.community_code or "") != got.street_code)
        ):
            hierarchy_bad += 1
    res.checks.append(
        f"locate vs brute force: {n_slow - edge - bad}/{n_slow} agree, {edge} on an edge, "
        f"{bad} wrong; {hierarchy_bad} with a missing code or wrong ancestors"
    )
    if bad or hierarchy_bad:
        res.failures.append(f"locate disagrees with brute force or the hierarchy ({bad} + {hierarchy_bad})")

    raw = index.lookup_many(lons, lats)
    many = lookup.locate_many(lons, lats)
    many_ok = all(
        (m.grid_code == cells[r][0]) if r >= 0 else m.grid_code is None
        for m, r in zip(many, raw.tolist(), strict=True)
    )
    single_ok = all(
        index.lookup(x, y) == (r if r >= 0 else None)
        for x, y, r in zip(slon.tolist(), slat.tolist(), raw[:n_slow].tolist(), strict=True)
    )
    tree_diff = np.flatnonzero(tree_batched(lons, lats) != raw)
    tree_edge = sum(_on_edge(lookup, float(lons[i]), float(lats[i])) for i in tree_diff)
    res.checks.append(
        f"lookup_many vs STRtree on all {n_points:,} points: {n_points - len(tree_diff):,} agree, "
        f"{tree_edge} differ on an edge, {len(tree_diff) - tree_edge} wrong; "
        f"{int(np.count_nonzero(raw < 0))} points in no cell; locate_many == lookup_many: {many_ok}; "
        f"lookup == lookup_many: {single_ok}"
    )
    if len(tree_diff) != tree_edge or not many_ok or not single_ok:
        res.failures.append("batched/single index results disagree with each other or with the STRtree")

    postgis: Callable[[float, float], str | None] | None = None
    conn: psycopg.Connection[Any] | None = None
    if backend == "postgresql":
        conn = psycopg.connect(_psycopg_url(url), autocommit=True)
        postgis = _postgis_lookup(conn)
        agree = pg_edge = pg_bad = 0
        for x, y in zip(slon.tolist(), slat.tolist(), strict=True):
            want_code = lookup.locate(x, y).grid_code
            if postgis(x, y) == want_code:
                agree += 1
            elif _on_edge(lookup, x, y):
                pg_edge += 1
            else:
                pg_bad += 1
        res.checks.append(
            f"PostGIS ST_Contains vs index: {agree}/{n_slow} agree, {pg_edge} on an edge, {pg_bad} wrong"
        )
        if pg_bad:
            res.failures.append(f"PostGIS disagrees with the index on {pg_bad} points off the edges")

    # ---- timing (same points for everything; slow methods use the first n_slow of them)
    try:
        res.rows += [
            Row(
                "AreaLookup.locate (3 codes)",
                n_points,
                time_single(lookup.locate, lons, lats),
                "single",
                SINGLE_TARGET,
            ),
            Row(
                "AreaLookup.locate_many (Located objects)",
                n_points,
                time_batched(lookup.locate_many, lons, lats),
                "batched",
                BATCH_TARGET,
            ),
            Row(
                "AreaIndex.lookup (cell position)", n_points, time_single(index.lookup, lons, lats), "single"
            ),
            Row(
                "AreaIndex.lookup_many (int array)",
                n_points,
                time_batched(index.lookup_many, lons, lats),
                "batched",
                BATCH_TARGET,
            ),
            Row("bare STRtree single (baseline)", n_points, time_single(tree_single, lons, lats), "single"),
            Row(
                "bare STRtree batched (baseline)", n_points, time_batched(tree_batched, lons, lats), "batched"
            ),
            Row("brute-force contains loop", n_slow, time_single(brute, slon, slat, repeat=2), "single"),
        ]
        if postgis is not None:
            res.rows.append(
                Row(
                    "PostGIS ST_Contains per point",
                    n_slow,
                    time_single(postgis, slon, slat, repeat=2),
                    "single",
                )
            )
    finally:
        if conn is not None:
            conn.close()
    return res


# ------------------------------------------------------------------------------------------------ report


def report(res: BackendResult) -> None:
    """Print one backend's table, the checks and a PASS/MISS line per target."""
    base = {r.kind: r.rate for r in res.rows if r.method.startswith("bare STRtree")}
    print(f"\n== {res.backend} ==")
    print(res.info)
    for line in res.checks:
        print("check: " + line)
    for line in res.failures:
        print("FAILED: " + line)
    print(f"{'method':<46}{'points':>9}{'lookups/s':>14}{'vs STRtree':>12}{'vs target':>11}")
    for r in res.rows:
        vs_target = f"{r.rate / r.target:.2f}x" if r.target else ""
        print(f"{r.method:<46}{r.points:>9,}{r.rate:>14,.0f}{r.rate / base[r.kind]:>11.2f}x{vs_target:>11}")
    for r in res.rows:
        if r.target:
            verdict = "PASS" if r.rate >= r.target else "MISS"
            print(f"{verdict}: {r.method} {r.rate:,.0f}/s, target >= {r.target:,}/s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0] if __doc__ else None)
    parser.add_argument(
        "--database-url",
        help="an already migrated and seeded database (default: temporary "
        "SQLite and PostgreSQL databases, seeded at scale 0.05 and removed afterwards)",
    )
    parser.add_argument(
        "--pg-admin-url",
        default=DEFAULT_PG_ADMIN,
        help="where to create the temporary PostgreSQL database (default: %(default)s)",
    )
    parser.add_argument(
        "--points",
        type=int,
        default=200_000,
        help="random points for the in-process methods (default: %(default)s)",
    )
    parser.add_argument(
        "--slow-points",
        type=int,
        default=5_000,
        help="points for brute force, PostGIS and the correctness sample (default: %(default)s)",
    )
    parser.add_argument(
        "--seed", type=int, default=1, help="random seed for the points (default: %(default)s)"
    )
    args = parser.parse_args(argv)
    n_slow = min(args.slow_points, args.points)

    t_start = time.perf_counter()
    results: list[BackendResult] = []
    if args.database_url:
        backend = "postgresql" if args.database_url.startswith("postgresql") else "sqlite"
        results.append(measure(backend, args.database_url, args.points, n_slow, args.seed))
    else:
        with temporary_databases(args.pg_admin_url) as dbs:
            for backend, url in dbs:
                results.append(measure(backend, url, args.points, n_slow, args.seed))

    print(
        f"\nPoints uniform in the district polygon (seed {args.seed}); in-process methods use "
        f"{args.points:,} points, brute force and PostGIS the first {n_slow:,} (they are slow). "
        "Single = one call per point from a Python loop, best of 3 (brute force and PostGIS best of 2); "
        "batched = one numpy call for all points, best of 5."
    )
    for res in results:
        report(res)
    print(f"\ntotal {time.perf_counter() - t_start:.0f} s")
    return 1 if any(r.failures for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
