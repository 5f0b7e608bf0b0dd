"""District-lake benchmark: generate a district lake of ``--rows`` rows in the district lake's layout, build
decision support's pre-aggregates, then time the dashboard KPIs (from the pre-aggregates) and ad-hoc scans
(one class in one street over the last month; a month of one measurement's readings), beside DuckDB's own
raw scan and group-by of the same files. Prints a table and the ratios; results go in docs/performance.md.

    .venv/bin/python benchmarks/lake.py --rows 10_000_000 [--cases-share 0.05] [--dir /path/kept] [--days 730]

A district's lake is mostly sensor readings: ``--cases-share`` of the rows are cases (with ~10% older
versions, as the lake keeps corrections), the rest readings of 20,000 devices (``readings/date=D/``, the
sensing lake's layout). ``--cases-share 1`` makes a lake of cases only, to see the KPIs' cost as the cases
themselves grow.
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
import pyarrow as pa
import pyarrow.parquet as pq

from urbanbrain.apps.insight import aggregates, hotspots, kpis
from urbanbrain.domains.cases.taxonomy import load as taxonomy
from urbanbrain.simulate.district_volumes import CaseClass, futian_areas, simulate_volumes, write_cases_lake

DEVICES = 20_000
MEASUREMENTS = ["smoke", "temperature", "water_level", "pm25", "people_count"]


def write_readings(root: Path, rows: int, start: date, days: int, seed: int) -> int:
    """``rows`` readings spread over ``days``, in the sensing lake's layout and schema: devices report every
    few minutes, each one measurement; one file per day, written in row groups as the sensing lake does."""
    rng = np.random.default_rng(seed + 1)
    per_day = np.full(days, rows // days)
    per_day[: rows % days] += 1
    devices = pa.array([f"dev-{i:05d}" for i in range(DEVICES)])
    kinds = pa.array(MEASUREMENTS)
    device_kind = rng.integers(0, len(MEASUREMENTS), DEVICES)
    written = 0
    for d in range(days):
        n = int(per_day[d])
        if n == 0:
            continue
        base = np.datetime64(start + timedelta(d), "us") - np.timedelta64(8, "h")  # local midnight in UTC
        ts = base + np.sort(rng.integers(0, 86_400_000_000, n)).astype("timedelta64[us]")
        dev = rng.integers(0, DEVICES, n).astype(np.int32)
        kind = device_kind[dev].astype(np.int32)
        value = np.round(rng.gamma(2.0, 10.0, n), 1)
        table = pa.table({
            "device_id": pa.DictionaryArray.from_arrays(pa.array(dev), devices).cast(pa.string()),
            "measurement": pa.DictionaryArray.from_arrays(pa.array(kind), kinds).cast(pa.string()),
            "value": value,
            "ts": ts,
            "received_at": ts + rng.integers(200_000, 3_000_000, n).astype("timedelta64[us]"),
            "message_id": pa.nulls(n, pa.string()),
        })  # fmt: skip
        folder = root / "readings" / f"date={start + timedelta(d)}"
        folder.mkdir(parents=True, exist_ok=True)
        pq.write_table(table, folder / "part-0.parquet", compression="zstd", compression_level=1,
                       row_group_size=100_000, write_statistics=["value", "ts", "received_at"])  # fmt: skip
        written += n
    return written


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
    ap.add_argument("--cases-share", type=float, default=0.05, help="share of the rows that are cases")
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
            scale = args.rows * args.cases_share / 1.1 / max(volumes.expected.sum(), 1)
            rng = np.random.default_rng(args.seed)
            counts = rng.poisson(volumes.expected * scale * (volumes.counts.sum() / volumes.expected.sum()))
            rows = write_cases_lake(root, counts, start, classes, areas, seed=args.seed,
                                    as_of=datetime.combine(end + timedelta(days=1), datetime.min.time()))  # fmt: skip
            write_readings(root, max(args.rows - rows, 0), start, args.days, args.seed)
        else:
            rows = 0
        gen_s = time.perf_counter() - t0
        readings = sorted(str(p) for p in (root / "readings").glob("date=*/*.parquet"))
        files = sorted(str(p) for p in (root / "cases").glob("date=*/*.parquet"))
        size = sum(Path(f).stat().st_size for f in files)
        con = duckdb.connect()
        rows = rows or con.execute("SELECT count(*) FROM read_parquet($f)", {"f": files}).fetchone()[0]
        reading_rows = (
            con.execute("SELECT count(*) FROM read_parquet($f)", {"f": readings}).fetchone()[0]
            if readings
            else 0
        )
        total = rows + reading_rows
        lake_size = size + sum(Path(f).stat().st_size for f in readings)

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

        rglob = str(root / "readings" / "date=*" / "*.parquet")
        all_count_s, _ = timed(lambda: con.execute(
            f"SELECT (SELECT count(*) FROM read_parquet('{glob}')) + "
            f"(SELECT count(*) FROM read_parquet('{rglob}'))").fetchone() if readings else None, 3)  # fmt: skip
        raw_readings_s, _ = timed(lambda: con.execute(
            f"SELECT measurement, count(*), avg(value), max(value) FROM read_parquet('{rglob}') GROUP BY ALL").fetchall()
            if readings else None, 3)  # fmt: skip
        adhoc_readings_s, _ = timed(lambda: con.execute(f"""
            SELECT device_id, avg(value), max(value) FROM read_parquet('{rglob}', hive_partitioning = true)
            WHERE date >= DATE '{lo}' AND measurement = 'smoke' GROUP BY ALL ORDER BY 3 DESC LIMIT 20""").fetchall()
            if readings else None, 3)  # fmt: skip

        def line(name: str, seconds: float, scanned: int | None, note: str = "") -> None:
            rate = f"{scanned / seconds / 1e6:10.1f}" if scanned else " " * 10
            print(f"| {name:<52} | {seconds * 1000:10.1f} | {rate} | {note}")

        print(f"\nlake: {total:,} rows ({rows:,} case rows, {reading_rows:,} readings) in {len(files) + len(readings)} "
              f"files, {lake_size / 1e6:.0f} MB ({lake_size / total:.1f} bytes a row); generated in {gen_s:.1f} s; "
              f"pre-aggregates {agg_rows:,} rows")  # fmt: skip
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
        line("dashboard KPIs, month (open + query)", kpi_s, total, "rows/s as if the lake were scanned")
        line("dashboard KPIs, month (tables open)", kpi_mem_s, total)
        line("dashboard KPIs, month, one street", area_s, total)
        line("hotspots (3 days vs 8 weeks)", hot_s, None, f"{len(hot)} found")  # type: ignore[arg-type]
        line("raw: DuckDB count(*) over the case files", raw_count_s, rows)
        if readings:
            line("raw: DuckDB count(*) over all the lake's files", all_count_s, total)
            line("raw: DuckDB group-by measurement over the readings", raw_readings_s, reading_rows)
            line("ad-hoc: a month of smoke readings, top devices", adhoc_readings_s, reading_rows)
        line("raw: DuckDB group-by class x street", raw_group_s, rows)
        line("raw: the month's KPIs from the files (latest versions)", raw_kpi_s, rows)
        line("ad-hoc: one class, one street, last month", adhoc_s, rows, f"{adhoc[0]} cases")  # type: ignore[index]
        print(f"\nKPIs from the pre-aggregates vs the same from the raw files: {raw_kpi_s / kpi_mem_s:.0f}x "
              f"faster; vs DuckDB's bare group-by of the files: {raw_group_s / kpi_mem_s:.0f}x; opening a new "
              f"generation of pre-aggregates (once per refresh) takes {kpi_s * 1000:.0f} ms")  # fmt: skip
    finally:
        if args.dir is None:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
