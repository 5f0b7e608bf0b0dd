"""The delivery channels as small adapters: a signed webhook, e-mail over SMTP, SMS through an HTTP gateway.
Each raises on failure, so the worker can retry."""

from __future__ import annotations

import hashlib
import hmac
import json
import smtplib
from email.message import EmailMessage
from urllib.parse import urlsplit

import httpx

from urbanbrain.core.context import Platform
from urbanbrain.core.models import Delivery, Subscription


def sign(secret: str, body: bytes) -> str:
    """The ``X-UrbanBrain-Signature`` of a webhook body: HMAC-SHA256 with the subscription's secret."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class Sender:
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
        if d.payload.get("text"):
            return self.platform.protector.open(d.payload["text"]) or ""
        data = d.payload.get("data", {})
        subject = data.get("number") or data.get("case_id") or data.get("alarm_id") or ""
        return f"[UrbanBrain] {d.event_type} {subject} {data.get('note') or ''}".strip()

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
