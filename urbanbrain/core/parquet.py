"""Parquet files and DuckDB for every lake of the platform (the sensing readings, the district lake): atomic
writes, folder fsyncs and removal, and a DuckDB confined to one folder."""

from __future__ import annotations

import contextlib
import os
import shutil
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

COMPRESSION = "zstd"
COMPRESSION_LEVEL = 1


def write_atomic(path: Path, table: pa.Table, *, fsync: bool, **parquet_options: Any) -> None:
    """Write ``table`` beside ``path`` under a hidden ``.tmp`` name, then rename it into place: a reader never
    sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        with open(tmp, "wb") as f:
            pq.write_table(
                table, f, compression=COMPRESSION, compression_level=COMPRESSION_LEVEL, **parquet_options
            )
            if fsync:
                f.flush()
                os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    if fsync:
        fsync_dir(path.parent)


def fsync_dir(path: Path) -> None:
    """Make a rename in ``path`` survive a power failure."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def remove_tree(path: Path) -> None:
    """Delete a folder; queries that already listed its files retry once."""
    with contextlib.suppress(FileNotFoundError):
        shutil.rmtree(path)


def sql_text(text: str) -> str:
    """A SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def confined_duckdb(root: Path, config: dict[str, Any] | None = None) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB that may touch files under ``root`` only: a stray path in a query fails with
    ``duckdb.PermissionException`` instead of reading the host. Spills go to ``root/.duckdb_tmp``."""
    root.mkdir(parents=True, exist_ok=True)
    db = duckdb.connect(":memory:", config=config or {})
    db.execute(f"SET temp_directory = {sql_text(str(root / '.duckdb_tmp'))}")
    db.execute(f"SET allowed_directories = [{sql_text(str(root) + os.sep)}]")
    db.execute("SET enable_external_access = false")
    return db
