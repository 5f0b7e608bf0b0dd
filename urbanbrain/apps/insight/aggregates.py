"""The pre-aggregates the dashboard reads: small tables derived from the district lake, kept under
``<lake>/insight/``, rebuilt only where the lake changed.

Each source partition (``cases/date=D``, ``alarms/date=D``) yields one file per derived table
(``insight/<table>/date=D.parquet``); ``state.json`` remembers the name, size and modification time of every
source file it was built from, so a refresh re-aggregates only partitions whose files changed (new rows,
a later version of a case, a compaction) and drops those that vanished. The per-partition files are then
gathered into one file per table (``insight/<table>.parquet``) that the KPIs read in milliseconds.

Within a partition a record counts once, at its highest version (ties: the latest landed), as the lake's
own reads do. Case definitions are the cases domain's: open states, "resolved", "on time" (resolved by the
time limit) and "breached" as ``cases.queries.statistics`` counts them, by the day a case was dispatched.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import h3
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

FOLDER = "insight"
STATE_FILE = "state.json"
STATE_VERSION = 3
H3_RESOLUTION = 8  # cells of ~0.7 km²: a few streets' worth, ~100 across a district like Futian
BATCH_PARTITIONS = 256  # partitions aggregated in one DuckDB query
GATHERED = ".gathered"  # <table>.gathered/month=YYYY-MM.parquet: what the KPIs read
ROW_GROUP = 16_384  # rows per row group of a gathered table: a period's query skips the other days' groups

# Case states in the open group, as the cases domain's lifecycle declares them (``lifecycle.OPEN_STATES``);
# the lake holds state codes, and the test in tests/apps/insight checks this list against the lifecycle.
OPEN_STATES = ("reported", "registered", "dispatched", "accepted", "in_progress", "resolved", "verified",
               "returned", "suspended")  # fmt: skip

SOURCES = {"cases": ("case_daily", "case_dispatch", "case_open", "case_cells"), "alarms": ("alarm_daily",)}
TABLES = tuple(t for tables in SOURCES.values() for t in tables)

_locks: dict[Path, threading.Lock] = {}
_locks_guard = threading.Lock()


@dataclass
class Refresh:
    """What one refresh did."""

    changed: dict[str, list[str]] = field(default_factory=dict)  # source -> partitions re-aggregated
    removed: dict[str, list[str]] = field(default_factory=dict)
    rows_read: int = 0
    seconds: float = 0.0
    generation: int = 0

    @property
    def partitions(self) -> int:
        return sum(len(v) for v in self.changed.values()) + sum(len(v) for v in self.removed.values())


def _lock(root: Path) -> threading.Lock:
    with _locks_guard:
        return _locks.setdefault(root, threading.Lock())


def _partitions(source_root: Path) -> dict[str, list[list[Any]]]:
    """``{date: [[relative file, size, mtime_ns], ...]}`` of a source table; hidden files (writes under way)
    are not part of it."""
    found: dict[str, list[list[Any]]] = {}
    if not source_root.is_dir():
        return found
    for folder in sorted(source_root.iterdir()):
        if not folder.is_dir() or not folder.name.startswith("date="):
            continue
        files = []
        for f in sorted(folder.rglob("*.parquet")):
            if any(part.startswith(".") for part in f.relative_to(folder).parts):
                continue
            st = f.stat()
            files.append([str(f.relative_to(source_root)), st.st_size, st.st_mtime_ns])
        if files:
            found[folder.name.removeprefix("date=")] = files
    return found


def read_state(out: Path) -> dict[str, Any]:
    try:
        state = json.loads((out / STATE_FILE).read_text())
    except (FileNotFoundError, ValueError):
        return {"version": STATE_VERSION, "generation": 0, "sources": {}}
    if state.get("version") != STATE_VERSION:  # another layout: build afresh
        return {"version": STATE_VERSION, "generation": 0, "sources": {}}
    return state  # type: ignore[no-any-return]


def _write_json_atomic(path: Path, body: dict[str, Any]) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(body, sort_keys=True))
    os.replace(tmp, path)


def _write_parquet_atomic(path: Path, table: pa.Table, **options: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    pq.write_table(table, tmp, compression="zstd", **options)
    os.replace(tmp, path)


def refresh(lake_root: Path, *, utc_offset_hours: float = 8, h3_resolution: int = H3_RESOLUTION) -> Refresh:
    """Bring ``<lake>/insight`` up to date with the lake; only changed partitions are read."""
    lake_root = Path(lake_root).resolve()
    out = lake_root / FOLDER
    started = time.perf_counter()
    with _lock(lake_root):
        out.mkdir(parents=True, exist_ok=True)
        state = read_state(out)
        result = Refresh()
        for source, tables in SOURCES.items():
            now = _partitions(lake_root / source)
            before: dict[str, Any] = state["sources"].get(source, {})
            changed = sorted(d for d, files in now.items() if before.get(d) != files)
            removed = sorted(d for d in before if d not in now)
            # Tables written by an older build that this one lacks are built in full.
            if any(not (out / f"{t}{GATHERED}").is_dir() for t in tables) and now:
                changed = sorted(now)
            for d in removed:
                for t in tables:
                    (out / t / f"date={d}.parquet").unlink(missing_ok=True)
            for i in range(0, len(changed), BATCH_PARTITIONS):
                batch = changed[i : i + BATCH_PARTITIONS]
                files = [str(lake_root / source / f[0]) for d in batch for f in now[d]]
                result.rows_read += _aggregate(source, files, batch, out, utc_offset_hours, h3_resolution)
            if changed or removed:
                for t in tables:
                    _gather(out, t, set(changed) | set(removed))
            result.changed[source], result.removed[source] = changed, removed
            state["sources"][source] = now
        if result.partitions:
            state["generation"] = int(state.get("generation", 0)) + 1
        state["refreshed_at_s"] = time.time()  # wall time, for operators reading the file; not for logic
        _write_json_atomic(out / STATE_FILE, state)
        result.generation = int(state["generation"])
    result.seconds = time.perf_counter() - started
    return result


# The lake's columns each source's aggregates read: a scan reads only these (Parquet is columnar), and the
# newest-row selection carries only these, not the record's forty.
COLUMNS = {
    "cases": ("case_id", "version", "landed_at", "state", "number", "title", "category_code", "major_code",
              "street_code", "community_code", "department_code", "emergency", "lon", "lat", "reported_at",
              "dispatched_at", "accept_due_at", "resolved_at", "resolve_due_at", "sla_breached_at"),
    "alarms": ("alarm_id", "version", "landed_at", "alarm_type", "level", "status", "street_code",
               "community_code", "acknowledged_at", "case_number"),
}  # fmt: skip


def _aggregate(
    source: str, files: list[str], batch: list[str], out: Path, offset: float, resolution: int
) -> int:
    con = duckdb.connect()
    try:
        key = "case_id" if source == "cases" else "alarm_id"
        columns = ", ".join(COLUMNS[source])
        # A record's versions all lie in one partition (its report or raise date), so the newest row of each
        # record per partition is the newest row of each record.
        con.execute(
            f"""CREATE TEMP TABLE l AS
            SELECT {columns}, CAST(date AS VARCHAR) AS part
            FROM read_parquet($files, union_by_name = true, hive_partitioning = true,
                              hive_types = {{'date': VARCHAR}})
            QUALIFY row_number() OVER (PARTITION BY date, {key} ORDER BY version DESC, landed_at DESC) = 1""",
            {"files": files},
        )
        rows = int(con.execute("SELECT count(*) FROM l").fetchone()[0])  # type: ignore[index]
        queries = _case_queries(offset) if source == "cases" else _alarm_queries()
        for table, sql in queries.items():
            _split_write(con.execute(sql).to_arrow_table(), batch, out / table)
        if source == "cases":
            _split_write(_cells(con, resolution), batch, out / "case_cells")
        return rows
    finally:
        con.close()


def _in_list(values: Iterable[str]) -> str:
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"


def _case_queries(offset: float) -> dict[str, str]:
    local = f"INTERVAL '{int(offset * 60)} minutes'"
    open_states = _in_list(OPEN_STATES)
    return {
        "case_daily": f"""
            SELECT part, CAST(part AS DATE) AS day, category_code, major_code, street_code, community_code,
                   count(*) AS reported,
                   count(*) FILTER (WHERE state IN {open_states}) AS open,
                   count(*) FILTER (WHERE state = 'closed') AS closed,
                   count(*) FILTER (WHERE emergency) AS emergency
            FROM l GROUP BY ALL""",
        "case_dispatch": f"""
            SELECT part, CAST(dispatched_at + {local} AS DATE) AS day, category_code, major_code, street_code,
                   community_code, department_code,
                   count(*) AS dispatched,
                   count(*) FILTER (WHERE resolved_at IS NOT NULL OR state IN ('verified', 'closed')) AS resolved,
                   count(*) FILTER (WHERE resolved_at IS NOT NULL AND resolved_at <= resolve_due_at) AS on_time,
                   count(*) FILTER (WHERE state = 'closed') AS closed,
                   count(*) FILTER (WHERE sla_breached_at IS NOT NULL) AS breached
            FROM l WHERE dispatched_at IS NOT NULL GROUP BY ALL""",
        "case_open": f"""
            SELECT part, case_id, number, title, state, category_code, major_code, street_code, community_code,
                   department_code, emergency, reported_at, dispatched_at, accept_due_at, resolve_due_at
            FROM l WHERE state IN {open_states}""",
    }


def _alarm_queries() -> dict[str, str]:
    return {
        "alarm_daily": """
            SELECT part, CAST(part AS DATE) AS day, alarm_type, level, street_code, community_code,
                   count(*) AS raised,
                   count(*) FILTER (WHERE status = 'active') AS active,
                   count(*) FILTER (WHERE acknowledged_at IS NOT NULL) AS acknowledged,
                   count(*) FILTER (WHERE status = 'cleared') AS cleared,
                   count(*) FILTER (WHERE case_number IS NOT NULL) AS with_case
            FROM l GROUP BY ALL"""
    }


# H3 cells of positions seen before, by the position rounded to 1e-5 degrees (~1 m, finer than any
# geocoder): cases come from a limited set of addresses, so most rows need no H3 call at all.
_cell_cache: dict[int, tuple[np.ndarray, np.ndarray]] = {}


def cells_of(lon: np.ndarray, lat: np.ndarray, resolution: int) -> np.ndarray:
    """H3 cell ids (uint64) of each position, vectorised through a cache of positions seen."""
    q = (np.round(lon * 1e5).astype(np.int64) << 32) | (np.round(lat * 1e5).astype(np.int64) & 0xFFFFFFFF)
    keys: np.ndarray
    cells: np.ndarray
    keys, cells = _cell_cache.get(resolution, (np.empty(0, np.int64), np.empty(0, np.uint64)))
    uniq, inverse = np.unique(q, return_inverse=True)
    pos: np.ndarray = np.asarray(np.searchsorted(keys, uniq))
    known = (
        (pos < len(keys)) & (keys[np.minimum(pos, len(keys) - 1)] == uniq)
        if len(keys)
        else np.zeros(len(uniq), bool)
    )
    out = np.empty(len(uniq), dtype=np.uint64)
    out[known] = cells[pos[known]]
    new = np.flatnonzero(~known)
    if len(new):
        ulon = (uniq[new] >> 32).astype(np.float64) / 1e5
        ulat = ((uniq[new] & 0xFFFFFFFF).astype(np.int64)).astype(np.int32).astype(np.float64) / 1e5
        out[new] = np.fromiter(
            (h3.str_to_int(h3.latlng_to_cell(la, lo, resolution)) for lo, la in zip(ulon, ulat, strict=True)),
            dtype=np.uint64,
            count=len(new),
        )
        all_keys = np.concatenate([keys, uniq[new]])
        all_cells = np.concatenate([cells, out[new]])
        order = np.argsort(all_keys)
        if len(all_keys) <= 5_000_000:  # a bound on memory; beyond it positions are looked up each time
            _cell_cache[resolution] = (all_keys[order], all_cells[order])
    return out[inverse]


def _cells(con: duckdb.DuckDBPyConnection, resolution: int) -> pa.Table:
    points = con.execute(
        """SELECT part, CAST(part AS DATE) AS day, lon, lat, major_code, community_code, count(*) AS n
           FROM l WHERE lon IS NOT NULL AND lat IS NOT NULL GROUP BY ALL"""
    ).to_arrow_table()
    lon = points.column("lon").to_numpy()
    lat = points.column("lat").to_numpy()
    cell = cells_of(lon, lat, resolution)
    hexes = (
        pa.array([h3.int_to_str(int(c)) for c in np.unique(cell)]) if len(cell) else pa.array([], pa.string())
    )
    names = np.array(hexes.to_pylist(), dtype=object)
    ids = np.unique(cell)
    cell_str = names[np.searchsorted(ids, cell)] if len(cell) else np.array([], dtype=object)
    points = points.drop_columns(["lon", "lat"]).append_column("cell", pa.array(cell_str, pa.string()))
    con.register("points", points)
    return con.execute(
        "SELECT part, day, cell, major_code, community_code, sum(n)::BIGINT AS cases FROM points GROUP BY ALL"
    ).to_arrow_table()


def _split_write(table: pa.Table, batch: list[str], folder: Path) -> None:
    """One file per partition of the batch (an empty one where the partition has no rows of this table,
    so that a partition that lost its rows loses them here too)."""
    folder.mkdir(parents=True, exist_ok=True)
    parts = table.column("part").to_numpy(zero_copy_only=False) if table.num_rows else np.array([])
    order = np.argsort(parts, kind="stable")
    table = table.take(pa.array(order)) if table.num_rows else table
    parts = parts[order]
    for d in batch:
        lo, hi = np.searchsorted(parts, d, "left"), np.searchsorted(parts, d, "right")
        _write_parquet_atomic(folder / f"date={d}.parquet", table.slice(int(lo), int(hi - lo)))


def _gather(out: Path, table: str, touched: set[str]) -> None:
    """The per-partition files of each month a refresh touched, gathered into that month's one file
    (``insight/<table>.gathered/month=YYYY-MM.parquet``), sorted by day in small row groups: the file the
    KPIs read. A refresh rewrites only its months (today's, usually), not the whole history."""
    folder = out / f"{table}{GATHERED}"
    folder.mkdir(parents=True, exist_ok=True)
    order = "part" if table == "case_open" else "day"
    for month in sorted({d[:7] for d in touched}):
        target = folder / f"month={month}.parquet"
        files = sorted(
            str(f) for f in (out / table).glob(f"date={month}-*.parquet") if pq.read_metadata(f).num_rows
        )
        if not files:
            target.unlink(missing_ok=True)
            continue
        con = duckdb.connect()
        try:
            body = con.execute(
                f"SELECT * FROM read_parquet($f, union_by_name = true) ORDER BY {order}", {"f": files}
            ).to_arrow_table()
        finally:
            con.close()
        # Sorted by day in small row groups: a period's query reads only the row groups of its days.
        _write_parquet_atomic(target, body, row_group_size=ROW_GROUP)


class Store:
    """The gathered tables, queried where they lie: each file is sorted by day in small row groups, so a
    period's query reads only its days' row groups, and nothing is loaded first, whatever the lake's size.
    Any number of threads may each take a cursor."""

    def __init__(self, out: Path) -> None:
        self.db = duckdb.connect()
        self.db.execute("SET parquet_metadata_cache = true")
        self.rows: dict[str, int] = {}
        for t in TABLES:
            months = sorted((out / f"{t}{GATHERED}").glob("month=*.parquet"))
            if not months:
                continue
            listed = ", ".join("'" + str(m).replace("'", "''") + "'" for m in months)
            self.db.execute(
                f"CREATE VIEW {t} AS SELECT * FROM read_parquet([{listed}], union_by_name = true)"
            )
            self.rows[t] = sum(pq.read_metadata(m).num_rows for m in months)

    def has(self, table: str) -> bool:
        return self.rows.get(table, 0) > 0

    def cursor(self) -> duckdb.DuckDBPyConnection:
        return self.db.cursor()


def load(lake_root: Path) -> tuple[int, Store]:
    """The generation and the gathered tables, ready to query."""
    out = Path(lake_root).resolve() / FOLDER
    return int(read_state(out).get("generation", 0)), Store(out)
