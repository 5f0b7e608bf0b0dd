"""Alarms from the rules engine: a raise opens an alarm (or counts on the open one), a clear closes it. An
alarm at or above the notify level tells the building owner (SMS), the community work station and the
command centre (inbox) in the transaction that records it.

Each change is an event (``sensing.alarm.raised`` ...): the command centre's live feed shows it, and the
cases domain opens a case for a raise at the case level of a rule with a case class (it consumes the event;
nothing here knows about cases). Applying the same transitions twice changes nothing: after a crash the
journal replays readings already seen, and the engine raises the same alarms at the same event times again.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Table, bindparam, or_, select
from sqlalchemy.orm import Session

from urbanbrain.core import notify
from urbanbrain.core.actions import record, snapshot
from urbanbrain.core.auth.principal import SYSTEM
from urbanbrain.core.context import Platform
from urbanbrain.core.levels import NAMES_ZH as LEVEL_NAMES
from urbanbrain.core.levels import at_least
from urbanbrain.domains.sensing import events
from urbanbrain.domains.sensing.engine import Transition
from urbanbrain.domains.sensing.models import Alarm

ALARMS: Table = Alarm.__table__  # type: ignore[assignment]
COLUMNS = [c.key for c in ALARMS.columns if c.key != "id"]
# Built once: a raise is on the command centre's clock, and building a statement costs more than running it.
FIND = select(ALARMS.c.id, ALARMS.c.status, ALARMS.c.last_event_at).where(
    ALARMS.c.origin == bindparam("origin"),
    ALARMS.c.alarm_type == bindparam("alarm_type"),
    # the open alarm, or this very raise recorded before (the journal replayed it)
    or_(ALARMS.c.status != "cleared", ALARMS.c.event_at == bindparam("event_at")),
)
INSERT = ALARMS.insert().returning(ALARMS.c.id)
COUNT_AGAIN = (  # raised again while open: one alarm, counted
    ALARMS.update()
    .where(ALARMS.c.id == bindparam("alarm_id"))
    .values(count=ALARMS.c.count + 1, last_event_at=bindparam("seen_at"), value=bindparam("new_value"))
)


@dataclass(frozen=True)
class Place:
    """Where an alarm's origin is and who answers for it."""

    building_code: str | None
    community_code: str | None
    lon: float | None
    lat: float | None
    owner_name: str | None = None
    owner_phone: str | None = None  # sealed
    address: str | None = None


def at(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def alarm_payload(alarm: Alarm) -> dict[str, Any]:
    """The alarm as events and the live stream carry it."""
    return {
        "alarm_id": alarm.id,
        "origin": alarm.origin,
        "scope": alarm.scope,
        "alarm_type": alarm.alarm_type,
        "rule_code": alarm.rule_code,
        "severity": alarm.severity,
        "level": alarm.level,
        "status": alarm.status,
        "building_code": alarm.building_code,
        "community_code": alarm.community_code,
        "lon": alarm.lon,
        "lat": alarm.lat,
        "measurement": alarm.measurement,
        "value": alarm.value,
        "detail": alarm.detail or {},  # what the rule saw (a crowd warning: its zone, forecast and lead)
        "count": alarm.count,
        "event_at": alarm.event_at.isoformat(),
        "raised_at": alarm.raised_at.isoformat(),
        "cleared_at": alarm.cleared_at.isoformat() if alarm.cleared_at else None,
        "case_number": alarm.case_number,
    }


def apply(
    session: Session,
    platform: Platform,
    transitions: list[Transition],
    places: dict[str, Place],
    case_categories: dict[str, str | None],
    descriptions: dict[str, str] | None = None,
) -> Counter[str]:
    """Record the transitions; returns how many alarms were raised, by warning level. A raise's event carries
    the rule's case class, its description and the alarm's address, for the domain that opens cases."""
    raised: Counter[str] = Counter()
    for t in transitions:
        place = places.get(t.device) or Place(t.group, None, None, None)
        if t.kind == "raise":
            extra = {
                "case_category": case_categories.get(t.rule_code),
                "rule_description": (descriptions or {}).get(t.rule_code) or None,
                "address": place.address or place.building_code,
            }
            if _raise(session, platform, t, place, extra) is not None:
                raised[t.level] += 1
        else:
            _clear(session, platform, t)
    return raised


def count_raised(platform: Platform, raised: Counter[str]) -> None:
    """Add what :func:`apply` raised to ``urbanbrain_alarms_raised_total{level}``; call it once committed."""
    if not raised:
        return
    counter = platform.metrics.counter(
        "urbanbrain_alarms_raised_total", "Alarms raised, by warning level", ["level"]
    )
    for level, n in raised.items():
        counter.labels(level).inc(n)


def _open(session: Session, origin: str, alarm_type: str) -> Alarm | None:
    return session.scalar(
        select(Alarm).where(Alarm.origin == origin, Alarm.alarm_type == alarm_type, Alarm.status != "cleared")
    )


def _raise(
    session: Session, platform: Platform, t: Transition, place: Place, extra: dict[str, Any]
) -> Alarm | None:
    """A new alarm, or a count on the open one, or nothing for a replayed raise.

    This is the command centre's wait between a reading and its alarm on the live stream, so it is written
    with prebuilt plain statements (one query, one INSERT per table) rather than through the ORM's unit of
    work (benchmarks/alarm_transaction.py)."""
    event_at = at(t.event_ts)
    found = session.execute(
        FIND, {"origin": t.device, "alarm_type": t.alarm_type, "event_at": event_at}
    ).all()
    open_row = next((r for r in found if r.status != "cleared"), None)
    if open_row is not None:
        if event_at > open_row.last_event_at:  # raised again while open: count it, keep one alarm
            session.execute(COUNT_AGAIN, {"alarm_id": open_row.id, "seen_at": event_at, "new_value": t.value})
        return None
    if found:  # this very raise is already recorded (the journal replayed it after a crash)
        return None
    alarm = Alarm(
        origin=t.device,
        scope=t.scope,
        alarm_type=t.alarm_type,
        rule_code=t.rule_code,
        severity=t.severity,
        level=t.level,
        status="active",
        building_code=place.building_code,
        community_code=place.community_code,
        lon=place.lon,
        lat=place.lat,
        measurement=t.measurement,
        value=t.value,
        detail=_plain(t.detail),
        count=1,
        event_at=event_at,
        raised_at=platform.clock.now(),
        last_event_at=event_at,
        version=1,
    )  # not added to the session: the INSERT below writes it, and the object is what the payloads read
    alarm.id = session.execute(INSERT, {k: getattr(alarm, k) for k in COLUMNS}).scalar_one()
    audit(session, platform, alarm, None, "sensing.alarm.raise", events.ALARM_RAISED, extra)
    if at_least(t.level, platform.settings.sensing_notify_level):
        _notify(session, platform, alarm, place)
    return alarm


def _clear(session: Session, platform: Platform, t: Transition) -> Alarm | None:
    alarm = _open(session, t.device, t.alarm_type)
    if alarm is None or alarm.rule_code != t.rule_code:
        return None
    before = snapshot(alarm)
    alarm.status, alarm.cleared_event_at = "cleared", at(t.event_ts)
    alarm.cleared_at, alarm.cleared_by = platform.clock.now(), f"rule:{t.rule_code}"
    session.flush()  # the mapper raises the version
    audit(session, platform, alarm, before, "sensing.alarm.clear", events.ALARM_CLEARED)
    return alarm


def audit(
    session: Session,
    platform: Platform,
    alarm: Alarm,
    before: dict[str, Any] | None,
    action: str,
    event: str,
    extra: dict[str, Any] | None = None,
) -> None:
    """The audit row and the event of a change the platform itself made to an alarm."""
    record(
        session, platform.clock, SYSTEM,
        action=action, entity_type="alarm", entity_id=alarm.id,
        before=before, after=snapshot(alarm), event=event, payload={**alarm_payload(alarm), **(extra or {})},
    )  # fmt: skip


def _describe(alarm: Alarm) -> str:
    where = alarm.building_code or alarm.origin
    value = f"，读数 {alarm.value:g}" if alarm.value is not None else ""
    return (
        f"物联感知{LEVEL_NAMES.get(alarm.level, alarm.level)}预警：{where} {alarm.alarm_type}{value}"
        f"（设备/楼栋 {alarm.origin}，规则 {alarm.rule_code}，事件时间 {alarm.event_at.isoformat()}）"
    )


def _notify(session: Session, platform: Platform, alarm: Alarm, place: Place) -> None:
    """The community work station and the command centre in their inboxes, the owner by SMS, at once."""
    title = f"{LEVEL_NAMES.get(alarm.level, alarm.level)}预警 / {alarm.level} warning: {alarm.alarm_type}"
    body = _describe(alarm)
    recipients = [notify.CENTRE] + ([f"station-{place.community_code}"] if place.community_code else [])
    notify.inbox(
        session, platform.clock, recipients=recipients, kind=events.ALARM_RAISED, title=title, body=body,
        subject=("alarm", alarm.id),
    )  # fmt: skip
    phone = platform.protector.open(place.owner_phone) if place.owner_phone else None
    if phone:
        notify.queue_message(
            session, platform, channel="sms", target=phone, event_id=f"alarm-{alarm.id}",
            event_type=events.ALARM_RAISED, data={**alarm_payload(alarm), "note": body},
        )  # fmt: skip


def _plain(detail: dict[str, Any]) -> dict[str, Any]:
    """Engine details hold numpy numbers and tuples; the JSON column wants plain ones."""
    out: dict[str, Any] = {}
    for k, v in detail.items():
        if isinstance(v, dict):
            out[k] = _plain(v)
        elif isinstance(v, list | tuple):
            out[k] = [
                _plain(x) if isinstance(x, dict) else (x.item() if hasattr(x, "item") else x) for x in v
            ]
        else:
            out[k] = v.item() if hasattr(v, "item") else v
    return out


def close_dropped(session: Session, platform: Platform, dropped: list[tuple[str, str]]) -> int:
    """Alarms raised under a rule that changed or went: cleared (audited, announced), since nothing watches
    them any more."""
    closed = 0
    now = platform.clock.now()
    for rule_code, origin in dropped:
        rows = session.scalars(
            select(Alarm).where(
                Alarm.rule_code == rule_code, Alarm.origin == origin, Alarm.status != "cleared"
            )
        ).all()
        for alarm in rows:
            before = snapshot(alarm)
            alarm.status, alarm.cleared_at, alarm.cleared_by = "cleared", now, f"rule:{rule_code} changed"
            session.flush()  # the mapper raises the version
            audit(session, platform, alarm, before, "sensing.alarm.clear", events.ALARM_CLEARED)
            closed += 1
    return closed
