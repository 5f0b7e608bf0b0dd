"""Every crowd write: a zone and its inputs (audited, announced), the device types its inputs use, and the
estimator's state and warnings (derived from readings: written by the engine, see :mod:`engine`)."""

from __future__ import annotations

from typing import Any

import shapely
from shapely.geometry import shape
from sqlalchemy import delete, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified

from urbanbrain.core.actions import check_version, record, snapshot
from urbanbrain.core.auth.principal import Principal
from urbanbrain.core.context import Platform
from urbanbrain.core.errors import UrbanBrainError, register_messages
from urbanbrain.domains.crowd import events
from urbanbrain.domains.crowd.devices import DEVICE_TYPES, ROLE_TYPES
from urbanbrain.domains.crowd.models import Zone, ZoneInput
from urbanbrain.domains.crowd.schemas import ZoneSave
from urbanbrain.domains.registry import queries as registry
from urbanbrain.domains.sensing import actions as sensing
from urbanbrain.domains.sensing import queries as sensing_queries
from urbanbrain.domains.sensing.schemas import DeviceTypeCreate

register_messages(
    {
        "crowd.zone_code": (
            422,
            "区域编号只能包含大写字母、数字和连字符（最长 40 位）：{code}",
            "A zone code is capital letters, digits and hyphens, at most 40: {code}",
        ),
        "crowd.bad_geometry": (
            422,
            "区域边界不是有效的多边形：{reason}",
            "The zone's outline is not a valid polygon: {reason}",
        ),
        "crowd.outside_district": (
            422,
            "区域不在本辖区内（{lon}, {lat}）。",
            "The zone is outside the district ({lon}, {lat}).",
        ),
        "crowd.unknown_device": (
            422,
            "设备不存在，请先在感知平台登记：{devices}",
            "No such device; provision it on the sensing platform first: {devices}",
        ),
        "crowd.wrong_device_type": (
            422,
            "设备 {device} 的类型是 {actual}，作为 {role} 需要 {expected}。",
            "Device {device} is a {actual}; as {role} it must be a {expected}.",
        ),
        "crowd.duplicate_input": (422, "设备重复：{device}", "A device is listed twice: {device}"),
        "crowd.levels_need_capacity": (
            422,
            "按承载量比例设置预警级别时必须填写 capacity。",
            "Levels as ratios of the capacity need the zone's capacity.",
        ),
        "crowd.zone_not_found": (404, "没有编号为 {code} 的人群监测区域。", "No crowd zone {code}."),
    }
)


def do_install_device_types(session: Session, platform: Platform, actor: Principal) -> None:
    """The device types crowd inputs use (line counters, crowd cameras, phone-signal cells)."""
    for t in DEVICE_TYPES:
        sensing.do_save_device_type(session, platform, actor, DeviceTypeCreate.model_validate(t))


def _check_inputs(session: Session, data: ZoneSave) -> None:
    seen: set[str] = set()
    for i in data.inputs:
        if i.device_id in seen:
            raise UrbanBrainError("crowd.duplicate_input", device=i.device_id)
        seen.add(i.device_id)
    kinds = sensing_queries.device_types_of(session, sorted(seen))
    missing = sorted(seen - kinds.keys())
    if missing:
        raise UrbanBrainError("crowd.unknown_device", devices=", ".join(missing[:10]))
    for i in data.inputs:
        if kinds[i.device_id] != ROLE_TYPES[i.role]:
            raise UrbanBrainError(
                "crowd.wrong_device_type",
                device=i.device_id,
                actual=kinds[i.device_id],
                role=i.role,
                expected=ROLE_TYPES[i.role],
            )


def _outline(data: ZoneSave) -> shapely.Polygon:
    try:
        poly = shape(data.geometry.model_dump())
    except (ValueError, TypeError, shapely.errors.GEOSException) as e:
        raise UrbanBrainError("crowd.bad_geometry", reason=str(e)[:200]) from None
    if poly.is_empty or not poly.is_valid:
        raise UrbanBrainError("crowd.bad_geometry", reason=shapely.is_valid_reason(poly))
    return poly


def do_save_zone(
    session: Session,
    platform: Platform,
    actor: Principal,
    code: str,
    data: ZoneSave,
    version: int | None = None,
) -> Zone:
    """Create or replace a zone with its inputs (PUT semantics)."""
    actor.require("crowd.zones.write")
    if not code or len(code) > 40 or not all(c.isupper() or c.isdigit() or c == "-" for c in code):
        raise UrbanBrainError("crowd.zone_code", code=code[:60])
    if data.levels and data.levels.capacity_ratio and data.capacity is None:
        raise UrbanBrainError("crowd.levels_need_capacity")
    poly = _outline(data)
    point = poly.representative_point()
    try:
        where = registry.locate(platform, session, point.x, point.y)
    except UrbanBrainError:
        raise UrbanBrainError(
            "crowd.outside_district", lon=round(point.x, 6), lat=round(point.y, 6)
        ) from None
    _check_inputs(session, data)
    now = platform.clock.now()
    zone = session.scalar(select(Zone).where(Zone.code == code))
    before = None
    if zone is None:
        zone = Zone(code=code, created_at=now)
        session.add(zone)
    else:
        check_version(zone, version)
        before = {**snapshot(zone), "inputs": _inputs(session, zone)}
    zone.name, zone.area_m2, zone.capacity = data.name, data.area_m2, data.capacity
    zone.geometry = data.geometry.model_dump()
    zone.lon, zone.lat = point.x, point.y
    zone.street_code, zone.community_code = where["street_code"], where["community_code"]
    zone.levels = data.levels.model_dump(exclude_none=True) if data.levels else None
    zone.updated_at = now
    if before is not None:
        flag_modified(zone, "updated_at")  # a new version even when only the inputs changed
    session.flush()
    session.execute(delete(ZoneInput).where(ZoneInput.zone_id == zone.id))
    session.add_all(ZoneInput(zone_id=zone.id, device_id=i.device_id, role=i.role) for i in data.inputs)
    session.flush()
    after = {**snapshot(zone), "inputs": _inputs(session, zone)}
    record(
        session,
        platform.clock,
        actor,
        action="crowd.zone.save",
        entity_type="crowd_zone",
        entity_id=zone.id,
        before=before,
        after=after,
        event=events.ZONE_SAVED,
        payload={"code": zone.code, "version": zone.version},
    )
    return zone


def _inputs(session: Session, zone: Zone) -> list[dict[str, Any]]:
    rows = session.scalars(
        select(ZoneInput).where(ZoneInput.zone_id == zone.id).order_by(ZoneInput.device_id)
    )
    return [{"device_id": r.device_id, "role": r.role} for r in rows]
