"""Files of the lake: atomic Parquet writes, fsyncs and removal, shared by the readings and their rollups."""

from __future__ import annotations

import contextlib
import os
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

COMPRESSION = "zstd"
COMPRESSION_LEVEL = 1


def day_name(day: int) -> str:
    """``YYYY-MM-DD`` for days since 1970-01-01."""
    return str(np.datetime64(day, "D"))


def write_atomic(path: Path, table: pa.Table, *, fsync: bool, **parquet_options: Any) -> None:
    """Write ``table`` beside ``path`` under a hidden ``.tmp`` name, then rename it into place."""
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


def remove_tmp_files(directory: Path) -> None:
    for tmp in directory.glob("date=*/.*.tmp"):
        tmp.unlink(missing_ok=True)


def remove_tree(path: Path) -> None:
    """Delete a date partition; queries that already listed its files retry once."""
    with contextlib.suppress(FileNotFoundError):
        shutil.rmtree(path)
