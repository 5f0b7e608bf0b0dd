"""Files of the readings lake: date partitions' names and leftovers; the atomic writes, fsyncs and removal are
the platform's (``core.parquet``), shared with the district lake."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from urbanbrain.core.parquet import COMPRESSION, COMPRESSION_LEVEL, fsync_dir, remove_tree, write_atomic

__all__ = ["COMPRESSION", "COMPRESSION_LEVEL", "day_name", "fsync_dir", "remove_tmp_files", "remove_tree",
           "write_atomic"]  # fmt: skip


def day_name(day: int) -> str:
    """``YYYY-MM-DD`` for days since 1970-01-01."""
    return str(np.datetime64(day, "D"))


def remove_tmp_files(directory: Path) -> None:
    for tmp in directory.glob("date=*/.*.tmp"):
        tmp.unlink(missing_ok=True)
