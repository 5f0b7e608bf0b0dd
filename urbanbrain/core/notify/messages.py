"""A message to one person (a building owner's SMS when their smoke detector goes off): queued in the
caller's transaction, sent by the delivery worker with retries. The address is sealed at rest."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from urbanbrain.core.context import Platform
from urbanbrain.core.models import Delivery

WAKE_KEY = "core.notify.worker"  # the platform's delivery worker, woken after a commit that queued
_INSERT = Delivery.__table__.insert()  # type: ignore[attr-defined]


def queue_message(
    session: Session,
    platform: Platform,
    *,
    channel: str,
    target: str,
    event_id: str,
    event_type: str,
    data: dict[str, Any],
    text: str | None = None,
) -> None:
    """Queue one message (``sms`` | ``email`` | ``webhook``) to ``target``; one plain INSERT. ``text``: the
    words to send (else they are made from the event's type and data); sealed at rest like the address,
    for a message that carries a secret meant for its addressee alone."""
    now = platform.clock.now()
    payload: dict[str, Any] = {"id": event_id, "type": event_type, "at": now.isoformat(), "data": data}
    if text is not None:
        payload["text"] = platform.protector.seal(text)
    row = {
        "subscription_id": None, "channel": channel, "target": platform.protector.seal(target),
        "event_id": event_id, "event_type": event_type, "payload": payload,
        "status": "pending", "attempts": 0, "next_attempt_at": now, "last_error": None, "sent_at": None,
    }  # fmt: skip
    session.execute(_INSERT, row)
    wake_after_commit(session, platform)


def wake_after_commit(session: Session, platform: Platform) -> None:
    """Send what this transaction queued as soon as it commits, not at the worker's next sweep."""
    worker = platform.caches.get(WAKE_KEY)
    if worker is not None:
        session.info.setdefault("after_commit", []).append(worker.wake)
