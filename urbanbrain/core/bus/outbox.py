"""The transactional outbox: ``emit`` writes an event row in the caller's transaction; the relay publishes
committed rows in order and marks them published only once the bus has taken them.
"""

from __future__ import annotations

import logging
import threading
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from urbanbrain.core.bus import Bus, Event
from urbanbrain.core.clock import Clock
from urbanbrain.core.db import Database
from urbanbrain.core.models import OutboxEvent

log = logging.getLogger(__name__)


def emit(session: Session, event_type: str, payload: dict[str, Any], at: datetime) -> str:
    """Queue an event; it leaves only if and when this session's transaction commits."""
    return emit_many(session, [(event_type, payload, at)])[0]


def emit_many(session: Session, events: list[tuple[str, dict[str, Any], datetime]]) -> list[str]:
    """Queue events with one INSERT (a plain statement, built once: it runs in every action's transaction);
    same rules as :func:`emit`."""
    ids = [str(uuid.uuid4()) for _ in events]
    if events:
        session.execute(
            _INSERT,
            [
                {"event_id": i, "type": t, "payload": p, "occurred_at": at, "attempts": 0}
                for i, (t, p, at) in zip(ids, events, strict=True)
            ],
        )
        session.info["outbox_dirty"] = True
    return ids


_INSERT = OutboxEvent.__table__.insert()  # type: ignore[attr-defined]


class OutboxRelay:
    """Publishes committed outbox rows. Wakes right after a commit that emitted, and polls as a safety net
    (for rows left by a crash or a failed publish)."""

    def __init__(self, db: Database, bus: Bus, clock: Clock, *, poll_seconds: float = 1.0, batch: int = 500):
        self.db, self.bus, self.clock = db, bus, clock
        self.poll_seconds, self.batch = poll_seconds, batch
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._flush_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        db.outbox_listeners.append(self._wake.set)

    def flush(self) -> int:
        """Publish every pending row now; returns how many were published."""
        published = 0
        with self._flush_lock:
            while True:
                n, more = self._flush_batch()
                published += n
                if not more:
                    return published

    def _flush_batch(self) -> tuple[int, bool]:
        if self.db.dialect == "postgresql":
            return self._flush_locked()
        return self._flush_sqlite()

    def _pending(self) -> Any:
        return (
            select(OutboxEvent)
            .where(OutboxEvent.published_at.is_(None))
            .order_by(OutboxEvent.id)
            .limit(self.batch)
        )

    def _flush_locked(self) -> tuple[int, bool]:
        """PostgreSQL: several relays may run; each locks its batch (SKIP LOCKED) while it publishes."""
        with self.db.sessionmaker() as session:
            rows = session.scalars(self._pending().with_for_update(skip_locked=True)).all()
            done = 0
            for row in rows:
                if not self._publish(row):
                    session.commit()
                    return done, False
                row.published_at = self.clock.now()
                done += 1
            session.commit()
            return done, len(rows) == self.batch

    def _flush_sqlite(self) -> tuple[int, bool]:
        """SQLite: one writer at a time, and in-process consumers write too, so never hold the write lock while
        publishing: read the batch, publish, then mark what went out (a crash in between re-sends: at least once)."""
        with self.db.sessionmaker() as session:
            session.connection(execution_options={"sqlite_begin": "DEFERRED"})
            rows = session.scalars(self._pending()).all()
            session.expunge_all()
        sent: list[int] = []
        failed: OutboxEvent | None = None
        for row in rows:
            if not self._publish(row):
                failed = row
                break
            sent.append(row.id)
        with self.db.session() as session:
            if sent:
                session.execute(
                    update(OutboxEvent).where(OutboxEvent.id.in_(sent)).values(published_at=self.clock.now())
                )
            if failed is not None:
                session.execute(
                    update(OutboxEvent)
                    .where(OutboxEvent.id == failed.id)
                    .values(attempts=OutboxEvent.attempts + 1, last_error=failed.last_error)
                )
        return len(sent), failed is None and len(rows) == self.batch

    def _publish(self, row: OutboxEvent) -> bool:
        """Hand one event to the bus; on failure note why on the row and stop (order is kept)."""
        try:
            self.bus.publish(Event(row.event_id, row.type, row.occurred_at, row.payload))
        except Exception as exc:
            row.attempts += 1
            row.last_error = repr(exc)[:2000]
            log.warning("outbox: publishing %s failed: %r", row.type, exc)
            return False
        return True

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="outbox-relay", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.poll_seconds)
            self._wake.clear()
            try:
                self.flush()
            except Exception:  # the database may be briefly unavailable; the poll retries
                log.exception("outbox relay")

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        if self._wake.set in self.db.outbox_listeners:
            self.db.outbox_listeners.remove(self._wake.set)
