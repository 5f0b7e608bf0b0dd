"""District-lake benchmark: generate a cases lake of ``--rows`` rows in the district lake's layout, build
decision support's pre-aggregates, then time the dashboard KPIs (from the pre-aggregates) and an ad-hoc scan
(one class in one street over the last month, from the raw files), beside DuckDB's own raw scan and
group-by of the same files. Prints a table and the ratios; results go in docs/performance.md.

    .venv/bin/python benchmarks/lake.py --rows 10_000_000 [--dir /path/kept] [--days 730]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
import numpy as np

from urbanbrain.apps.insight import aggregates, hotspots, kpis
from urbanbrain.domains.cases.taxonomy import load as taxonomy
from urbanbrain.simulate.district_volumes import CaseClass, futian_areas, simulate_volumes, write_cases_lake


def timed(fn, repeat: int = 5) -> tuple[float, object]:  # type: ignore[no-untyped-def]
    times, out = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=lambda s: int(s.replace("_", "")), default=10_000_000)
    ap.add_argument("--days", type=int, default=730)
    ap.add_argument(
        "--dir", type=Path, default=None, help="keep the lake here (default: a temp dir, removed)"
    )
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()

    root = args.dir or Path(tempfile.mkdtemp(prefix="lake-bench-"))
    start = date(2023, 1, 2)
    end = start + timedelta(days=args.days - 1)
    classes = [CaseClass(m.code, m.major, m.department, m.resolve_hours) for m in taxonomy().minors.values()]
    areas = futian_areas()
    try:
        t0 = time.perf_counter()
        if not (root / "cases").exists():
            volumes = simulate_volumes(args.seed, start, args.days, [c.code for c in classes],
                                       [a[1] for a in areas], per_day=1.0)  # fmt: skip
            # Scale the simulated shape to the asked size (rows include ~10% older versions).
            scale = args.rows / 1.1 / max(volumes.expected.sum(), 1)
            rng = np.random.default_rng(args.seed)
            counts = rng.poisson(volumes.expected * scale * (volumes.counts.sum() / volumes.expected.sum()))
            rows = write_cases_lake(root, counts, start, classes, areas, seed=args.seed,
                                    as_of=datetime.combine(end + timedelta(days=1), datetime.min.time()))  # fmt: skip
        else:
            rows = 0
        gen_s = time.perf_counter() - t0
        files = sorted(str(p) for p in (root / "cases").glob("date=*/*.parquet"))
        size = sum(Path(f).stat().st_size for f in files)
        con = duckdb.connect()
        rows = rows or con.execute("SELECT count(*) FROM read_parquet($f)", {"f": files}).fetchone()[0]

        build = aggregates.refresh(root)
        noop = aggregates.refresh(root)
        # One day changes (a late version lands): only its partition is read again.
        last = root / "cases" / f"date={end.isoformat()}" / "part-0.parquet"
        last.touch()
        one = aggregates.refresh(root)
        _, tables = aggregates.load(root)
        agg_rows = sum(tables.rows.values())

        month = (end - timedelta(days=29), end)
        now = datetime.combine(end + timedelta(days=1), datetime.min.time())
        kpi_s, _ = timed(lambda: (aggregates.load(root), kpis.case_kpis(tables, *month, None, now)))
        kpi_mem_s, _ = timed(lambda: kpis.case_kpis(tables, *month, None, now))
        area_s, _ = timed(lambda: kpis.case_kpis(tables, *month, areas[0][0], now))
        hot_s, hot = timed(lambda: hotspots.find(tables, end), repeat=3)

        glob = str(root / "cases" / "date=*" / "*.parquet")
        lo = f"{month[0]:%Y-%m-%d}"
        raw_count_s, _ = timed(
            lambda: con.execute(f"SELECT count(*) FROM read_parquet('{glob}')").fetchone(), 3
        )
        raw_group_s, _ = timed(lambda: con.execute(
            f"SELECT major_code, street_code, count(*) FROM read_parquet('{glob}') GROUP BY ALL").fetchall(), 3)  # fmt: skip
        # The dashboard's answer the naive way: latest version per case, then the month's KPIs, from raw files.
        raw_kpi_s, _ = timed(lambda: con.execute(f"""
            WITH l AS (SELECT * FROM read_parquet('{glob}', hive_partitioning = true)
                       QUALIFY row_number() OVER (PARTITION BY case_id ORDER BY version DESC) = 1)
            SELECT major_code, street_code, department_code, count(*),
                   count(*) FILTER (WHERE state = 'closed'),
                   count(*) FILTER (WHERE resolved_at <= resolve_due_at)
            FROM l WHERE date >= DATE '{lo}' GROUP BY ALL""").fetchall(), 3)  # fmt: skip
        cat, street = classes[0].code, areas[0][0]
        adhoc_s, adhoc = timed(lambda: con.execute(f"""
            SELECT count(*) FROM read_parquet('{glob}', hive_partitioning = true)
            WHERE date >= DATE '{lo}' AND category_code = '{cat}' AND street_code = '{street}'""").fetchone(), 3)  # fmt: skip

        def line(name: str, seconds: float, scanned: int | None, note: str = "") -> None:
            rate = f"{scanned / seconds / 1e6:10.1f}" if scanned else " " * 10
            print(f"| {name:<52} | {seconds * 1000:10.1f} | {rate} | {note}")

        print(f"\nlake: {rows:,} case rows in {len(files)} files, {size / 1e6:.0f} MB ({size / rows * 1e6 / 1e6:.1f} MB per 1M rows); "
              f"generated in {gen_s:.1f} s; pre-aggregates {agg_rows:,} rows")  # fmt: skip
        print("| what | ms (median) | M rows/s | note")
        print("|---|---:|---:|---")
        line(
            "build pre-aggregates (all partitions)",
            build.seconds,
            build.rows_read,
            f"{build.partitions} partitions",
        )
        line("refresh, nothing changed", noop.seconds, None)
        line("refresh, one day changed", one.seconds, one.rows_read, f"{one.partitions} partition")
        line("dashboard KPIs, month (load + query)", kpi_s, rows, "rows/s as if the lake were scanned")
        line("dashboard KPIs, month (tables in memory)", kpi_mem_s, rows)
        line("dashboard KPIs, month, one street", area_s, rows)
        line("hotspots (3 days vs 8 weeks)", hot_s, None, f"{len(hot)} found")  # type: ignore[arg-type]
        line("raw: DuckDB count(*) over the files", raw_count_s, rows)
        line("raw: DuckDB group-by class x street", raw_group_s, rows)
        line("raw: the month's KPIs from the files (latest versions)", raw_kpi_s, rows)
        line("ad-hoc: one class, one street, last month", adhoc_s, rows, f"{adhoc[0]} cases")  # type: ignore[index]
        print(f"\nKPIs from the pre-aggregates in memory vs the same from the raw files: {raw_kpi_s / kpi_mem_s:.0f}x "
              f"faster; vs DuckDB's bare group-by of the files: {raw_group_s / kpi_mem_s:.0f}x; loading a new "
              f"generation of pre-aggregates (once per refresh) takes {kpi_s * 1000:.0f} ms")  # fmt: skip
    finally:
        if args.dir is None:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
