"""Notifications, one service for every domain: the in-app inbox of departments and of the command centre,
messages to one person (SMS, e-mail), and subscriptions that follow events by pattern (signed webhooks,
e-mail, SMS). A domain decides who hears what and calls :func:`inbox` or :func:`queue_message` in its own
transaction; the delivery worker sends what is queued and retries with backoff.
"""

from urbanbrain.core.notify.deliveries import DeliveryWorker, deliver_due
from urbanbrain.core.notify.inboxes import CENTRE, inbox, mark_read, unread_count
from urbanbrain.core.notify.messages import queue_message
from urbanbrain.core.notify.senders import Sender, sign
from urbanbrain.core.notify.subscriptions import do_add_subscription, follow_events, subscriptions_changed

__all__ = [
    "CENTRE",
    "DeliveryWorker",
    "Sender",
    "deliver_due",
    "do_add_subscription",
    "follow_events",
    "inbox",
    "mark_read",
    "queue_message",
    "sign",
    "subscriptions_changed",
    "unread_count",
]
