"""The in-app inbox: rows a department (or the command centre) reads on its workbench."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Table, func, select
from sqlalchemy.orm import Session

from urbanbrain.core.clock import Clock
from urbanbrain.core.errors import UrbanBrainError
from urbanbrain.core.models import Notification

CENTRE = "smart_city_office"  # the command centre's department code: operators read its inbox
_INSERT = Notification.__table__.insert()  # type: ignore[attr-defined]
_TABLE: Table = Notification.__table__  # type: ignore[assignment]


def inbox(
    session: Session,
    clock: Clock,
    *,
    recipients: Iterable[str | None],
    kind: str,
    title: str,
    body: str,
    subject: tuple[str, str | int] | None = None,
) -> int:
    """Put one row in each recipient's inbox, in the caller's transaction; returns how many. One plain
    INSERT for all of them: an IoT alarm's transaction, which tells the station and the centre, is on the
    command centre's clock. ``subject`` is what the row is about, e.g. ``("case", 17)``."""
    now = clock.now()
    subject_type, subject_id = (subject[0], str(subject[1])) if subject else (None, None)
    rows = [
        {"recipient": r, "kind": kind, "title": title, "body": body, "subject_type": subject_type,
         "subject_id": subject_id, "created_at": now, "read_at": None}
        for r in dict.fromkeys(recipients) if r
    ]  # fmt: skip
    if rows:
        session.execute(_INSERT, rows)
    return len(rows)


def rows_for(session: Session, recipient: str, *, unread_only: bool, limit: int = 100) -> list[Notification]:
    stmt = select(Notification).where(Notification.recipient == recipient)
    if unread_only:
        stmt = stmt.where(Notification.read_at.is_(None))
    return list(session.scalars(stmt.order_by(Notification.id.desc()).limit(limit)))


def unread_count(session: Session, recipient: str) -> int:
    query = select(func.count()).where(_TABLE.c.recipient == recipient, _TABLE.c.read_at.is_(None))
    return int(session.scalar(query) or 0)


def mark_read(session: Session, clock: Clock, recipient: str, notification_id: int) -> Notification:
    """Mark one of ``recipient``'s rows read (someone else's row is not found, not forbidden: it leaks
    nothing about other inboxes)."""
    row = session.get(Notification, notification_id)
    if row is None or row.recipient != recipient:
        raise UrbanBrainError("not_found", what=f"notification {notification_id}")
    row.read_at = row.read_at or clock.now()
    return row
