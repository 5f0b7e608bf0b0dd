"""What the linkage app hears on the bus: raised alarms. A crowd warning at a plan's auto-start level starts
that plan for its zone (once per zone while open; a higher warning raises the level). Idempotent: a
redelivered alarm changes nothing."""

from __future__ import annotations

from sqlalchemy.orm import Session

from urbanbrain.apps.linkage import actions
from urbanbrain.core.bus import Event
from urbanbrain.core.bus.consumers import idempotent
from urbanbrain.core.context import Platform

CONSUMER = "linkage.alarms"


def wants(event: Event) -> bool:
    """Only alarms of a type a plan may answer (``crowd.*``); the plan decides on the level."""
    return "." in str(event.payload.get("alarm_type") or "")


def subscribe(platform: Platform) -> None:
    def answer(session: Session, event: Event) -> None:
        actions.do_answer_alarm(session, platform, event.payload)

    handler = idempotent(platform.db, platform.clock, CONSUMER, answer)
    platform.bus.subscribe("sensing.alarm.raised", CONSUMER, handler, accept=wants)
