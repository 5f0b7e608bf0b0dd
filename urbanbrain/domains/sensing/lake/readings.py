"""The telemetry lake: every sensor reading, appended to Parquet files and queried with DuckDB.

Layout under ``root`` (``<data_dir>/lake``)::

    readings/date=YYYY-MM-DD/part-<first-ts-ms>[-<writer>.c<seq>]-<uuid8>.parquet
                                                                   raw readings, one file per flush and date
    rollup_1m/date=YYYY-MM-DD/rollup-<from>-<to>.parquet          per-minute rollups (see ``lake_rollup``)
    rollup_1m/_state.json                                         rollup watermark and committed files

**Dates.** A reading's partition is its *event* date (``ts``, not ``received_at``) in the district's local
time, ``utc_offset_hours`` east of UTC (8 for Shenzhen, no daylight saving). So 2024-05-01T15:59:59Z lands in
``date=2024-05-01`` and 16:00:00Z in ``date=2024-05-02``. A reading from a device with a wrong clock, years in
the past or future, lands in its own date partition; nothing is dropped or clamped. Timestamps in the files
(``ts``, ``received_at``, the rollups' ``minute``) are UTC, stored as naive ``TIMESTAMP`` (microseconds).

**Durability.** The lake is an append-only history, not the system of record. Readings are acknowledged to
devices only after the caller's database commit; the lake buffers them in memory and writes them in batches.
A crash of the process loses at most the rows buffered since the last flush (``pending_rows``); a power
failure may also lose files renamed in the last moments unless ``fsync=True`` (the default). The lake never
replays: the caller decides whether to re-append from its database after a restart, and a replay appends
rows again (``message_id`` lets a query drop duplicates). A reader never sees half a file: each file is written
under a hidden ``.tmp`` name and renamed into place.

**Threads.** One writer thread appends, flushes, rolls up and applies retention; any number of threads may
query at the same time. The buffer sits behind a lock; every query runs on its own DuckDB cursor, because a
DuckDB connection must not be shared between threads (``cursor()`` gives each a connection to the same
in-memory database). One writing ``Lake`` per ``root``: it removes leftover ``.tmp`` files on its first flush.

**Queries** are SQL written by our code, not by users. Still, DuckDB is confined to ``root``: a query that names
a file elsewhere fails with ``duckdb.PermissionException``.
"""

from __future__ import annotations

import re
import threading
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypeAlias

import duckdb
import numpy as np
import pyarrow as pa

from urbanbrain.core.parquet import confined_duckdb
from urbanbrain.domains.sensing.lake import rollup
from urbanbrain.domains.sensing.lake.files import (
    day_name,
    remove_tmp_files,
    remove_tree,
    write_atomic,
)

READINGS_SCHEMA = pa.schema(
    [
        pa.field("device_id", pa.string(), nullable=False),
        pa.field("measurement", pa.string(), nullable=False),
        pa.field("value", pa.float64(), nullable=False),
        pa.field("ts", pa.timestamp("us"), nullable=False),
        pa.field("received_at", pa.timestamp("us"), nullable=False),
        pa.field("message_id", pa.string()),
    ]
)
# zstd level 1 made files 2.6x smaller than snappy (8 vs 21 bytes a reading) for 15-20% less append+write
# throughput; either runs at ten times the 250k readings/s intake.
# Statistics on random ids cost a third of the string columns' write time and prune nothing.
STATISTICS_COLUMNS = ["value", "ts", "received_at"]
US_PER_DAY = 86_400_000_000
_CHECKPOINTED = re.compile(r"^part--?\d+-(?P<writer>[A-Za-z0-9_]+)\.c(?P<seq>\d+)-[0-9a-f]{8}\.parquet$")

Strings: TypeAlias = "Sequence[str] | np.ndarray | pa.Array | str"


class Lake:
    """Buffers readings, writes them as date-partitioned Parquet and answers DuckDB queries over them."""

    def __init__(
        self,
        root: Path,
        *,
        utc_offset_hours: float = 8,
        flush_rows: int = 200_000,
        flush_seconds: float = 2.0,
        row_group_rows: int = 100_000,
        fsync: bool = True,
        duckdb_config: dict[str, Any] | None = None,
    ) -> None:
        self.root = Path(root).resolve()
        self.readings_dir = self.root / "readings"
        self.utc_offset_us = round(utc_offset_hours * 3_600_000_000)
        self.flush_rows = flush_rows
        self.flush_seconds = flush_seconds
        self.row_group_rows = row_group_rows
        self.fsync = fsync
        self.last_flush_s: float | None = None
        self._batches: list[pa.RecordBatch] = []
        self._pending = 0
        self._bytes = 0
        self._oldest_received: float | None = None
        self._buffer_lock = threading.Lock()
        # Serialises whatever changes files (flush, rollup, retention); re-entrant because rollup flushes.
        self.write_lock = threading.RLock()
        self._swept = False
        self._db = confined_duckdb(self.root, duckdb_config or {})
        self._db_lock = threading.Lock()
        self.rollups = rollup.Rollups(self)

    # -- writing ---------------------------------------------------------------------------------------------

    def append(
        self,
        device_id: Strings,
        measurement: Strings,
        value: np.ndarray | Sequence[float],
        ts: np.ndarray | Sequence[float],
        received_at: np.ndarray | Sequence[float] | float,
        message_id: Strings | None = None,
    ) -> int:
        """Buffer one batch of readings (times in epoch seconds); a ``str`` for ``measurement`` or a float for
        ``received_at`` applies to the whole batch. Returns the rows buffered; nothing is written yet."""
        values = np.asarray(value, dtype=np.float64)
        n = len(values)
        ts_arr = np.asarray(ts, dtype=np.float64)
        received = np.broadcast_to(np.asarray(received_at, dtype=np.float64), (n,))
        if not (np.isfinite(ts_arr).all() and np.isfinite(received).all()):
            raise ValueError("ts and received_at must be finite epoch seconds")
        batch = pa.RecordBatch.from_arrays(
            [
                _required_strings(device_id, n),
                _required_strings(measurement, n),
                pa.array(values),
                _timestamps(ts_arr),
                _timestamps(received),
                pa.nulls(n, pa.string()) if message_id is None else _strings(message_id, n),
            ],
            schema=READINGS_SCHEMA,
        )
        if n == 0:
            return 0
        oldest = float(received.min())
        with self._buffer_lock:
            self._batches.append(batch)
            self._pending += n
            self._bytes += batch.nbytes
            if self._oldest_received is None or oldest < self._oldest_received:
                self._oldest_received = oldest
        return n

    @property
    def pending_rows(self) -> int:
        """Rows appended and not yet written."""
        return self._pending

    @property
    def buffer_bytes(self) -> int:
        """Memory the buffered rows hold; the caller slows its intake when this grows."""
        return self._bytes

    def maybe_flush(self, now_s: float) -> int:
        """Flush when ``flush_rows`` rows wait, or when the oldest waiting row arrived (its ``received_at``, on
        the caller's clock) ``flush_seconds`` or more before ``now_s``. Returns the rows written."""
        with self._buffer_lock:
            oldest = self._oldest_received
            due = self._pending >= self.flush_rows or (
                oldest is not None and now_s - oldest >= self.flush_seconds
            )
        return self.flush(now_s) if due else 0

    def flush(self, now_s: float | None = None) -> int:
        """Write every buffered row: one file per local date touched. Returns the rows written. Rows whose
        file could not be written go back to the buffer and the error is raised."""
        with self.write_lock:
            return self.write(self.take_pending(), now_s)

    def take_pending(self) -> list[pa.RecordBatch]:
        """The buffered rows, taken out of the buffer (for :meth:`write`, perhaps on another thread)."""
        with self._buffer_lock:
            batches, self._batches = self._batches, []
            self._pending, self._bytes, self._oldest_received = 0, 0, None
        return batches

    def write(
        self,
        batches: list[pa.RecordBatch],
        now_s: float | None = None,
        *,
        checkpoint: tuple[str, int] | None = None,
    ) -> int:
        """Write rows taken with :meth:`take_pending`, as :meth:`flush` does. ``checkpoint`` (writer, journal
        position) names the files after the checkpoint that wrote them, so that :meth:`discard_unsaved` can
        remove them if that checkpoint never finished."""
        with self.write_lock:
            if not batches:
                return 0
            if not self._swept:
                remove_tmp_files(self.readings_dir)
                self._swept = True
            table = pa.Table.from_batches(batches, schema=READINGS_SCHEMA)
            parts = list(self.split_by_local_date(table, "ts"))
            written = 0
            tag = f"-{checkpoint[0]}.c{checkpoint[1]}" if checkpoint else ""
            for i, (date, part) in enumerate(parts):
                try:
                    self._write_part(date, part, tag)
                except BaseException:
                    self._requeue([p for _, p in parts[i:]])
                    raise
                written += part.num_rows
            self.last_flush_s = now_s
            return written

    def discard_unsaved(self, writer: str, saved: int, journaled: int) -> int:
        """Remove ``writer``'s files of checkpoints after journal position ``saved`` up to ``journaled``: a
        crash came after the lake files and before the state was saved, and the journal's replay writes
        those rows again. Returns how many files went."""
        gone = 0
        for path in self.readings_dir.glob(f"date=*/part-*-{writer}.c*-*.parquet"):
            match = _CHECKPOINTED.match(path.name)
            if match and match["writer"] == writer and saved < int(match["seq"]) <= journaled:
                path.unlink(missing_ok=True)
                gone += 1
        return gone

    def _write_part(self, date: str, part: pa.Table, tag: str = "") -> None:
        first_ms = int(part.column("ts").cast(pa.int64()).to_numpy().min()) // 1000
        name = f"part-{first_ms}{tag}-{uuid.uuid4().hex[:8]}.parquet"
        write_atomic(
            self.readings_dir / f"date={date}" / name,
            part,
            fsync=self.fsync,
            row_group_size=self.row_group_rows,
            use_dictionary=["device_id", "measurement"],
            write_statistics=STATISTICS_COLUMNS,
        )

    def _requeue(self, tables: list[pa.Table]) -> None:
        batches = [b for t in tables for b in t.to_batches()]
        received = [b.column("received_at").cast(pa.int64()).to_numpy().min() / 1e6 for b in batches]
        with self._buffer_lock:
            self._batches[:0] = batches
            self._pending += sum(b.num_rows for b in batches)
            self._bytes += sum(b.nbytes for b in batches)
            oldest = [*received, *([] if self._oldest_received is None else [self._oldest_received])]
            self._oldest_received = min(oldest) if oldest else None

    def split_by_local_date(self, table: pa.Table, column: str) -> list[tuple[str, pa.Table]]:
        """Rows of ``table`` grouped by the local date of the UTC timestamp ``column``, in date order."""
        if table.num_rows == 0:
            return []
        days = self.local_days(table.column(column).cast(pa.int64()).to_numpy())
        lo, hi = int(days.min()), int(days.max())
        if lo == hi:
            return [(day_name(lo), table)]
        unique, inverse = np.unique(days, return_inverse=True)
        return [(day_name(int(d)), table.take(np.flatnonzero(inverse == k))) for k, d in enumerate(unique)]

    def local_days(self, utc_us: np.ndarray) -> np.ndarray:
        """Days since 1970-01-01 of the local dates of UTC epoch microseconds."""
        return (np.asarray(utc_us, dtype=np.int64) + self.utc_offset_us) // US_PER_DAY

    def local_day_of(self, epoch_s: float) -> int:
        """Days since 1970-01-01 of the local date of an epoch-seconds instant."""
        return int(self.local_days(np.array([round(epoch_s * 1e6)]))[0])

    # -- reading ---------------------------------------------------------------------------------------------

    def query(self, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        """Run ``sql`` over the views ``readings`` and ``rollup_1m``; rows as tuples."""
        return self._run(sql, params, lambda cur: cur.fetchall())

    def query_arrow(self, sql: str, params: list[Any] | None = None) -> pa.Table:
        """Like :meth:`query`, as a pyarrow Table."""
        return self._run(sql, params, lambda cur: cur.to_arrow_table())

    def _run(self, sql: str, params: list[Any] | None, fetch: Any) -> Any:
        # Retention and rollup compaction delete files; a query that listed one just before gets one retry.
        try:
            return self._run_once(sql, params, fetch)
        except duckdb.IOException:
            return self._run_once(sql, params, fetch)

    def _run_once(self, sql: str, params: list[Any] | None, fetch: Any) -> Any:
        with self._db_lock:
            cur = self._db.cursor()
        try:
            self._define_views(cur)
            cur.execute(sql, params)
            return fetch(cur)
        finally:
            cur.close()

    def _define_views(self, cur: duckdb.DuckDBPyConnection) -> None:
        has_files = next(self.readings_dir.glob("date=*/*.parquet"), None) is not None
        source = _parquet_scan([str(self.readings_dir / "date=*" / "*.parquet")]) if has_files else None
        cur.execute(f"CREATE TEMP VIEW readings AS {_select(READINGS_SCHEMA, source)}")
        files = [str(p) for p in self.rollups.committed_files()]
        source = _parquet_scan(files) if files else None
        cur.execute(f"CREATE TEMP VIEW rollup_1m AS {_select(rollup.ROLLUP_SCHEMA, source)}")

    # -- rollups, retention ----------------------------------------------------------------------------------

    def rollup(self, until_ts: float) -> int:
        """Roll up every complete minute before ``until_ts`` not yet rolled up; see :mod:`lake_rollup`."""
        return self.rollups.run(until_ts)

    def apply_retention(self, now_s: float, raw_days: int, rollup_days: int) -> dict[str, list[str]]:
        """Delete whole date partitions more than ``raw_days`` (readings) or ``rollup_days`` (rollups) days
        before the local date of ``now_s``: with ``raw_days=7`` on 05-10, 05-03 stays and 05-02 goes.
        Returns the dates removed, by view."""
        today = self.local_day_of(now_s)
        with self.write_lock:
            removed_raw = []
            for path in sorted(self.readings_dir.glob("date=*")):
                date = path.name.removeprefix("date=")
                if date < day_name(today - raw_days):
                    remove_tree(path)
                    removed_raw.append(date)
            removed_rollup = self.rollups.drop_dates_before(day_name(today - rollup_days))
        return {"readings": removed_raw, "rollup_1m": removed_rollup}

    def close(self) -> None:
        """Write what is buffered and release DuckDB."""
        self.flush()
        with self._db_lock:
            self._db.close()


def _strings(values: Strings, n: int) -> pa.Array:
    if isinstance(values, str):
        return pa.repeat(pa.scalar(values, pa.string()), n)
    arr = values if isinstance(values, pa.Array) else pa.array(values, type=pa.string())
    if len(arr) != n:
        raise ValueError(f"got {len(arr)} strings for {n} readings")
    return arr.cast(pa.string())


def _required_strings(values: Strings, n: int) -> pa.Array:
    # A null would only fail at flush, and a batch that cannot be written blocks every batch behind it.
    arr = _strings(values, n)
    if arr.null_count:
        raise ValueError("device_id and measurement must not be missing")
    return arr


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _timestamps(epoch_s: np.ndarray) -> pa.Array:
    return pa.array(np.rint(epoch_s * 1e6).astype(np.int64), type=pa.timestamp("us"))


def _parquet_scan(paths: list[str]) -> str:
    quoted = ", ".join(_quote(p) for p in paths)
    return f"read_parquet([{quoted}], hive_partitioning = true, hive_types = {{'date': DATE}})"


_DUCK_TYPES = {"string": "VARCHAR", "double": "DOUBLE", "int64": "BIGINT", "timestamp[us]": "TIMESTAMP"}


def _select(schema: pa.Schema, source: str | None) -> str:
    """The view's body: the scan, or typed empty columns while no file exists (DuckDB refuses an empty glob)."""
    if source is not None:
        return f"SELECT {', '.join(schema.names)}, date FROM {source}"
    columns = [f"NULL::{_DUCK_TYPES[str(f.type)]} AS {f.name}" for f in schema]
    return f"SELECT {', '.join(columns)}, NULL::DATE AS date WHERE false"
