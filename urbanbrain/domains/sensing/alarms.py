"""Alarms from the rules engine: a raise opens an alarm (or counts on the open one), a clear closes it; an
alarm at or above the notify level tells the building owner (SMS), the community work station and the
command centre (inbox) in the transaction that records it, and one at or above the case level then opens a
case in the governance core.

The case comes in a second transaction (:func:`open_cases`), after the live stream has the alarm: opening a
case (classification, routing, registration) takes longer than everything else an alarm does, and the
command centre must not wait for it. An alarm left without its case by a crash between the two gets it when
the pipeline starts again (:func:`cases_missing`).

Applying the same transitions twice changes nothing: after a crash the journal replays readings already
seen, and the engine raises the same alarms at the same event times again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Table, bindparam, or_, select
from sqlalchemy.orm import Session

from urbanbrain.core.actions import record, snapshot
from urbanbrain.core.auth.principal import SYSTEM
from urbanbrain.core.context import Platform
from urbanbrain.core.errors import UrbanBrainError
from urbanbrain.domains.cases import actions as cases
from urbanbrain.domains.cases.schemas import CaseReport
from urbanbrain.domains.sensing import events
from urbanbrain.domains.sensing.actions import alarm_payload
from urbanbrain.domains.sensing.engine import LEVELS, Transition
from urbanbrain.domains.sensing.models import Alarm

CENTRE = "smart_city_office"
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
LEVEL_NAMES = {"blue": "蓝色", "yellow": "黄色", "orange": "橙色", "red": "红色"}


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


CaseDue = tuple[int, Place, str]  # alarm id, where, case category


def apply(
    session: Session,
    platform: Platform,
    transitions: list[Transition],
    places: dict[str, Place],
    case_categories: dict[str, str | None],
) -> tuple[list[dict[str, Any]], list[CaseDue]]:
    """Record the transitions; returns what the live stream should show (sent after commit) and the alarms
    that need a case (for :func:`open_cases`, after commit)."""
    shown: list[dict[str, Any]] = []
    due: list[CaseDue] = []
    for t in transitions:
        place = places.get(t.device) or Place(t.group, None, None, None)
        if t.kind == "raise":
            category = case_categories.get(t.rule_code)
            alarm = _raise(session, platform, t, place)
            if alarm is not None and category and _at_least(t.level, platform.settings.sensing_case_level):
                due.append((alarm.id, place, category))
        else:
            alarm = _clear(session, platform, t)
        if alarm is not None:
            shown.append({"event": "raised" if t.kind == "raise" else "cleared", **alarm_payload(alarm)})
    return shown, due


def open_cases(session: Session, platform: Platform, due: list[CaseDue]) -> list[dict[str, Any]]:
    """A case for each alarm of ``due`` that has none yet; returns what the live stream should show."""
    shown: list[dict[str, Any]] = []
    for alarm_id, place, category in due:
        alarm = session.get(Alarm, alarm_id)
        if alarm is None or alarm.case_number is not None:
            continue
        number = _open_case(session, platform, alarm, place, category)
        if number is None:
            continue
        before = snapshot(alarm)
        alarm.case_number, alarm.version = number, alarm.version + 1
        audit(session, platform, alarm, before, "sensing.alarm.case", events.ALARM_CASE_OPENED)
        shown.append({"event": "case_opened", **alarm_payload(alarm)})
    return shown


def cases_missing(
    session: Session, platform: Platform, places: dict[str, Place], case_categories: dict[str, str | None]
) -> list[CaseDue]:
    """Open alarms that should have a case and have none (the process stopped between the two steps)."""
    floor = platform.settings.sensing_case_level
    levels = [lvl for lvl in LEVELS if _at_least(lvl, floor)]
    rows = session.scalars(
        select(Alarm).where(Alarm.status != "cleared", Alarm.case_number.is_(None), Alarm.level.in_(levels))
    )
    out: list[CaseDue] = []
    for alarm in rows:
        category = case_categories.get(alarm.rule_code)
        if category:
            place = places.get(alarm.origin) or Place(
                alarm.building_code, alarm.community_code, alarm.lon, alarm.lat
            )
            out.append((alarm.id, place, category))
    return out


def _open(session: Session, origin: str, alarm_type: str) -> Alarm | None:
    return session.scalar(
        select(Alarm).where(Alarm.origin == origin, Alarm.alarm_type == alarm_type, Alarm.status != "cleared")
    )


def _raise(session: Session, platform: Platform, t: Transition, place: Place) -> Alarm | None:
    """A new alarm, or a count on the open one, or nothing for a replayed raise.

    This is the command centre's wait between a reading and its alarm on the live stream, so it is written
    with prebuilt plain statements (one query, one INSERT per table; the audit row and the event are written
    so by every action) rather than through the ORM's unit of work, which took about two thirds of the
    transaction's 2 ms."""
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
    audit(session, platform, alarm, None, "sensing.alarm.raise", events.ALARM_RAISED)
    if _at_least(t.level, platform.settings.sensing_notify_level):
        _notify(session, platform, alarm, place)
    return alarm


def _clear(session: Session, platform: Platform, t: Transition) -> Alarm | None:
    alarm = _open(session, t.device, t.alarm_type)
    if alarm is None or alarm.rule_code != t.rule_code:
        return None
    before = snapshot(alarm)
    alarm.status, alarm.cleared_event_at = "cleared", at(t.event_ts)
    alarm.cleared_at, alarm.cleared_by = platform.clock.now(), f"rule:{t.rule_code}"
    alarm.version += 1
    audit(session, platform, alarm, before, "sensing.alarm.clear", events.ALARM_CLEARED)
    return alarm


def audit(
    session: Session, platform: Platform, alarm: Alarm, before: dict[str, Any] | None, action: str, event: str
) -> None:
    """The audit row and the event of a change the platform itself made to an alarm."""
    record(
        session, platform.clock, SYSTEM,
        action=action, entity_type="alarm", entity_id=alarm.id,
        before=before, after=snapshot(alarm), event=event, payload=alarm_payload(alarm),
    )  # fmt: skip


def _at_least(level: str, floor: str) -> bool:
    return LEVELS.index(level) >= LEVELS.index(floor) if floor in LEVELS else False


def _describe(alarm: Alarm) -> str:
    where = alarm.building_code or alarm.origin
    value = f"，读数 {alarm.value:g}" if alarm.value is not None else ""
    return (
        f"物联感知{LEVEL_NAMES.get(alarm.level, alarm.level)}预警：{where} {alarm.alarm_type}{value}"
        f"（设备/楼栋 {alarm.origin}，规则 {alarm.rule_code}，事件时间 {alarm.event_at.isoformat()}）"
    )


def _open_case(session: Session, platform: Platform, alarm: Alarm, place: Place, category: str) -> str | None:
    """A case in the governance core, of the rule's class, at the alarm's place."""
    if place.lon is None or place.lat is None:
        return None
    report = CaseReport(
        description=_describe(alarm),
        source="sensor",
        category_code=category,
        lon=place.lon,
        lat=place.lat,
        address=place.address or place.building_code,
    )
    try:
        case = cases.do_report_case(session, platform, SYSTEM, report)
    except UrbanBrainError:  # e.g. a device placed outside the district: the alarm stands without a case
        return None
    return case.number or case.token


def _notify(session: Session, platform: Platform, alarm: Alarm, place: Place) -> None:
    """The community work station and the command centre in their inboxes, the owner by SMS, at once."""
    title = f"{LEVEL_NAMES.get(alarm.level, alarm.level)}预警 / {alarm.level} warning: {alarm.alarm_type}"
    body = _describe(alarm)
    recipients = [CENTRE] + ([f"station-{place.community_code}"] if place.community_code else [])
    cases.notify_inbox(
        session, platform, recipients=recipients, kind=events.ALARM_RAISED, title=title, body=body
    )
    phone = platform.protector.open(place.owner_phone) if place.owner_phone else None
    if phone:
        cases.queue_message(
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


def close_dropped(
    session: Session, platform: Platform, dropped: list[tuple[str, str]]
) -> list[dict[str, Any]]:
    """Alarms raised under a rule that changed or went: cleared (audited, announced), since nothing watches
    them any more."""
    shown = []
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
            alarm.version += 1
            audit(session, platform, alarm, before, "sensing.alarm.clear", events.ALARM_CLEARED)
            shown.append({"event": "cleared", **alarm_payload(alarm)})
    return shown
