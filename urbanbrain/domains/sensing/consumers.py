"""What the sensing domain hears on the bus: the case opened for one of its alarms (the cases domain names the
alarm in the case's ``source_ref``), which the alarm then shows."""

from __future__ import annotations

from sqlalchemy.orm import Session

from urbanbrain.core.actions import snapshot
from urbanbrain.core.bus import Event
from urbanbrain.core.bus.consumers import idempotent
from urbanbrain.core.context import Platform
from urbanbrain.domains.sensing import alarms, events
from urbanbrain.domains.sensing.models import Alarm

ALARM_PREFIX = "sensing.alarm:"


def _about_an_alarm(event: Event) -> bool:
    return str(event.payload.get("source_ref") or "").startswith(ALARM_PREFIX)


def case_opened(session: Session, event: Event, platform: Platform) -> None:
    """Note the case's number on its alarm (``sensing.alarm.case_opened``)."""
    ref = str(event.payload["source_ref"])[len(ALARM_PREFIX) :]
    alarm = session.get(Alarm, int(ref)) if ref.isdigit() else None
    if alarm is None or alarm.case_number is not None:
        return
    before = snapshot(alarm)
    alarm.case_number = event.payload.get("number") or str(event.payload.get("case_id"))
    session.flush()
    alarms.audit(session, platform, alarm, before, "sensing.alarm.case", events.ALARM_CASE_OPENED)


def subscribe(platform: Platform) -> None:
    handler = idempotent(
        platform.db, platform.clock, "sensing.cases", lambda s, e: case_opened(s, e, platform)
    )
    platform.bus.subscribe("cases.case.registered", "sensing.cases", handler, accept=_about_an_alarm)
