"""SQLite's write-ahead log is copied into the database file by a thread of its own, never inside a commit
(a commit that did it waited for the copy's fsyncs: an IoT alarm in fifty took 7-9 ms longer)."""

from __future__ import annotations

import time
from pathlib import Path

from sqlalchemy import text

from urbanbrain.core.db import Database

ROWS, ROW_BYTES = 3000, 2000  # about 6 MB: past SQLite's automatic checkpoint at 1,000 pages (4 MB)


def _fill(db: Database) -> None:
    with db.session() as s:
        s.execute(text("CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, body BLOB)"))
    for _ in range(ROWS // 100):  # many commits, as the platform makes them
        with db.session() as s:
            s.execute(text("INSERT INTO t (body) VALUES (randomblob(:n))"), [{"n": ROW_BYTES}] * 100)


def test_commits_do_not_checkpoint_and_the_checkpointer_does(tmp_path: Path) -> None:
    path = tmp_path / "ub.db"
    db = Database(f"sqlite:///{path}")
    try:
        assert db.checkpointer is not None
        db.checkpointer.stop()  # hold it, to see what the commits alone do
        _fill(db)
        with db.engine.connect() as c:
            assert c.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 0
        assert path.stat().st_size < ROWS * ROW_BYTES / 2  # the rows are still only in the log
        db.checkpointer.checkpoint()
        assert path.stat().st_size > ROWS * ROW_BYTES  # now they are in the database file
    finally:
        db.dispose()


def test_the_checkpointer_thread_copies_the_log_while_the_platform_runs(tmp_path: Path) -> None:
    path = tmp_path / "ub.db"
    db = Database(f"sqlite:///{path}")
    try:
        _fill(db)
        deadline = time.monotonic() + 20
        while path.stat().st_size < ROWS * ROW_BYTES and time.monotonic() < deadline:
            time.sleep(0.1)
        assert path.stat().st_size > ROWS * ROW_BYTES
        with db.session() as s:
            assert s.execute(text("SELECT count(*) FROM t")).scalar() == ROWS
    finally:
        db.dispose()
