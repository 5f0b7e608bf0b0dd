"""Files of the district lake: atomic Parquet writes, atomic folder swaps, and the lock that keeps a table's
writers and its compaction apart across processes.

``write_atomic``, ``fsync_dir`` and ``remove_tree`` are the platform's (``core.parquet``), shared with the
readings lake.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import fcntl
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from urbanbrain.core.parquet import COMPRESSION, COMPRESSION_LEVEL, fsync_dir, remove_tree, write_atomic

__all__ = [
    "COMPRESSION",
    "COMPRESSION_LEVEL",
    "TableLock",
    "exchange",
    "fsync_dir",
    "remove_tree",
    "write_atomic",
]
_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


def _renameat2() -> Any:
    try:
        return ctypes.CDLL(None, use_errno=True).renameat2
    except (AttributeError, OSError):  # not Linux, or a C library before glibc 2.28
        return None


_RENAMEAT2 = _renameat2()


def exchange(a: Path, b: Path) -> bool:
    """Swap two folders in one step (Linux ``renameat2(RENAME_EXCHANGE)``): a reader lists either all of the
    old files or all of the new. False where the system or the file system cannot; nothing moved then."""
    if _RENAMEAT2 is None:
        return False
    if _RENAMEAT2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.EXDEV):
        return False
    raise OSError(err, os.strerror(err), str(a))


class TableLock:
    """Serialises what changes one table's files (landing, compaction, rebuild), between the threads of this
    process and between processes on this host (``flock`` on ``<root>/.locks/<table>.lock``)."""

    def __init__(self, root: Path, table: str) -> None:
        self.path = root / ".locks" / f"{table.replace('/', '__')}.lock"
        self._thread_lock = threading.RLock()
        self._depth = 0

    @contextlib.contextmanager
    def held(self) -> Iterator[None]:
        with self._thread_lock:
            if self._depth:  # this thread holds it already (a rebuild writes through write())
                self._depth += 1
                try:
                    yield
                finally:
                    self._depth -= 1
                return
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with open(self.path, "a+b") as f:
                fcntl.flock(f.fileno(), fcntl.LOCK_EX)
                self._depth = 1
                try:
                    yield
                finally:
                    self._depth = 0
                    fcntl.flock(f.fileno(), fcntl.LOCK_UN)
