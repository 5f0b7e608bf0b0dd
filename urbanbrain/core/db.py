"""Database engine, sessions and the portable column types (SQLite and PostgreSQL + PostGIS).

No engine is created at import time: :class:`Database` is built by the app factory or the CLI from settings.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy import JSON, DateTime, LargeBinary, MetaData, create_engine, event
from sqlalchemy.engine import Dialect, Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator, UserDefinedType

from urbanbrain.core.loops import BackgroundLoop

log = logging.getLogger(__name__)

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class _PostGISGeometry(UserDefinedType[Any]):
    cache_ok = True

    def get_col_spec(self, **kw: Any) -> str:
        return "geometry(Geometry,4326)"


class Geometry(TypeDecorator[BaseGeometry]):
    """A shapely geometry in lon/lat (EPSG:4326).

    PostgreSQL stores a PostGIS ``geometry`` (indexed with GiST); SQLite stores WKB. Values cross the
    driver as hex EWKB, which PostGIS parses and prints natively, so no extra library is needed.
    """

    impl = LargeBinary
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> Any:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(_PostGISGeometry())
        return dialect.type_descriptor(LargeBinary())

    def process_bind_param(self, value: BaseGeometry | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if dialect.name == "postgresql":
            return shapely.to_wkb(shapely.set_srid(value, 4326), hex=True, include_srid=True)
        return shapely.to_wkb(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> BaseGeometry | None:
        if value is None:
            return None
        return shapely.from_wkb(value)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC on both backends (SQLite has no time zones, so we normalise on the way in)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: use the clock, which gives aware UTC times")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


JSONType = JSON().with_variant(JSON(none_as_null=True), "postgresql")


def _json_default(obj: Any) -> Any:
    if isinstance(obj, datetime):
        return obj.isoformat()
    return str(obj)


def json_dumps(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, default=_json_default, separators=(",", ":"))


def make_engine(url: str, **kw: Any) -> Engine:
    """Create an engine tuned for each backend (SQLite: WAL and foreign keys; PostgreSQL: pooled)."""
    if url.startswith("sqlite"):
        engine = create_engine(
            url, json_serializer=json_dumps, connect_args={"check_same_thread": False, "timeout": 30}, **kw
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None  # the "begin" hook below issues BEGIN itself
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            # No checkpoint inside a commit: the commit that filled the log to 1,000 pages waited for the
            # checkpoint's fsyncs (7-9 ms here, one alarm in fifty). :class:`WalCheckpointer` does them.
            cur.execute("PRAGMA wal_autocheckpoint=0")
            cur.close()

        # SQLite has one writer at a time. Writers of this process queue on a lock here, which wakes the next
        # one at once, instead of in SQLite's busy handler, which polls with sleeps of up to 100 ms.
        writers = threading.Lock()

        @event.listens_for(engine, "begin")
        def _begin_immediate(conn: Any) -> None:
            # Take the write lock at BEGIN: a deferred transaction that reads (say, the audit head) and then
            # writes fails with "database is locked" when another writer committed in between (WAL snapshot).
            # A reader that only may write (the outbox relay) asks for DEFERRED.
            mode = conn.get_execution_options().get("sqlite_begin", "IMMEDIATE")
            if mode == "IMMEDIATE":
                writers.acquire()
                conn.info["ub_writer"] = True
            try:
                conn.exec_driver_sql("BEGIN " + mode)
            except BaseException:
                _release(conn)
                raise

        def _release(conn: Any) -> None:
            if conn.info.pop("ub_writer", False):
                writers.release()

        event.listen(engine, "commit", _release)
        event.listen(engine, "rollback", _release)

        @event.listens_for(engine.pool, "checkin")
        def _release_on_checkin(_dbapi_conn: Any, record: Any) -> None:
            # Safety net: a connection returned to the pool never keeps the writers' lock.
            if record is not None and record.info.pop("ub_writer", False):
                writers.release()

        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    if "poolclass" not in kw:
        kw.setdefault("pool_size", 10)
        kw.setdefault("max_overflow", 20)
    return create_engine(url, json_serializer=json_dumps, pool_pre_ping=True, **kw)


class WalCheckpointer(BackgroundLoop):
    """Copies SQLite's write-ahead log back into the database file from a thread of its own, every
    ``seconds``, instead of in whichever commit filled the log (SQLite's automatic checkpoint, turned off in
    :func:`make_engine`). A PASSIVE checkpoint neither waits for nor blocks readers and writers; the log
    starts over once a checkpoint has copied all of it."""

    def __init__(self, engine: Engine, seconds: float = 1.0) -> None:
        self.engine = engine
        super().__init__("sqlite-checkpoint", self.checkpoint, seconds)
        self.start()

    def checkpoint(self) -> None:
        conn = self.engine.raw_connection()  # autocommit (isolation_level None): PRAGMA runs outside BEGIN
        try:
            conn.cursor().execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        finally:
            conn.close()


class Database:
    """One engine and its session factory."""

    def __init__(self, url: str, **engine_kw: Any) -> None:
        self.url = url
        self.engine = make_engine(url, **engine_kw)
        self.checkpointer = WalCheckpointer(self.engine) if url.startswith("sqlite") else None
        self.sessionmaker = sessionmaker(self.engine, expire_on_commit=False)
        self.outbox_listeners: list[Callable[[], None]] = []
        self.committed_hooks: list[Callable[[list[Any]], None]] = []  # told a commit's events (the bus)
        event.listen(self.sessionmaker, "after_commit", self._after_commit)
        event.listen(self.sessionmaker, "after_rollback", self._after_rollback)

    def _after_commit(self, session: Session) -> None:
        # One listener per database, so every relay attached to it wakes, not only the first to look.
        if session.info.pop("outbox_dirty", False):
            for wake in list(self.outbox_listeners):
                wake()
        emitted = session.info.pop("emitted", None)
        if emitted:
            for hook in list(self.committed_hooks):
                hook(emitted)
        # Things an action wants done only once its writes are visible (wake a sender, tell a stream).
        for hook in session.info.pop("after_commit", ()):
            hook()

    def _after_rollback(self, session: Session) -> None:
        session.info.pop("after_commit", None)
        session.info.pop("emitted", None)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session that commits on success and rolls back on error."""
        with self.sessionmaker() as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    def dispose(self) -> None:
        if self.checkpointer is not None:
            self.checkpointer.stop()
            with contextlib.suppress(Exception):  # leave a short log behind for the next process
                self.checkpointer.checkpoint()
        self.engine.dispose()
