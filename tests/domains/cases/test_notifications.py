"""Notifications: the in-app inbox, and webhooks with a signature and retries, against a real HTTP server."""

import hashlib
import hmac
import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from urbanbrain.core.notify import Sender, deliver_due


class Receiver:
    """A local webhook endpoint that fails the first ``fail`` calls, then accepts."""

    def __init__(self, fail: int = 0) -> None:
        self.calls: list[tuple[dict[str, str], bytes]] = []
        self.fail = fail
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.calls.append((dict(self.headers), body))
                ok = len(outer.calls) > outer.fail
                self.send_response(204 if ok else 503)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                return

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()


@pytest.fixture
def receiver():
    r = Receiver(fail=2)
    yield r
    r.close()


def test_department_inbox_gets_new_cases(desk):
    case = desk.report(category_code="E0101")
    desk.platform.relay.flush()
    inbox = desk.client.get("/api/v1/notifications", headers=desk.heads["urban"]).json()
    assert [n["kind"] for n in inbox] == ["cases.case.dispatched"]
    assert case["number"] in inbox[0]["body"] and inbox[0]["case_id"] == case["id"]
    assert (inbox[0]["subject_type"], inbox[0]["subject_id"]) == ("case", str(case["id"]))
    r = desk.client.post(f"/api/v1/notifications/{inbox[0]['id']}/read", headers=desk.heads["urban"])
    assert r.status_code == 200
    assert desk.client.get("/api/v1/notifications", headers=desk.heads["urban"]).json() == []
    r = desk.client.post(f"/api/v1/notifications/{inbox[0]['id']}/read", headers=desk.heads["water"])
    assert r.status_code == 404


def test_the_old_inbox_and_subscription_paths_redirect_to_the_new_ones(desk):
    desk.report(category_code="E0101")
    desk.platform.relay.flush()
    r = desk.client.get("/api/v1/cases/notifications?unread=false", headers=desk.heads["urban"],
                        follow_redirects=False)  # fmt: skip
    assert r.status_code == 308 and r.headers["location"] == "/api/v1/notifications?unread=false"
    followed = desk.client.get("/api/v1/cases/notifications", headers=desk.heads["urban"]).json()
    assert [n["kind"] for n in followed] == ["cases.case.dispatched"]
    body = {"channel": "sms", "target": "13800000000", "events": ["cases.case.closed"]}
    r = desk.client.post("/api/v1/notifications/subscriptions", headers=desk.heads["admin"], json=body)
    assert r.status_code == 201 and r.json()["channel"] == "sms"


def test_signed_webhook_is_retried_with_backoff_until_delivered(desk, receiver):
    r = desk.client.post(
        "/api/v1/notifications/subscriptions",
        headers=desk.heads["admin"],
        json={
            "channel": "webhook",
            "target": receiver.url,
            "events": ["cases.case.dispatched"],
            "department_code": "urban_management",
        },
    )
    assert r.status_code == 201, r.text
    secret = r.json()["secret"]
    case = desk.report(category_code="E0101")
    desk.report(category_code="E0103")  # water's case: filtered out by the department
    desk.platform.relay.flush()
    sender = Sender(desk.platform)
    assert deliver_due(desk.platform, sender) == {"sent": 0, "retry": 1, "failed": 0}
    assert deliver_due(desk.platform, sender) == {"sent": 0, "retry": 0, "failed": 0}  # waits 30 s
    desk.platform.clock.advance(timedelta(seconds=30))
    assert deliver_due(desk.platform, sender) == {"sent": 0, "retry": 1, "failed": 0}
    desk.platform.clock.advance(timedelta(seconds=59))
    assert deliver_due(desk.platform, sender)["retry"] == 0  # the second wait is a minute
    desk.platform.clock.advance(timedelta(seconds=1))
    assert deliver_due(desk.platform, sender) == {"sent": 1, "retry": 0, "failed": 0}
    headers, body = receiver.calls[-1]
    assert len(receiver.calls) == 3
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    assert headers["X-UrbanBrain-Signature"] == expected
    payload = json.loads(body)
    assert payload["type"] == "cases.case.dispatched" and payload["data"]["number"] == case["number"]
    # A redelivered bus event does not send twice.
    desk.platform.relay.flush()
    assert deliver_due(desk.platform, sender)["sent"] == 0


def test_email_and_sms_need_their_gateway(desk):
    r = desk.client.post(
        "/api/v1/notifications/subscriptions",
        headers=desk.heads["admin"],
        json={"channel": "sms", "target": "13800000000", "events": ["cases.case.sla_breached"]},
    )
    assert r.status_code == 201
    case = desk.report(category_code="E0101")
    desk.platform.clock.advance(timedelta(hours=13))
    from urbanbrain.domains.cases.actions import sla_sweep

    with desk.platform.db.session() as s:
        sla_sweep(s, desk.platform)
    desk.platform.relay.flush()
    result = deliver_due(desk.platform, Sender(desk.platform))
    assert result == {"sent": 0, "retry": 1, "failed": 0}  # no URBANBRAIN_SMS_GATEWAY_URL: kept, retried
    assert case["number"]
