"""Idempotent consumers: each (consumer, event id) is handled once, however often it is delivered."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from urbanbrain.core.bus import Event, Handler
from urbanbrain.core.clock import Clock
from urbanbrain.core.db import Database
from urbanbrain.core.models import InboxEntry


def idempotent(
    db: Database, clock: Clock, consumer: str, handler: Callable[[Session, Event], None]
) -> Handler:
    """Wrap ``handler(session, event)`` so its writes and the inbox mark commit together, exactly once."""

    def wrapped(event: Event) -> None:
        with db.session() as session:
            seen = session.scalar(
                select(InboxEntry.id).where(InboxEntry.consumer == consumer, InboxEntry.event_id == event.id)
            )
            if seen is not None:
                return
            # Claim the event first: a concurrent delivery of the same event waits on this row and then
            # finds it taken, so the handler runs once even when two deliveries overlap.
            session.add(InboxEntry(consumer=consumer, event_id=event.id, handled_at=clock.now()))
            try:
                session.flush()
            except IntegrityError:
                session.rollback()
                return
            handler(session, event)

    return wrapped
