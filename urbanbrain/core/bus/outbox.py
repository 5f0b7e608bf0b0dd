"""The transactional outbox: ``emit`` writes an event row in the caller's transaction; the relay publishes
committed rows in order and marks them published only once the bus has taken them.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import functools
import logging
import threading
import time
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from urbanbrain.core.bus import Bus, Event
from urbanbrain.core.clock import Clock
from urbanbrain.core.db import Database
from urbanbrain.core.loops import BackgroundLoop
from urbanbrain.core.models import OutboxEvent

log = logging.getLogger(__name__)
MARK_SECONDS = 0.25  # SQLite: how often what the bus took is marked published


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
        if not session.in_nested_transaction():  # a savepoint may still roll back: leave those to the relay
            emitted = session.info.setdefault("emitted", [])
            emitted.extend(Event(i, t, at, p) for i, (t, p, at) in zip(ids, events, strict=True))
    return ids


_INSERT = OutboxEvent.__table__.insert()  # type: ignore[attr-defined]


class OutboxRelay:
    """Publishes committed outbox rows in order. Wakes right after a commit that emitted, and polls as a safety
    net (for rows left by a crash or a failed publish). A bus that takes an event later (the in-process bus:
    once its consumers have handled it) gives a future; the row is marked published when it completes, and the
    relay goes on with the next rows meanwhile."""

    def __init__(self, db: Database, bus: Bus, clock: Clock, *, poll_seconds: float = 1.0, batch: int = 500):
        self.db, self.bus, self.clock = db, bus, clock
        self.poll_seconds, self.batch = poll_seconds, batch
        self._flush_lock = threading.Lock()
        self._state = threading.Lock()  # guards the two below (futures complete on other threads)
        self._in_flight: dict[int, concurrent.futures.Future[None]] = {}
        self._answered: list[tuple[int, BaseException | None]] = []
        # SQLite: rows the bus has taken, marked published together every MARK_SECONDS (each mark is a write,
        # and SQLite has one writer: an alarm's transaction should not queue behind a mark per event)
        self._unmarked: list[int] = []
        self._marked_at = time.monotonic()
        self._loop = BackgroundLoop("outbox-relay", self._step, poll_seconds)
        db.outbox_listeners.append(self._loop.wake)
        # This process's live listeners hear its events at their commit, not after the relay's round trip
        # through the outbox table (which waits, on SQLite, for the one write lock).
        db.committed_hooks.append(bus.announce)

    def flush(self, timeout: float = 60.0) -> int:
        """Publish every pending row now and wait until the bus has taken each (or refused it: such a row is
        tried again at the next poll, not in this call); returns how many were published."""
        published = 0
        refused: set[int] = set()
        deadline = time.monotonic() + timeout
        with self._flush_lock:
            while True:
                n, more = self._publish_batch(refused)
                published += n
                with self._state:
                    waiting = list(self._in_flight.values())
                concurrent.futures.wait(waiting, timeout=max(0.0, deadline - time.monotonic()))
                done, failed = self._settle()
                published += done
                refused |= failed
                with self._state:
                    idle = not self._in_flight
                if (not more and idle and not n and not done) or time.monotonic() > deadline:
                    self._write_marks(force=True)
                    return published

    def _step(self) -> None:
        with self._flush_lock:
            self._settle()
            more = True
            while more:
                _, more = self._publish_batch(set())
            self._write_marks(force=False)

    def _write_marks(self, *, force: bool) -> None:
        """Mark what the bus took published: at once on ``force``, else every ``MARK_SECONDS`` (a crash in
        between publishes those rows again: consumers skip them, listeners have heard them)."""
        if not self._unmarked or not (force or time.monotonic() - self._marked_at >= MARK_SECONDS):
            return
        with self._state:
            ids, self._unmarked = self._unmarked, []
        with self.db.session() as session:
            session.execute(
                update(OutboxEvent).where(OutboxEvent.id.in_(ids)).values(published_at=self.clock.now())
            )
        self._marked_at = time.monotonic()

    def _pending(self, skip: set[int]) -> Any:
        stmt = select(OutboxEvent).where(OutboxEvent.published_at.is_(None))
        if skip:
            stmt = stmt.where(OutboxEvent.id.not_in(skip))
        return stmt.order_by(OutboxEvent.id).limit(self.batch)

    def _publish_batch(self, refused: set[int]) -> tuple[int, bool]:
        """Hand the next pending rows (not in flight, not refused in this flush) to the bus; returns how many
        the bus took at once, and whether a full batch was read (there may be more)."""
        with self._state:
            skip = set(self._in_flight) | set(self._unmarked) | refused
        locked = self.db.dialect == "postgresql"
        with self.db.sessionmaker() as session:
            if locked:  # several relays may run: each locks its batch (SKIP LOCKED) while it publishes
                rows = session.scalars(self._pending(skip).with_for_update(skip_locked=True)).all()
            else:  # SQLite: never hold the write lock while publishing (consumers write too)
                session.connection(execution_options={"sqlite_begin": "DEFERRED"})
                rows = session.scalars(self._pending(skip)).all()
            session.expunge_all()
            taken, failed = self._hand_over(rows)
            if locked:
                self._mark(session, taken, failed)
                session.commit()
        if not locked:
            with self._state:
                self._unmarked.extend(taken)
            if failed is not None:
                with self.db.session() as session:
                    self._mark(session, [], failed)
        return len(taken), failed is None and len(rows) == self.batch

    def _hand_over(self, rows: Sequence[OutboxEvent]) -> tuple[list[int], OutboxEvent | None]:
        """Publish in order; on a failure note why on the row and stop (order is kept)."""
        taken: list[int] = []
        for row in rows:
            try:
                later = self.bus.publish(Event(row.event_id, row.type, row.occurred_at, row.payload))
            except Exception as exc:
                row.attempts += 1
                row.last_error = repr(exc)[:2000]
                log.warning("outbox: publishing %s failed: %r", row.type, exc)
                return taken, row
            if later is None:
                taken.append(row.id)
            else:
                with self._state:
                    self._in_flight[row.id] = later
                later.add_done_callback(functools.partial(self._answered_by_bus, row.id))
        return taken, None

    def _answered_by_bus(self, row_id: int, future: concurrent.futures.Future[None]) -> None:
        with self._state:
            self._answered.append((row_id, future.exception()))
        self._loop.wake()

    def _settle(self) -> tuple[int, set[int]]:
        """Mark the rows whose futures completed: published, or one more failed attempt."""
        with self._state:
            answered, self._answered = self._answered, []
            for row_id, _ in answered:
                self._in_flight.pop(row_id, None)
        if not answered:
            return 0, set()
        ok = [row_id for row_id, error in answered if error is None]
        bad = [(row_id, error) for row_id, error in answered if error is not None]
        with self._state:
            self._unmarked.extend(ok)
        if not bad:
            return len(ok), set()
        with self.db.session() as session:
            for row_id, error in bad:
                session.execute(
                    update(OutboxEvent)
                    .where(OutboxEvent.id == row_id)
                    .values(attempts=OutboxEvent.attempts + 1, last_error=repr(error)[:2000])
                )
        return len(ok), {row_id for row_id, _ in bad}

    def _mark(self, session: Session, taken: list[int], failed: OutboxEvent | None) -> None:
        if taken:
            session.execute(
                update(OutboxEvent).where(OutboxEvent.id.in_(taken)).values(published_at=self.clock.now())
            )
        if failed is not None:
            session.execute(
                update(OutboxEvent)
                .where(OutboxEvent.id == failed.id)
                .values(attempts=failed.attempts, last_error=failed.last_error)
            )

    def start(self) -> None:
        if self._loop.wake not in self.db.outbox_listeners:
            self.db.outbox_listeners.append(self._loop.wake)
        if self.bus.announce not in self.db.committed_hooks:
            self.db.committed_hooks.append(self.bus.announce)
        self._loop.start()

    def stop(self) -> None:
        self._loop.stop()
        with contextlib.suppress(Exception):  # the database may be gone: the rows go out again next time
            self._write_marks(force=True)
        if self._loop.wake in self.db.outbox_listeners:
            self.db.outbox_listeners.remove(self._loop.wake)
        if self.bus.announce in self.db.committed_hooks:
            self.db.committed_hooks.remove(self.bus.announce)
