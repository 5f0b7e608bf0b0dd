"""The delivery worker: sends pending deliveries outside any transaction and writes each outcome after;
failures wait 30 s, 1 min, 2 min, ... and are given up after ``MAX_ATTEMPTS``."""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import select, update

from urbanbrain.core.context import Platform
from urbanbrain.core.loops import BackgroundLoop
from urbanbrain.core.models import Delivery, Subscription
from urbanbrain.core.notify.messages import WAKE_KEY
from urbanbrain.core.notify.senders import Sender

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 8
BACKOFF_BASE = timedelta(seconds=30)
LEASE = timedelta(minutes=5)  # a sender that dies mid-send frees its deliveries after this


def _direct(platform: Platform, d: Delivery) -> Subscription:
    """A message to one person: a subscription of one, never stored (its target is unsealed only here)."""
    return Subscription(channel=d.channel, target=platform.protector.open(d.target) or "", active=True)


def deliver_due(platform: Platform, sender: Sender, limit: int = 200) -> dict[str, int]:
    """Send every pending delivery whose time has come; returns how many were sent, will be retried, failed.

    Sending happens outside any transaction: a slow subscriber must not hold the database (SQLite has one
    writer) while it answers. The outcome of each attempt is written afterwards in a short transaction."""
    counts = {"sent": 0, "retry": 0, "failed": 0}
    now = platform.clock.now()
    with platform.db.session() as session:
        # Lease the due rows first (one short UPDATE): another process sweeping at the same time skips them,
        # so a delivery is not sent twice. The outcome below replaces the lease.
        picked = select(Delivery.id).where(Delivery.status == "pending", Delivery.next_attempt_at <= now)
        leased = session.scalars(
            update(Delivery)
            .where(Delivery.id.in_(picked.order_by(Delivery.id).limit(limit).scalar_subquery()))
            .values(next_attempt_at=now + LEASE)
            .returning(Delivery.id)
            .execution_options(synchronize_session=False)
        ).all()
        due = session.scalars(select(Delivery).where(Delivery.id.in_(leased)).order_by(Delivery.id)).all()
        subs = {s.id: s for s in session.scalars(select(Subscription))}
        session.expunge_all()
    outcomes: list[tuple[int, str | None]] = []
    for d in due:
        sub = subs.get(d.subscription_id) if d.subscription_id is not None else _direct(platform, d)
        try:
            if sub is None or not sub.active:
                raise RuntimeError("subscription removed")
            sender.send(sub, d)
        except Exception as exc:  # a channel failure is data (retried, then reported), not a crash
            outcomes.append((d.id, repr(exc)[:2000]))
        else:
            outcomes.append((d.id, None))
    with platform.db.session() as session:
        for delivery_id, error in outcomes:
            row = session.get(Delivery, delivery_id)
            if row is None or row.status != "pending":
                continue
            row.attempts += 1
            if error is None:
                row.status, row.sent_at = "sent", now
                counts["sent"] += 1
            elif row.attempts >= MAX_ATTEMPTS:
                row.status, row.last_error = "failed", error
                counts["failed"] += 1
            else:
                row.last_error = error
                row.next_attempt_at = now + BACKOFF_BASE * (2 ** (row.attempts - 1))
                counts["retry"] += 1
    deliveries = platform.metrics.counter(
        "urbanbrain_notification_deliveries_total", "Notification delivery attempts by outcome", ["outcome"]
    )
    for outcome, n in counts.items():
        if n:
            deliveries.labels(outcome).inc(n)
    return counts


class DeliveryWorker(BackgroundLoop):
    """Sends deliveries every ``period`` seconds, and at once after a commit that queued a message."""

    def __init__(self, platform: Platform, period: float) -> None:
        self.sender = Sender(platform)
        super().__init__("core-deliveries", lambda: deliver_due(platform, self.sender), period)
        self.platform = platform

    def start(self) -> DeliveryWorker:
        self.platform.caches[WAKE_KEY] = self
        super().start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        if self.platform.caches.get(WAKE_KEY) is self:
            del self.platform.caches[WAKE_KEY]
        super().stop(timeout)
