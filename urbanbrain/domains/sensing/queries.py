"""Every read of the sensing domain: devices with their latest values, rules, alarms, dead letters, the
readings history from the lake, and the state of each building's devices (for maps)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, case, func, select
from sqlalchemy.orm import Session

from urbanbrain.core.auth.principal import Principal
from urbanbrain.core.context import Platform
from urbanbrain.core.protect import mask_name, mask_phone
from urbanbrain.domains.sensing.engine import LEVELS
from urbanbrain.domains.sensing.lake import Lake
from urbanbrain.domains.sensing.models import Alarm, DeadLetter, Device, DeviceType, Latest, Rule


def device_type_public(t: DeviceType) -> dict[str, Any]:
    return {"code": t.code, "name_zh": t.name_zh, "name_en": t.name_en, "measurements": t.measurements,
            "version": t.version}  # fmt: skip


def list_device_types(session: Session) -> list[dict[str, Any]]:
    return [device_type_public(t) for t in session.scalars(select(DeviceType).order_by(DeviceType.code))]


def latest_of(session: Session, device_ids: list[str]) -> dict[str, dict[str, dict[str, Any]]]:
    out: dict[str, dict[str, dict[str, Any]]] = {}
    if not device_ids:
        return out
    for row in session.scalars(select(Latest).where(Latest.device_id.in_(device_ids))):
        out.setdefault(row.device_id, {})[row.measurement] = {
            "value": row.value,
            "ts": datetime.fromtimestamp(row.ts, UTC),
        }
    return out


def device_public(
    platform: Platform, principal: Principal, d: Device, latest: dict[str, dict[str, Any]] | None = None
) -> dict[str, Any]:
    # The owner's name and phone are personal data: masked as residents' are, unless the reader may see them.
    phone, name = platform.protector.open(d.owner_phone), d.owner_name
    if not principal.can("registry.pii.read"):
        phone, name = mask_phone(phone), mask_name(name)
    return {
        "device_id": d.device_id,
        "type_code": d.type_code,
        "name": d.name,
        "building_code": d.building_code,
        "venue_code": d.venue_code,
        "partition_group": d.partition_group,
        "lon": d.lon,
        "lat": d.lat,
        "street_code": d.street_code,
        "community_code": d.community_code,
        "owner_name": name,
        "owner_phone": phone,
        "status": d.status,
        "version": d.version,
        "latest": latest or {},
    }


def devices_stmt(
    *, building: str | None = None, community: str | None = None, type_code: str | None = None
) -> Select[Any]:
    stmt = select(Device)
    if building:
        stmt = stmt.where(Device.building_code == building)
    if community:
        stmt = stmt.where(Device.community_code == community)
    if type_code:
        stmt = stmt.where(Device.type_code == type_code)
    return stmt


def device_ids(session: Session) -> set[str]:
    """Every provisioned device's id."""
    return set(session.scalars(select(Device.device_id)))


def device_count(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(Device)) or 0)


def rule_codes(session: Session) -> set[str]:
    return set(session.scalars(select(Rule.code)))


def rule_public(r: Rule) -> dict[str, Any]:
    return {"code": r.code, "spec": r.spec, "description": r.description, "case_category": r.case_category,
            "active": r.active, "version": r.version}  # fmt: skip


def list_rules(session: Session) -> list[dict[str, Any]]:
    return [rule_public(r) for r in session.scalars(select(Rule).order_by(Rule.code))]


def alarms_stmt(
    *,
    status: str | None = None,
    open_only: bool = False,
    level: str | None = None,
    building: str | None = None,
    community: str | None = None,
    origin: str | None = None,
    origin_prefix: str | None = None,
) -> Select[Any]:
    stmt = select(Alarm)
    if open_only:
        stmt = stmt.where(Alarm.status != "cleared")
    if status:
        stmt = stmt.where(Alarm.status == status)
    if level:
        stmt = stmt.where(Alarm.level.in_(LEVELS[LEVELS.index(level) :]))
    if building:
        stmt = stmt.where(Alarm.building_code == building)
    if community:
        stmt = stmt.where(Alarm.community_code == community)
    if origin:
        stmt = stmt.where(Alarm.origin == origin)
    if origin_prefix:  # another domain's alarms, e.g. ``crowd:``
        stmt = stmt.where(Alarm.origin.startswith(origin_prefix, autoescape=True))
    return stmt


def dead_letters_stmt(*, reason: str | None = None, device: str | None = None) -> Select[Any]:
    stmt = select(DeadLetter)
    if reason:
        stmt = stmt.where(DeadLetter.reason == reason)
    if device:
        stmt = stmt.where(DeadLetter.device_id == device)
    return stmt


def history(
    lake: Lake, device_id: str, measurement: str, since: datetime, until: datetime, per_minute: bool
) -> list[dict[str, Any]]:
    """A device's readings (or per-minute rollups) from the lake, oldest first (times UTC)."""
    lo, hi = since.astimezone(UTC).replace(tzinfo=None), until.astimezone(UTC).replace(tzinfo=None)
    cols: tuple[str, ...]
    if per_minute:
        sql = (
            "SELECT minute, count, min, max, avg FROM rollup_1m WHERE device_id = ? AND measurement = ? "
            "AND minute >= ? AND minute < ? ORDER BY minute"
        )
        cols = ("minute", "count", "min", "max", "avg")
    else:
        sql = (
            "SELECT ts, value, message_id FROM readings WHERE device_id = ? AND measurement = ? "
            "AND ts >= ? AND ts < ? ORDER BY ts"
        )
        cols = ("ts", "value", "message_id")
    rows = lake.query(sql, [device_id, measurement, lo, hi])
    return [
        {k: (v.replace(tzinfo=UTC) if isinstance(v, datetime) else v) for k, v in zip(cols, r, strict=True)}
        for r in rows
    ]


def building_status(session: Session, building_codes: list[str] | None = None) -> dict[str, dict[str, Any]]:
    """Per building: how many devices, how many open alarms, the highest open warning level (for maps)."""
    rank = case({lvl: i for i, lvl in enumerate(LEVELS)}, value=Alarm.level, else_=-1)
    dev = select(Device.building_code, func.count()).group_by(Device.building_code)
    alarm = (
        select(Alarm.building_code, func.count(), func.max(rank))
        .where(Alarm.status != "cleared")
        .group_by(Alarm.building_code)
    )
    if building_codes is not None:
        dev = dev.where(Device.building_code.in_(building_codes))
        alarm = alarm.where(Alarm.building_code.in_(building_codes))
    out: dict[str, dict[str, Any]] = {}
    for code, n in session.execute(dev):
        if code:
            out[code] = {"devices": n, "open_alarms": 0, "level": None}
    for code, n, top in session.execute(alarm):
        if code:
            entry = out.setdefault(code, {"devices": 0, "open_alarms": 0, "level": None})
            entry["open_alarms"] = n
            entry["level"] = LEVELS[top] if top is not None and top >= 0 else None
    return out


def alarm_counts(session: Session) -> dict[str, Any]:
    """Open alarms by level and by type, and alarms raised in total."""
    by_level = dict(
        session.execute(
            select(Alarm.level, func.count()).where(Alarm.status != "cleared").group_by(Alarm.level)
        ).all()
    )
    by_type = dict(
        session.execute(
            select(Alarm.alarm_type, func.count()).where(Alarm.status != "cleared").group_by(Alarm.alarm_type)
        ).all()
    )
    total = session.scalar(select(func.count()).select_from(Alarm)) or 0
    return {"open_by_level": by_level, "open_by_type": by_type, "raised_total": total}


# --- the map's compact layers ------------------------------------------------------------------------------

DEVICE_STATES = ("online", "silent", "alarm", "disabled")
SILENT_AFTER_S = 30 * 60  # no reading for half an hour: drawn as silent (the absence rules say when to alarm)


def device_map(session: Session, now: datetime) -> dict[str, Any]:
    """Every located device as one short row ``[lon, lat, state, type, device_id, building_code]`` (state and
    type as indexes into ``states`` and ``types``): 50,000 devices are ~2.5 MB of JSON this way rather than
    ~40 MB as GeoJSON features with every property, and the map draws them in one WebGL layer."""
    last_seen = dict(
        session.execute(select(Latest.device_id, func.max(Latest.ts)).group_by(Latest.device_id)).all()
    )
    open_origins = set(session.scalars(select(Alarm.origin).where(Alarm.status != "cleared").distinct()))
    types: dict[str, int] = {}
    rows: list[list[Any]] = []
    stale = now.timestamp() - SILENT_AFTER_S
    cols = (Device.device_id, Device.type_code, Device.lon, Device.lat, Device.status, Device.building_code)
    for device_id, type_code, lon, lat, status, building in session.execute(
        select(*cols).where(Device.lon.is_not(None)).order_by(Device.id)
    ):
        if status != "active":
            state = 3
        elif device_id in open_origins or (building is not None and building in open_origins):
            state = 2  # its own alarm, or its building's group alarm (a confirmed fire)
        elif (last_seen.get(device_id) or 0.0) < stale:
            state = 1
        else:
            state = 0
        rows.append([round(lon or 0.0, 6), round(lat or 0.0, 6), state, types.setdefault(type_code, len(types)), device_id,
                     building])  # fmt: skip
    return {
        "as_of": now,
        "columns": ["lon", "lat", "state", "type", "device_id", "building_code"],
        "states": list(DEVICE_STATES),
        "types": list(types),
        "rows": rows,
    }


def alarm_timeline(session: Session, since: datetime, until: datetime, limit: int) -> list[dict[str, Any]]:
    """Every alarm open at some moment of [since, until], in event time (a replay puts each where its
    readings were): raised at ``event_at``, cleared at ``cleared_event_at`` (or when a person cleared it)."""
    cleared = func.coalesce(Alarm.cleared_event_at, Alarm.cleared_at)
    stmt = (
        select(Alarm)
        .where(Alarm.event_at <= until, (cleared.is_(None)) | (cleared >= since))
        .order_by(Alarm.event_at)
        .limit(limit)
    )
    return [
        {
            "id": a.id,
            "alarm_type": a.alarm_type,
            "level": a.level,
            "status": a.status,
            "origin": a.origin,
            "building_code": a.building_code,
            "lon": a.lon,
            "lat": a.lat,
            "raised_at": a.event_at,
            "acknowledged_at": a.acknowledged_at,
            "cleared_at": a.cleared_event_at or a.cleared_at,
            "case_number": a.case_number,
        }
        for a in session.scalars(stmt)
    ]


def device_types_of(session: Session, device_ids: list[str]) -> dict[str, str]:
    """The type code of each of these devices that exists (for domains that check their inputs)."""
    if not device_ids:
        return {}
    rows = session.execute(select(Device.device_id, Device.type_code).where(Device.device_id.in_(device_ids)))
    return {d: t for d, t in rows}


def device_locations(session: Session, device_ids: list[str]) -> dict[str, tuple[float, float]]:
    """Where each of these devices was installed (lon, lat), for those whose location is known."""
    if not device_ids:
        return {}
    rows = session.execute(
        select(Device.device_id, Device.lon, Device.lat).where(
            Device.device_id.in_(device_ids), Device.lon.is_not(None), Device.lat.is_not(None)
        )
    )
    return {d: (lon, lat) for d, lon, lat in rows if lon is not None and lat is not None}


def alarms_by_id(
    session: Session, ids: list[int] | None = None, *, after_id: int = 0, limit: int = 1000
) -> list[dict[str, Any]]:
    """Whole alarm rows as column dicts in id order, for bulk readers (the data hub's lake): the alarms of
    ``ids`` that exist, or without ``ids`` the next ``limit`` after ``after_id``."""
    table = Alarm.__table__
    stmt = select(table).order_by(table.c.id)
    if ids is not None:
        stmt = stmt.where(table.c.id.in_(ids))
    else:
        stmt = stmt.where(table.c.id > after_id).limit(limit)
    return [dict(r._mapping) for r in session.execute(stmt)]
