"""The district lake's files and queries: every table as Parquet under one root, read with DuckDB.

Layout under ``root`` (``<data_dir>/lake``; docs/lake.md tells it in full)::

    cases/date=YYYY-MM-DD/part-*.parquet      local date of reported_at
    alarms/date=YYYY-MM-DD/part-*.parquet     local date of raised_at
    buildings/ residents/ venues/ facilities/ part-*.parquet, not partitioned
    uploads/<dataset_code>/part-*.parquet     an uploaded dataset, replaced whole
    readings/date=YYYY-MM-DD/part-*.parquet   written by the sensing domain (its readings lake)

**Versions.** A record lands again each time it changes; a file only ever gains rows. A read keeps the newest
row of each record: highest ``version``, then latest ``landed_at``. Compaction rewrites a partition to those
rows only; it swaps the partition's folder in one step (Linux ``renameat2``), so a reader never sees it
missing or doubled.

**Threads and processes.** What changes a table's files holds its :class:`TableLock` (a ``flock``, so a
``urbanbrain lake compact`` beside a running server waits its turn). Each query runs on a DuckDB cursor of its
own, confined to ``root``.
"""

from __future__ import annotations

import os
import re
import threading
import uuid
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from urbanbrain.core.parquet import confined_duckdb
from urbanbrain.domains.datahub.lake.files import (
    COMPRESSION_LEVEL,
    TableLock,
    exchange,
    fsync_dir,
    remove_tree,
    write_atomic,
)
from urbanbrain.domains.datahub.lake.tables import TABLES, UPLOADS, LakeTable, upload_table

US_PER_DAY = 86_400_000_000
UPLOAD_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,59}$")
_DUCK_TYPES = {
    "string": "VARCHAR",
    "int64": "BIGINT",
    "double": "DOUBLE",
    "bool": "BOOLEAN",
    "timestamp[us]": "TIMESTAMP",
    "date32[day]": "DATE",
}
# Days after which no reading can arrive for a date (the sensing door refuses readings older than its
# max age, 7 days by default): readings partitions older than this are closed and may be compacted.
READINGS_OPEN_DAYS = 9


class DistrictLake:
    """The district lake under ``root``: writes versioned rows, answers DuckDB, compacts and inspects."""

    def __init__(self, root: Path, *, utc_offset_hours: float = 8, fsync: bool = True) -> None:
        self.root = Path(root).resolve()
        self.utc_offset_hours = utc_offset_hours
        self.utc_offset_us = round(utc_offset_hours * 3_600_000_000)
        self.fsync = fsync
        self._db: duckdb.DuckDBPyConnection | None = None
        self._db_lock = threading.Lock()
        self._locks: dict[str, TableLock] = {}

    # -- tables ----------------------------------------------------------------------------------------------

    def table(self, name: str) -> LakeTable:
        """The table ``name``: one of :data:`TABLES`, or ``uploads/<code>`` of an upload written before."""
        if name in TABLES:
            return TABLES[name]
        code = name.removeprefix(f"{UPLOADS}/")
        if name.startswith(f"{UPLOADS}/") and UPLOAD_CODE.match(code):
            first = next(self.dir_of(name).glob("*.parquet"), None)
            if first is not None:
                return upload_table(code, pq.read_schema(first))
        raise KeyError(f"the lake has no table {name!r}")

    def table_names(self) -> list[str]:
        """The lake's tables, uploads that exist included."""
        uploads = sorted(
            f"{UPLOADS}/{p.name}" for p in (self.root / UPLOADS).glob("*") if UPLOAD_CODE.match(p.name)
        )
        return [*TABLES, *uploads]

    def dir_of(self, name: str) -> Path:
        return self.root / name

    def lock(self, name: str) -> TableLock:
        with self._db_lock:
            found = self._locks.get(name)
            if found is None:
                found = self._locks[name] = TableLock(self.root, name)
            return found

    # -- writing ---------------------------------------------------------------------------------------------

    def write(self, table: str, rows: pa.Table) -> int:
        """Append ``rows`` (all the table's columns, ``version`` and ``landed_at`` included) to ``table``: one
        new file per partition touched, each in place at once. Returns the rows written."""
        t = self._landed(table)
        data = conform(rows, t)
        if data.num_rows == 0:
            return 0
        with self.lock(table).held():
            for folder, part in self._split(t, data, self.dir_of(table)):
                self._write_file(folder, part)
        return data.num_rows

    def replace_table(self, table: str, batches: Iterable[pa.Table]) -> int:
        """Write ``batches`` as the whole new content of ``table`` into a fresh folder, then swap it in place of
        the old one (a rebuild). Holds the table's lock throughout. Returns the rows written."""
        t = self._landed(table)
        target = self.dir_of(table)
        staging = self.root / f".{table}.rebuild-{uuid.uuid4().hex[:8]}"
        written = 0
        with self.lock(table).held():
            try:
                staging.mkdir(parents=True)
                for batch in batches:
                    data = conform(batch, t)
                    for folder, part in self._split(t, data, staging):
                        self._write_file(folder, part)
                    written += data.num_rows
                self._swap_in(staging, target)
            finally:
                remove_tree(staging)
        return written

    def write_upload(self, code: str, table: pa.Table) -> int:
        """Make ``table`` the whole content of the upload ``code`` (``uploads/<code>/``), replacing what was
        there in one step. Returns the rows written."""
        if not UPLOAD_CODE.match(code):
            raise ValueError(f"an upload's code must be letters, digits, '_', '.' or '-': {code!r}")
        name = f"{UPLOADS}/{code}"
        target = self.dir_of(name)
        staging = target.parent / f".{code}.new-{uuid.uuid4().hex[:8]}"
        with self.lock(name).held():
            try:
                write_atomic(staging / "part-0.parquet", table, fsync=self.fsync, row_group_size=100_000)
                self._swap_in(staging, target)
            finally:
                remove_tree(staging)
        return table.num_rows

    def _landed(self, table: str) -> LakeTable:
        t = TABLES.get(table)
        if t is None or not t.landed:
            raise KeyError(f"{table!r} is not a table the lake lands (readings are the sensing domain's)")
        return t

    def _split(self, t: LakeTable, data: pa.Table, base: Path) -> list[tuple[Path, pa.Table]]:
        if t.partition_by is None:
            return [(base, data)]
        column = data.column(t.partition_by)
        if column.null_count:
            raise ValueError(f"{t.name}: {t.partition_by} is missing in {column.null_count} rows")
        days = (column.cast(pa.int64()).to_numpy() + self.utc_offset_us) // US_PER_DAY
        unique, inverse = np.unique(days, return_inverse=True)
        return [
            (base / f"date={np.datetime64(int(d), 'D')}", data.take(np.flatnonzero(inverse == k)))
            for k, d in enumerate(unique)
        ]

    def _write_file(self, folder: Path, part: pa.Table) -> None:
        name = f"part-{uuid.uuid4().hex}.parquet"
        write_atomic(folder / name, part, fsync=self.fsync, row_group_size=100_000)

    def _swap_in(self, staging: Path, target: Path) -> None:
        """Put ``staging`` where ``target`` is; ``staging`` then holds the old content (removed by the caller)."""
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.exists():
            if not exchange(staging, target):  # no atomic swap here: a reader may find it empty for a moment
                old = target.parent / f".{target.name}.old-{uuid.uuid4().hex[:8]}"
                os.rename(target, old)
                os.rename(staging, target)
                os.rename(old, staging)
        else:
            os.rename(staging, target)
        if self.fsync:
            fsync_dir(target.parent)

    # -- reading ---------------------------------------------------------------------------------------------

    def relation_sql(self, table: str) -> str:
        """A parenthesised DuckDB subquery over ``table``: the newest row of each record for a landed table;
        every row for ``readings`` and uploads. Date-partitioned tables end with the partition's ``date``
        (DATE, local). Over zero rows, with the same columns, while the table has no file."""
        t = self.table(table)
        columns = ", ".join(_ident(c) for c in t.names)
        partitioned = t.partition_by is not None
        glob = self.dir_of(table) / ("date=*/*.parquet" if partitioned else "*.parquet")
        if next(self.dir_of(table).glob(glob.relative_to(self.dir_of(table)).as_posix()), None) is None:
            empty = [f"NULL::{_duck_type(c.type)} AS {_ident(c.name)}" for c in t.columns]
            if partitioned:
                empty.append("NULL::DATE AS date")
            return f"(SELECT {', '.join(empty)} WHERE false)"
        hive = "true, hive_types = {'date': DATE}" if partitioned else "false"
        scan = f"read_parquet({_quote(str(glob))}, hive_partitioning = {hive}, union_by_name = true)"
        select = f"SELECT {columns}{', date' if partitioned else ''} FROM {scan}"
        if t.key is None:
            return f"({select})"
        latest = f"PARTITION BY {_ident(t.key)} ORDER BY version DESC, landed_at DESC"
        return f"({select} QUALIFY row_number() OVER ({latest}) = 1)"

    def connect(self) -> duckdb.DuckDBPyConnection:
        """A DuckDB cursor of its own (close it after), confined to the lake's root: a query naming a file
        elsewhere fails with ``duckdb.PermissionException``. Any number of threads may each hold one."""
        with self._db_lock:
            if self._db is None:
                self._db = confined_duckdb(self.root)
            return self._db.cursor()

    def query(self, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        """Run ``sql`` (with :meth:`relation_sql` texts in it); rows as tuples."""
        return self._run(sql, params, lambda cur: cur.fetchall())

    def query_arrow(self, sql: str, params: list[Any] | None = None) -> pa.Table:
        return self._run(sql, params, lambda cur: cur.to_arrow_table())

    def _run(self, sql: str, params: list[Any] | None, fetch: Any) -> Any:
        # A compaction removes files: a query that listed one just before gets one retry.
        try:
            return self._run_once(sql, params, fetch)
        except duckdb.IOException:
            return self._run_once(sql, params, fetch)

    def _run_once(self, sql: str, params: list[Any] | None, fetch: Any) -> Any:
        cur = self.connect()
        try:
            cur.execute(sql, params)
            return fetch(cur)
        finally:
            cur.close()

    # -- compaction, inspection ------------------------------------------------------------------------------

    def compact(
        self,
        table: str | None = None,
        *,
        today: date | None = None,
        readings_open_days: int = READINGS_OPEN_DAYS,
    ) -> dict[str, dict[str, int]]:
        """Rewrite each partition of ``table`` (every table when None) holding two files or more into one file
        with only the newest row of each record. ``readings`` are compacted only with ``today`` (the local date,
        from the platform's clock), and only in partitions older than ``readings_open_days``, which no reading
        can reach any more. Per table: partitions compacted, files before and after."""
        names = [table] if table is not None else [n for n in TABLES]
        out: dict[str, dict[str, int]] = {}
        for name in names:
            t = self.table(name)
            if name == "readings":
                if today is None:
                    continue
                closed = str(today - timedelta(days=readings_open_days))
                out[name] = self._compact_partitions(t, before=closed)
            elif t.landed:
                with self.lock(name).held():
                    self._sweep_leftovers(name)
                    out[name] = self._compact_partitions(t)
        return out

    def _compact_partitions(self, t: LakeTable, before: str | None = None) -> dict[str, int]:
        stats = {"partitions": 0, "files_before": 0, "files_after": 0}
        for folder in self._partitions(t):
            files = sorted(folder.glob("*.parquet"))
            stats["files_before"] += len(files)
            if len(files) < 2 or (before is not None and folder.name.removeprefix("date=") >= before):
                stats["files_after"] += len(files)
                continue
            self._compact_folder(t, folder, files)
            stats["partitions"] += 1
            stats["files_after"] += 1
        return stats

    def _compact_folder(self, t: LakeTable, folder: Path, files: list[Path]) -> None:
        staging = folder.parent / f".{folder.name}.compact-{uuid.uuid4().hex[:8]}"
        staging.mkdir()
        try:
            scan = f"read_parquet([{', '.join(_quote(str(f)) for f in files)}], hive_partitioning = false, union_by_name = true)"  # noqa: E501
            if t.key is None:
                select = f"SELECT * FROM {scan} ORDER BY {_ident(t.partition_by or t.names[0])}"
            else:
                latest = f"PARTITION BY {_ident(t.key)} ORDER BY version DESC, landed_at DESC"
                select = (
                    f"SELECT * FROM {scan} QUALIFY row_number() OVER ({latest}) = 1 ORDER BY {_ident(t.key)}"
                )
            final = staging / f"part-compacted-{uuid.uuid4().hex}.parquet"
            tmp = staging / f".{final.name}.tmp"
            options = f"FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL {COMPRESSION_LEVEL}, ROW_GROUP_SIZE 100000"
            cur = self.connect()
            try:
                cur.execute(f"COPY ({select}) TO {_quote(str(tmp))} ({options})")
            finally:
                cur.close()
            if self.fsync:
                with open(tmp, "rb") as written:
                    os.fsync(written.fileno())
            os.replace(tmp, final)
            if not exchange(staging, folder):
                # No atomic swap here: the new file joins the old ones (the newest-row rule hides the doubles
                # of a versioned table), then the old ones go.
                os.replace(final, folder / final.name)
                for old in files:
                    old.unlink(missing_ok=True)
            if self.fsync:
                fsync_dir(folder)
        finally:
            remove_tree(staging)

    def _partitions(self, t: LakeTable) -> list[Path]:
        base = self.dir_of(t.name)
        if t.partition_by is None:
            return [base] if base.is_dir() else []
        return sorted(p for p in base.glob("date=*") if p.is_dir())

    def _sweep_leftovers(self, name: str) -> None:
        """Folders and files a crash left half made: never read (hidden names), removed under the lock."""
        base = self.dir_of(name)
        for leftover in [*self.root.glob(f".{name}.rebuild-*"), *base.parent.glob(f".{base.name}.*-*")]:
            remove_tree(leftover)
        for leftover in [*base.glob(".*-*"), *base.glob("**/.*.tmp")]:
            if leftover.is_dir():
                remove_tree(leftover)
            else:
                leftover.unlink(missing_ok=True)

    def inspect(self) -> dict[str, dict[str, Any]]:
        """Per table: files, rows in them (superseded versions included), current ``records`` (the newest row
        of each; equal to rows for readings and uploads), bytes, partitions, oldest and newest partition."""
        out: dict[str, dict[str, Any]] = {}
        for name in self.table_names():
            t = self.table(name)
            parts = self._partitions(t)
            files = [f for p in parts for f in p.glob("*.parquet")]
            rows = size = 0
            for f in files:
                try:
                    rows += pq.ParquetFile(f).metadata.num_rows
                    size += f.stat().st_size
                except FileNotFoundError:  # compacted away meanwhile
                    continue
            dates = [p.name.removeprefix("date=") for p in parts] if t.partition_by else []
            records = rows
            if t.key is not None and files:
                records = self.query(f"SELECT count(*) FROM {self.relation_sql(name)}")[0][0]
            out[name] = {
                "files": len(files),
                "rows": rows,
                "records": records,
                "bytes": size,
                "partitions": len(dates) if t.partition_by else (1 if files else 0),
                "oldest_partition": min(dates) if dates else None,
                "newest_partition": max(dates) if dates else None,
            }
        return out

    def local_date(self, at: datetime) -> date:
        """The district's local date of an instant (a naive one is UTC)."""
        utc = at if at.tzinfo is None else at.astimezone(UTC).replace(tzinfo=None)
        return (utc + timedelta(hours=self.utc_offset_hours)).date()

    def close(self) -> None:
        """Release DuckDB (a later query opens it again)."""
        with self._db_lock:
            if self._db is not None:
                self._db.close()
                self._db = None


def conform(rows: pa.Table, t: LakeTable) -> pa.Table:
    """``rows`` with exactly ``t``'s columns, in order and types; a column ``rows`` lacks is refused."""
    missing = [n for n in t.names if n not in rows.column_names]
    if missing:
        raise ValueError(f"{t.name}: rows lack {missing}")
    return rows.select(t.names).cast(t.schema)


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _duck_type(type_: pa.DataType) -> str:
    return _DUCK_TYPES.get(str(type_), "VARCHAR")
