"""Subscriptions: a webhook, an e-mail address or an SMS number that follows events by pattern
(``cases.case.>``, ``sensing.alarm.raised``), optionally only those about one department. One bus consumer
turns each matching event into a delivery; the worker sends it."""

from __future__ import annotations

import secrets
import time
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from urbanbrain.core.actions import record, snapshot
from urbanbrain.core.auth.principal import Principal
from urbanbrain.core.bus import Event, matches
from urbanbrain.core.bus.consumers import idempotent
from urbanbrain.core.context import Platform
from urbanbrain.core.models import Delivery, Subscription
from urbanbrain.core.notify.messages import wake_after_commit

PATTERNS_KEY = "core.notify.patterns"
CONSUMER = "core.notify.subscriptions"


def do_add_subscription(
    session: Session,
    platform: Platform,
    actor: Principal,
    *,
    channel: str,
    target: str,
    events: list[str],
    department_code: str | None = None,
) -> Subscription:
    """Subscribe a channel to events; a webhook gets a signing secret, shown to the caller once."""
    actor.require("core.subscriptions.write")
    sub = Subscription(
        channel=channel,
        target=target,
        secret=secrets.token_hex(24) if channel == "webhook" else None,
        events=events,
        department_code=department_code,
        active=True,
        created_at=platform.clock.now(),
    )
    session.add(sub)
    session.flush()
    record(
        session, platform.clock, actor,
        action="core.subscription.create", entity_type="subscription", entity_id=sub.id,
        before=None, after=snapshot(sub, protected=("secret",)),
    )  # fmt: skip
    subscriptions_changed(platform)
    return sub


def subscriptions_changed(platform: Platform) -> None:
    """A subscription changed here: read the patterns afresh on the next event (other processes: within 2 s)."""
    patterns = platform.caches.get(PATTERNS_KEY)
    if patterns is not None:
        patterns.expire()


class _Patterns:
    """The event patterns of active subscriptions, re-read every few seconds: most events interest no
    subscriber and are skipped without a transaction."""

    def __init__(self, platform: Platform, ttl: float = 2.0) -> None:
        self.platform, self.ttl = platform, ttl
        self._patterns: list[str] = []
        self._read_at = -1e9

    def expire(self) -> None:
        self._read_at = -1e9

    def wanted(self, event_type: str) -> bool:
        now = time.monotonic()
        if now - self._read_at > self.ttl:
            with self.platform.db.sessionmaker() as session:
                session.connection(execution_options={"sqlite_begin": "DEFERRED"})
                rows = session.scalars(select(Subscription.events).where(Subscription.active.is_(True))).all()
            self._patterns = [p for events in rows for p in events]
            self._read_at = now
        return any(matches(p, event_type) for p in self._patterns)


def _deliveries(session: Session, event: Event, platform: Platform) -> None:
    payload: dict[str, Any] = event.payload
    subs = session.scalars(select(Subscription).where(Subscription.active.is_(True))).all()
    queued = False
    for sub in subs:
        if sub.department_code and sub.department_code != payload.get("department_code"):
            continue
        if not any(matches(pattern, event.type) for pattern in sub.events):
            continue
        session.add(
            Delivery(
                subscription_id=sub.id,
                event_id=event.id,
                event_type=event.type,
                payload={
                    "id": event.id,
                    "type": event.type,
                    "at": event.occurred_at.isoformat(),
                    "data": payload,
                },  # fmt: skip
                status="pending",
                attempts=0,
                next_attempt_at=platform.clock.now(),
            )
        )
        queued = True
    if queued:
        wake_after_commit(session, platform)


def follow_events(platform: Platform) -> None:
    """Start the consumer that turns subscribed events into deliveries (once per platform)."""
    if PATTERNS_KEY in platform.caches:
        return
    patterns = platform.caches[PATTERNS_KEY] = _Patterns(platform)
    handler = idempotent(platform.db, platform.clock, CONSUMER, lambda s, e: _deliveries(s, e, platform))
    platform.bus.subscribe(">", CONSUMER, handler, accept=lambda event: patterns.wanted(event.type))
