"""Notifications: bus consumers turn case events into in-app inbox rows and channel deliveries; a worker
sends deliveries (webhooks signed with HMAC-SHA256, e-mail over SMTP, SMS through an HTTP gateway) and
retries failures with exponential backoff.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import smtplib
import threading
import time
from datetime import timedelta
from email.message import EmailMessage
from typing import Any
from urllib.parse import urlsplit

import httpx
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from urbanbrain.core.bus import Event, matches
from urbanbrain.core.bus.consumers import idempotent
from urbanbrain.core.context import Platform
from urbanbrain.domains.cases.models import Delivery, Notification, Subscription

log = logging.getLogger(__name__)
CENTRE = "smart_city_office"
MAX_ATTEMPTS = 8
BACKOFF_BASE = timedelta(seconds=30)
LEASE = timedelta(minutes=5)  # a sender that dies mid-send frees its deliveries after this

# event type -> (who hears it, zh title, en title); "dept" is the case's department, "centre" the command centre.
INBOX_RULES: dict[str, tuple[tuple[str, ...], str, str]] = {
    "cases.case.dispatched": (("dept",), "新派遣案件", "New case dispatched to you"),
    "cases.case.reassigned": (("dept",), "改派给您的案件", "Case reassigned to you"),
    "cases.case.reopened": (("dept",), "重新打开的案件", "Case reopened"),
    "cases.case.verification_failed": (
        ("dept",),
        "核查不通过，请继续处置",
        "Verification failed: keep working",
    ),
    "cases.case.sla_warning": (("dept", "centre"), "案件即将超时（80%）", "Case at 80% of its time limit"),
    "cases.case.sla_breached": (("dept", "centre"), "案件已超时", "Case overdue"),
    "cases.case.escalated": (("dept", "centre"), "案件升级督办", "Case escalated"),
    "cases.case.triaged": (("centre",), "待人工分拣案件", "Case waiting in triage"),
    "cases.case.returned": (("centre",), "部门退回案件，需重新派遣", "Case returned: route it again"),
    "cases.case.resolved": (("centre",), "案件已处置，待核查", "Case resolved: verify it"),
    "cases.case.suspension_requested": (("centre",), "挂起申请待审批", "Suspension request to approve"),
    "cases.case.extension_requested": (("centre",), "延期申请待审批", "Extension request to approve"),
}


def on_case_event(session: Session, event: Event, platform: Platform) -> None:
    """In-app inbox rows and channel deliveries for one case event (runs once per event: idempotent)."""
    p = event.payload
    rule = INBOX_RULES.get(event.type)
    if rule is not None:
        who, zh, en = rule
        recipients = {p.get("department_code") if r == "dept" else CENTRE for r in who} - {None}
        number = p.get("number") or p.get("token") or p.get("case_id")
        for recipient in sorted(recipients):  # type: ignore[type-var]
            session.add(
                Notification(
                    recipient=recipient,
                    case_id=p.get("case_id"),
                    kind=event.type,
                    title=f"{zh} / {en}",
                    body=f"{number}: {p.get('note') or ''}".strip(),
                    created_at=platform.clock.now(),
                )
            )
    dept = p.get("department_code")
    subs = session.scalars(select(Subscription).where(Subscription.active.is_(True))).all()
    for sub in subs:
        if sub.department_code and sub.department_code != dept:
            continue
        if not any(matches(pattern, event.type) for pattern in sub.events):
            continue
        session.add(
            Delivery(
                subscription_id=sub.id,
                event_id=event.id,
                event_type=event.type,
                payload={"id": event.id, "type": event.type, "at": event.occurred_at.isoformat(), "data": p},
                status="pending",
                attempts=0,
                next_attempt_at=platform.clock.now(),
            )
        )


def subscribe(platform: Platform) -> None:
    handler = idempotent(
        platform.db,
        platform.clock,
        "cases.notify",
        lambda session, event: on_case_event(session, event, platform),
    )
    patterns = platform.caches.setdefault(PATTERNS_KEY, _SubscriptionPatterns(platform))

    def maybe(event: Event) -> None:
        # Most events (reported, registered, accepted...) notify nobody: skip them without a transaction.
        if event.type in INBOX_RULES or patterns.wanted(event.type):
            handler(event)

    platform.bus.subscribe("cases.case.>", "cases.notify", maybe)
    # Webhook subscribers may also follow sensing alarms (pattern sensing.alarm.>): same deliveries, retries.
    platform.bus.subscribe("sensing.alarm.>", "cases.notify.alarms", maybe)


PATTERNS_KEY = "cases.subscription_patterns"
WAKE_KEY = "cases.deliveries_wake"  # set to send queued messages now instead of at the next sweep


def subscriptions_changed(platform: Platform) -> None:
    """A subscription was added here: read the patterns afresh on the next event (other processes: within 2 s)."""
    patterns = platform.caches.get(PATTERNS_KEY)
    if patterns is not None:
        patterns.expire()


class _SubscriptionPatterns:
    """The event patterns of active subscriptions, re-read every few seconds."""

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


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class Sender:
    """The channel adapters. Each raises on failure, so the worker can retry."""

    def __init__(self, platform: Platform, client: httpx.Client | None = None) -> None:
        self.platform = platform
        self.client = client or httpx.Client(timeout=5.0)

    def send(self, sub: Subscription, delivery: Delivery) -> None:
        getattr(self, f"_{sub.channel}")(sub, delivery)

    def _webhook(self, sub: Subscription, d: Delivery) -> None:
        body = json.dumps(d.payload, ensure_ascii=False, separators=(",", ":")).encode()
        r = self.client.post(
            sub.target,
            content=body,
            headers={
                "Content-Type": "application/json",
                "X-UrbanBrain-Event": d.event_type,
                "X-UrbanBrain-Delivery": d.event_id,
                "X-UrbanBrain-Signature": sign(sub.secret or "", body),
            },
        )
        if r.status_code >= 300:
            raise RuntimeError(f"webhook answered {r.status_code}")

    def _text(self, d: Delivery) -> str:
        data = d.payload.get("data", {})
        return f"[UrbanBrain] {d.event_type} {data.get('number') or data.get('case_id')} {data.get('note') or ''}".strip()

    def _email(self, sub: Subscription, d: Delivery) -> None:
        url = self.platform.settings.smtp_url
        if not url:
            raise RuntimeError("e-mail is not configured (URBANBRAIN_SMTP_URL)")
        parts = urlsplit(url)
        msg = EmailMessage()
        msg["From"], msg["To"], msg["Subject"] = self.platform.settings.smtp_from, sub.target, d.event_type
        msg.set_content(self._text(d))
        with smtplib.SMTP(parts.hostname or "localhost", parts.port or 25, timeout=10) as smtp:
            smtp.send_message(msg)

    def _sms(self, sub: Subscription, d: Delivery) -> None:
        url = self.platform.settings.sms_gateway_url
        if not url:
            raise RuntimeError("SMS is not configured (URBANBRAIN_SMS_GATEWAY_URL)")
        r = self.client.post(url, json={"to": sub.target, "text": self._text(d)})
        if r.status_code >= 300:
            raise RuntimeError(f"SMS gateway answered {r.status_code}")


def _direct(platform: Platform, d: Delivery) -> Subscription:
    """A message to one person: a subscription of one, never stored (its target is unsealed only here)."""
    return Subscription(channel=d.channel, target=platform.protector.open(d.target) or "", active=True)


def queue_direct(
    session: Session,
    platform: Platform,
    *,
    channel: str,
    target: str,
    event_id: str,
    event_type: str,
    data: dict[str, Any],
) -> None:
    """Queue one message to one person (sms | email | webhook); the worker sends it and retries. One plain
    INSERT: an IoT alarm's transaction, which queues the owner's SMS, is on the command centre's clock."""
    now = platform.clock.now()
    row = {
        "subscription_id": None, "channel": channel, "target": platform.protector.seal(target),
        "event_id": event_id, "event_type": event_type,
        "payload": {"id": event_id, "type": event_type, "at": now.isoformat(), "data": data},
        "status": "pending", "attempts": 0, "next_attempt_at": now, "last_error": None, "sent_at": None,
    }  # fmt: skip
    session.execute(Delivery.__table__.insert(), row)  # type: ignore[attr-defined]
    wake = platform.caches.get(WAKE_KEY)
    if wake is not None:
        session.info.setdefault("after_commit", []).append(wake.set)


def deliver_due(platform: Platform, sender: Sender, limit: int = 200) -> dict[str, int]:
    """Send every pending delivery whose time has come; failures wait 30 s, 1 min, 2 min, ... then give up.

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
    return counts


class Worker:
    """Background loop for the server: SLA sweep and deliveries every ``interval`` seconds."""

    def __init__(self, platform: Platform, interval: float = 5.0) -> None:
        self.platform, self.interval = platform, interval
        self.sender = Sender(platform)
        self._stop = threading.Event()
        self._wake = platform.caches.setdefault(WAKE_KEY, threading.Event())
        self._thread = threading.Thread(target=self._run, name="cases-worker", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        from urbanbrain.domains.cases.actions import sla_sweep

        while not self._stop.is_set():
            # A queued message to a person wakes the worker at once; otherwise it sweeps every interval.
            self._wake.wait(self.interval)
            self._wake.clear()
            if self._stop.is_set():
                return
            try:
                with self.platform.db.session() as session:
                    sla_sweep(session, self.platform)
                deliver_due(self.platform, self.sender)
            except Exception:  # keep sweeping; the database may be briefly unavailable
                log.exception("cases worker")

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
