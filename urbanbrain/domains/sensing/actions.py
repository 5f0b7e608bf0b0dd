"""Every write of the sensing domain: device types, devices (one by one or from CSV), alarm rules, and the
alarm lifecycle (active -> acknowledged -> cleared). Alarms raised by the rules engine come through
:mod:`urbanbrain.domains.sensing.alarms`; operators acknowledge and clear them here."""

from __future__ import annotations

import csv
import hashlib
import io
import re
import secrets
from collections import Counter
from collections.abc import Callable
from typing import Any

from pydantic import ValidationError
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from urbanbrain.core import codelists, entities
from urbanbrain.core.actions import record, snapshot
from urbanbrain.core.auth.principal import Principal
from urbanbrain.core.context import Platform
from urbanbrain.core.entities import EntityKind
from urbanbrain.core.errors import UrbanBrainError, register_messages
from urbanbrain.domains.registry import queries as registry
from urbanbrain.domains.sensing import alarms, events
from urbanbrain.domains.sensing.alarms import alarm_payload
from urbanbrain.domains.sensing.engine import RuleSpec
from urbanbrain.domains.sensing.engine.specs import check_rule_set
from urbanbrain.domains.sensing.models import Alarm, Device, DeviceType, Rule
from urbanbrain.domains.sensing.schemas import (
    CODE,
    AlarmChange,
    DeviceCreate,
    DeviceTypeCreate,
    DeviceUpdate,
    RuleCreate,
)

register_messages(
    {
        "sensing.busy": (
            429,
            "读数积压，请 {retry_after} 秒后重发同一批（已收到的不会重复入库）。",
            "Readings are backing up: resend the same batch in {retry_after} s (repeats are dropped).",
        ),
        "sensing.body_too_large": (
            413,
            "一批读数不能超过 {limit} 字节，请分批发送。",
            "A batch of readings may hold at most {limit} bytes: split it.",
        ),
        "sensing.unavailable": (
            503,
            "读数暂时无法落盘（{reason}），请稍后重发。",
            "Readings cannot be stored right now ({reason}); resend later.",
        ),
        "sensing.bad_device_key": (
            401,
            "设备密钥无效或设备已停用。",
            "The device key is wrong, or the device is disabled.",
        ),
        "sensing.unknown_type": (422, "没有设备类型 {code}。", "There is no device type {code}."),
        "sensing.unknown_building": (422, "没有编码为 {code} 的楼栋。", "No building has the code {code}."),
        "sensing.device_taken": (409, "设备编号 {device_id} 已存在。", "Device id {device_id} is taken."),
        "sensing.device_not_found": (404, "找不到设备 {device_id}。", "No device {device_id}."),
        "sensing.bad_group": (
            422,
            "分区组“{group}”无效：只能包含字母、数字和 . _ : -（最长 64 位）。",
            "The partition group “{group}” is not valid: letters, digits and . _ : - only, at most 64.",
        ),
        "sensing.location_required": (
            422,
            "设备需要楼栋编码或经纬度。",
            "A device needs a building code or a location (lon, lat).",
        ),
        "sensing.type_in_use": (
            409,
            "设备类型 {code} 仍有设备在用，不能去掉测量项 {names}。",
            "Devices of type {code} still report {names}: those measurements cannot be removed.",
        ),
        "sensing.bad_rule": (422, "告警规则有误：{reason}", "The alarm rule is wrong: {reason}"),
        "sensing.unknown_category": (422, "没有案件类别 {code}。", "There is no case class {code}."),
        "sensing.rule_not_found": (404, "找不到告警规则 {code}。", "No alarm rule {code}."),
        "sensing.alarm_not_found": (404, "找不到告警 {id}。", "No alarm {id}."),
        "sensing.alarm_closed": (
            409,
            "告警 {id} 已是 {status} 状态，不能再{action}。",
            "Alarm {id} is {status}: it cannot be {action} again.",
        ),
        "sensing.csv_invalid": (
            422,
            "CSV 第 {line} 行有误：{reason}（整批未导入）。",
            "CSV line {line}: {reason} (nothing was imported).",
        ),
    }
)

DEVICE_PROTECTED = ("owner_phone", "key_hash")
DEVICE = EntityKind("sensing", "device", key="device_id", protected=DEVICE_PROTECTED,
                    payload=lambda d: {"status": d.status}, verbs=("provisioned", "changed"))  # fmt: skip
CSV_COLUMNS = ("device_id", "device_type", "building_code", "lon", "lat", "owner_name", "owner_phone", "key")


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


# --- device types ----------------------------------------------------------------------------------------


def do_save_device_type(
    session: Session, platform: Platform, actor: Principal, data: DeviceTypeCreate
) -> DeviceType:
    """Create a device type or change its names and measurements (measurements in use stay)."""
    actor.require("sensing.devices.write")
    now = platform.clock.now()
    measurements = [m.model_dump() for m in data.measurements]
    row = session.get(DeviceType, data.code)
    before = snapshot(row) if row is not None else None
    if row is None:
        row = DeviceType(code=data.code, created_at=now)
        session.add(row)
    else:
        gone = {m["name"] for m in row.measurements} - {m["name"] for m in measurements}
        in_use = session.scalar(select(Device.id).where(Device.type_code == data.code).limit(1))
        if gone and in_use is not None:
            raise UrbanBrainError("sensing.type_in_use", code=data.code, names=", ".join(sorted(gone)))
    row.name_zh, row.name_en, row.measurements = data.name_zh, data.name_en, measurements
    row.updated_at = now
    session.flush()  # the mapper sets or raises the version
    record(
        session, platform.clock, actor,
        action="sensing.device_type.save", entity_type="device_type", entity_id=row.code,
        before=before, after=snapshot(row), event=events.DEVICE_TYPE_CHANGED, payload={"code": row.code},
    )  # fmt: skip
    return row


# --- devices ---------------------------------------------------------------------------------------------


def _place(session: Session, platform: Platform, data: DeviceCreate | DeviceUpdate) -> dict[str, Any]:
    """Location and areas from the building (its location unless the device gives its own)."""
    where: dict[str, Any] = {}
    if data.building_code:
        place = registry.building_place(session, data.building_code)
        if place is None:
            raise UrbanBrainError("sensing.unknown_building", code=data.building_code)
        where = {k: place[k] for k in ("lon", "lat", "street_code", "community_code")}
    if data.lon is not None and data.lat is not None:
        areas = registry.locate(platform, session, data.lon, data.lat)
        where = {"lon": data.lon, "lat": data.lat, "street_code": areas["street_code"],
                 "community_code": areas["community_code"]}  # fmt: skip
    return where


def do_provision_device(
    session: Session, platform: Platform, actor: Principal, data: DeviceCreate
) -> tuple[Device, str | None]:
    """A new device with its own key; returns the key when the platform made it (shown once)."""
    actor.require("sensing.devices.write")
    if session.get(DeviceType, data.type_code) is None:
        raise UrbanBrainError("sensing.unknown_type", code=data.type_code)
    if session.scalar(select(Device.id).where(Device.device_id == data.device_id)) is not None:
        raise UrbanBrainError("sensing.device_taken", device_id=data.device_id)
    where = _place(session, platform, data)
    if "lon" not in where:
        raise UrbanBrainError("sensing.location_required")
    made = None if data.key else secrets.token_urlsafe(24)
    now = platform.clock.now()
    device = Device(
        device_id=data.device_id,
        type_code=data.type_code,
        name=data.name,
        building_code=data.building_code,
        venue_code=data.venue_code,
        owner_name=data.owner_name,
        owner_phone=platform.protector.seal(data.owner_phone),
        key_hash=key_hash(data.key or made or ""),
        status="active",
        created_at=now,
        updated_at=now,
        **where,
    )
    session.add(device)
    session.flush()
    record(
        session, platform.clock, actor,
        action="sensing.device.provision", entity_type="device", entity_id=device.device_id,
        before=None, after=snapshot(device, protected=DEVICE_PROTECTED), event=events.DEVICE_PROVISIONED,
        payload={"device_id": device.device_id, "type_code": device.type_code,
                 "building_code": device.building_code},
    )  # fmt: skip
    return device, made


def get_device(session: Session, device_id: str) -> Device:
    device = session.scalar(select(Device).where(Device.device_id == device_id))
    if device is None:
        raise UrbanBrainError("sensing.device_not_found", device_id=device_id)
    return device


def do_update_device(
    session: Session, platform: Platform, actor: Principal, device_id: str, data: DeviceUpdate
) -> Device:
    actor.require("sensing.devices.write")
    device = get_device(session, device_id)
    changes = data.model_dump(exclude_unset=True, exclude={"version"})
    entities.refuse_nulls(device, changes)
    if "owner_phone" in changes:
        changes["owner_phone"] = platform.protector.seal(changes["owner_phone"])
    if data.building_code or (data.lon is not None and data.lat is not None):
        changes.update(_place(session, platform, data))
    return entities.update(session, platform.clock, actor, DEVICE, device, changes, version=data.version)  # type: ignore[no-any-return]


def do_group_devices(
    session: Session,
    platform: Platform,
    actor: Principal,
    group: str,
    device_ids: list[str],
    *,
    permission: str = "sensing.devices.write",
) -> dict[str, str | None]:
    """Make ``group`` the partition group of exactly these devices: each listed device takes it (leaving any
    group it had), and a device that had it but is not listed leaves it. Scaled out, the devices without a
    building then share a partition (ingest/partition.py); each change is audited and announced
    (``sensing.device.changed``) and raises the device's version, so every catalog takes it on its next
    look. ``permission`` is what entitles the actor: a domain grouping its own inputs (a crowd zone) names
    its own. Returns, for each device whose group changed, the group it had."""
    actor.require(permission)
    if not re.fullmatch(CODE, group):
        raise UrbanBrainError("sensing.bad_group", group=group[:80])
    wanted = set(device_ids)
    rows = session.scalars(
        select(Device)
        .where(or_(Device.device_id.in_(sorted(wanted)), Device.partition_group == group))
        .order_by(Device.device_id)
    ).all()
    missing = sorted(wanted - {d.device_id for d in rows})
    if missing:
        raise UrbanBrainError("sensing.device_not_found", device_id=missing[0])
    now = platform.clock.now()
    changed: list[tuple[Device, dict[str, Any]]] = []
    had: dict[str, str | None] = {}
    for device in rows:
        target = group if device.device_id in wanted else None
        if device.partition_group == target:
            continue
        changed.append((device, snapshot(device, protected=DEVICE_PROTECTED)))
        had[device.device_id] = device.partition_group
        device.partition_group, device.updated_at = target, now
    session.flush()  # the mapper raises each changed device's version: the catalogs' change mark moves
    for device, before in changed:
        record(
            session, platform.clock, actor,
            action="sensing.device.group", entity_type="device", entity_id=device.device_id,
            before=before, after=snapshot(device, protected=DEVICE_PROTECTED), event=events.DEVICE_CHANGED,
            payload={"device_id": device.device_id, "status": device.status},
        )  # fmt: skip
    return had


def do_rotate_device_key(session: Session, platform: Platform, actor: Principal, device_id: str) -> str:
    """A new key for a device (the old one stops working at once); returned once."""
    actor.require("sensing.devices.write")
    device = get_device(session, device_id)
    key = secrets.token_urlsafe(24)
    device.key_hash = key_hash(key)
    device.updated_at = platform.clock.now()
    session.flush()
    record(
        session, platform.clock, actor,
        action="sensing.device.rotate_key", entity_type="device", entity_id=device.device_id,
        before=None, after={"key": "<protected>"}, event=events.DEVICE_CHANGED,
        payload={"device_id": device.device_id, "status": device.status},
    )  # fmt: skip
    return key


def _csv_row(line: int, row: dict[str, str]) -> DeviceCreate:
    values: dict[str, Any] = {k: (row.get(k) or "").strip() or None for k in CSV_COLUMNS}
    values["type_code"] = values.pop("device_type")
    for k in ("lon", "lat"):
        if values[k] is not None:
            try:
                values[k] = float(values[k])
            except ValueError:
                raise UrbanBrainError(
                    "sensing.csv_invalid", line=line, reason=f"{k} is not a number"
                ) from None
    try:
        return DeviceCreate(**values)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()))
        raise UrbanBrainError("sensing.csv_invalid", line=line, reason=f"{where}: {first['msg']}") from None


def do_import_devices(session: Session, platform: Platform, actor: Principal, text: str) -> list[Device]:
    """Bulk provisioning from CSV (columns: device_id, device_type, building_code, lon, lat, owner_name,
    owner_phone, key). All or nothing: one bad line refuses the file, naming the line."""
    actor.require("sensing.devices.write")
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    missing = [c for c in ("device_id", "device_type") if c not in (reader.fieldnames or [])]
    if missing:
        raise UrbanBrainError("sensing.csv_invalid", line=1, reason=f"missing columns {', '.join(missing)}")
    made: list[Device] = []
    for n, row in enumerate(reader, start=2):
        data = _csv_row(n, row)
        if not data.key:
            raise UrbanBrainError("sensing.csv_invalid", line=n, reason="every device needs its key")
        try:
            device, _ = do_provision_device(session, platform, actor, data)
        except UrbanBrainError as exc:
            raise UrbanBrainError("sensing.csv_invalid", line=n, reason=exc.render("en")) from None
        made.append(device)
    return made


# --- rules -----------------------------------------------------------------------------------------------


def rule_spec(code: str, spec: dict[str, Any]) -> RuleSpec:
    try:
        return RuleSpec.from_dict({**spec, "code": code})
    except (ValueError, TypeError) as exc:
        raise UrbanBrainError("sensing.bad_rule", reason=str(exc)) from None


def do_save_rule(session: Session, platform: Platform, actor: Principal, data: RuleCreate) -> Rule:
    """Create or replace an alarm rule; the running engine takes it within seconds, keeping the state of
    rules that did not change."""
    actor.require("sensing.rules.write")
    spec = rule_spec(data.code, data.spec)
    if data.case_category and data.case_category not in codelists.codes("case_category"):
        raise UrbanBrainError("sensing.unknown_category", code=data.case_category)
    others = [
        rule_spec(r.code, r.spec)
        for r in session.scalars(select(Rule).where(Rule.active.is_(True), Rule.code != data.code))
    ]
    try:
        check_rule_set([*others, spec] if data.active else others)
    except ValueError as exc:
        raise UrbanBrainError("sensing.bad_rule", reason=str(exc)) from None
    now = platform.clock.now()
    row = session.get(Rule, data.code)
    before = snapshot(row) if row is not None else None
    if row is None:
        row = Rule(code=data.code, created_at=now)
        session.add(row)
    row.spec = {k: v for k, v in spec.to_dict().items() if k != "code"}
    row.description, row.case_category, row.active = data.description, data.case_category, data.active
    row.updated_at = now
    session.flush()
    record(
        session, platform.clock, actor,
        action="sensing.rule.save", entity_type="rule", entity_id=row.code,
        before=before, after=snapshot(row), event=events.RULE_CHANGED,
        payload={"code": row.code, "active": row.active},
    )  # fmt: skip
    return row


# --- alarms (operators) ----------------------------------------------------------------------------------


def _alarm(session: Session, alarm_id: int) -> Alarm:
    alarm = session.get(Alarm, alarm_id)
    if alarm is None:
        raise UrbanBrainError("sensing.alarm_not_found", id=alarm_id)
    return alarm


def do_acknowledge_alarm(
    session: Session, platform: Platform, actor: Principal, alarm_id: int, note: str | None = None
) -> Alarm:
    """Someone has seen it and is on it (确认); it stays open until the condition clears or it is cleared."""
    actor.require("sensing.alarms.handle")
    alarm = _alarm(session, alarm_id)
    if alarm.status != "active":
        raise UrbanBrainError("sensing.alarm_closed", id=alarm_id, status=alarm.status, action="acknowledged")
    before = snapshot(alarm)
    alarm.status, alarm.acknowledged_at, alarm.acknowledged_by = (
        "acknowledged",
        platform.clock.now(),
        actor.actor,
    )
    session.flush()
    record(
        session, platform.clock, actor,
        action="sensing.alarm.acknowledge", entity_type="alarm", entity_id=alarm.id,
        before=before, after=snapshot(alarm), event=events.ALARM_ACKNOWLEDGED,
        payload={**alarm_payload(alarm), "note": note},
    )  # fmt: skip
    return alarm


def do_clear_alarm(
    session: Session, platform: Platform, actor: Principal, alarm_id: int, note: str | None = None
) -> Alarm:
    """An operator closes an alarm by hand (a false alarm, a device removed); the rule may raise it again."""
    actor.require("sensing.alarms.handle")
    alarm = _alarm(session, alarm_id)
    if alarm.status == "cleared":
        raise UrbanBrainError("sensing.alarm_closed", id=alarm_id, status=alarm.status, action="cleared")
    before = snapshot(alarm)
    alarm.status, alarm.cleared_at, alarm.cleared_by = "cleared", platform.clock.now(), actor.actor
    session.flush()
    record(
        session, platform.clock, actor,
        action="sensing.alarm.clear", entity_type="alarm", entity_id=alarm.id,
        before=before, after=snapshot(alarm), event=events.ALARM_CLEARED,
        payload={**alarm_payload(alarm), "note": note},
    )  # fmt: skip
    return alarm


def watch_readings(platform: Platform, device_types: set[str], handler: Callable[[list[Any]], None]) -> None:
    """Have ``handler`` called with the readings of these device types, as messages ``(device id, event
    time, {measurement: value})``, on the writer thread after each group is recorded (see ingest/taps.py)."""
    from urbanbrain.domains.sensing.ingest import taps

    taps.register(platform, device_types, handler)


def do_record_alarm_changes(session: Session, platform: Platform, changes: list[AlarmChange]) -> Counter[str]:
    """Raise and clear alarms judged outside the rules engine, through the same path as the rules' alarms
    (replays are recorded once); returns how many were raised by level, for :func:`count_raised_alarms`
    once committed."""
    from urbanbrain.domains.sensing.engine import Transition

    transitions = [
        Transition(
            rule_code=c.rule_code,
            kind=c.kind,
            device=c.origin,
            group=None,
            measurement=c.measurement,
            event_ts=c.event_ts,
            value=c.value,
            alarm_type=c.alarm_type,
            severity=c.severity,
            level=c.level,
            detail=c.detail,
            scope=c.scope,
        )  # fmt: skip
        for c in changes
    ]
    places = {
        c.origin: alarms.Place(None, c.community_code, c.lon, c.lat, address=c.address) for c in changes
    }
    raised = alarms.apply(
        session, platform, transitions, places,
        {c.rule_code: c.case_category for c in changes}, {c.rule_code: c.description or "" for c in changes},
    )  # fmt: skip
    return raised


def count_raised_alarms(platform: Platform, raised: Counter[str]) -> None:
    """Add committed raises to the platform's alarm metrics."""
    alarms.count_raised(platform, raised)
