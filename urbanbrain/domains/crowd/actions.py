"""Every crowd write: a zone and its inputs (audited, announced), the device types its inputs use, and the
estimator's state and warnings (derived from readings: written by the engine, see :mod:`engine`)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import shapely
from shapely.geometry import shape
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified

from urbanbrain.core.actions import check_version, record, snapshot
from urbanbrain.core.auth.principal import SYSTEM, Principal
from urbanbrain.core.context import Platform
from urbanbrain.core.errors import UrbanBrainError, register_messages
from urbanbrain.domains.crowd import events, jobs, whatif
from urbanbrain.domains.crowd.devices import DEVICE_TYPES, ROLE_TYPES
from urbanbrain.domains.crowd.models import WhatIf, Zone, ZoneInput, ZoneState
from urbanbrain.domains.crowd.schemas import WhatIfRequest, ZoneSave
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
        "crowd.what_if_unavailable": (
            503,
            "本服务器未安装人群仿真（JuPedSim），无法推演；请按运维文档安装后重启。",
            "Crowd simulation (JuPedSim) is not installed on this server, so no what-if can run; install "
            "it as docs/operations.md says and restart.",
        ),
        "crowd.no_estimate": (
            409,
            "区域 {code} 还没有估计值（其设备尚未上报），无法从当前状态推演。",
            "Zone {code} has no estimate yet (its inputs have not reported), so there is no state to "
            "simulate from.",
        ),
        "crowd.what_if_input": (
            422,
            "{input} 不是区域 {code} 的{role}计数设备；可选：{choices}",
            "{input} is not a counter at an {role} of zone {code}; choose one of: {choices}",
        ),
        "crowd.what_if_exit_open": (
            422,
            "出口 {input} 已在放行（其计数器正在计出行人），开启它不会改变推演结果；请选择关闭的出口。",
            "Exit {input} is open already (its counter counts people out): opening it changes nothing; "
            "choose a closed exit.",
        ),
        "crowd.what_if_rate": (
            422,
            "限流入口需要填写每分钟放行人数 rate_per_min。",
            "Metering an entrance needs rate_per_min, the persons let in per minute.",
        ),
        "crowd.what_if_busy": (
            429,
            "已有 {running} 个推演正在运行，请一分钟后再试。",
            "{running} what-ifs are running already; try again in a minute.",
        ),
        "crowd.what_if_not_found": (
            404,
            "区域 {code} 没有编号为 {id} 的推演。",
            "Zone {code} has no what-if {id}.",
        ),
    }
)
MAX_RUNNING = 2  # what-ifs at once: each takes two worker processes
STALE_S = 600.0  # a what-if still running after this was lost with its process (a restart)


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
    """Create or replace a zone with its inputs (PUT semantics). The inputs are put in the sensing partition
    group ``crowd:<code>`` (and inputs dropped from the zone leave it), so that scaled out one worker sees
    the whole zone; a device another zone had grouped moves to this one (docs/crowd.md, "Scale-out")."""
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
    sensing.do_group_devices(session, platform, actor, f"crowd:{code}", [i.device_id for i in data.inputs],
                             permission="crowd.zones.write")  # fmt: skip
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


def do_forget_estimate(session: Session, platform: Platform, actor: Principal, zone: Zone) -> bool:
    """Drop the zone's kept estimate, so that it is estimated afresh from its next inputs rather than taken
    up (a new evening at a venue whose last one ended minutes ago: the demo). Every process's engine hears it
    (``crowd.zone.saved`` with ``forgotten``). Whether there was one."""
    actor.require("crowd.zones.write")
    state = session.get(ZoneState, zone.id)
    if state is None:
        return False
    before = {"as_of": state.as_of, "occupancy": state.occupancy, "density": state.density}
    session.delete(state)
    record(
        session,
        platform.clock,
        actor,
        action="crowd.zone.forget_estimate",
        entity_type="crowd_zone",
        entity_id=zone.id,
        before=before,
        after=None,
        event=events.ZONE_SAVED,
        payload={"code": zone.code, "version": zone.version, "forgotten": True},
    )
    return True


# ---- what-ifs --------------------------------------------------------------------------------------------


def do_request_what_if(
    session: Session, platform: Platform, actor: Principal, zone: Zone, data: WhatIfRequest
) -> WhatIf:
    """Start a what-if from the zone's current state; it runs in the background once this commits."""
    actor.require("crowd.what_if.run")
    why = jobs.available()
    if why is not None:
        raise UrbanBrainError("crowd.what_if_unavailable")
    state = session.get(ZoneState, zone.id)
    if state is None:
        raise UrbanBrainError("crowd.no_estimate", code=zone.code)
    m = data.measure
    role = "exit" if m.kind == "open_exit" else "entrance"
    inputs = _inputs(session, zone)
    choices = [i["device_id"] for i in inputs if i["role"] == role]
    if m.input not in choices:
        raise UrbanBrainError(
            "crowd.what_if_input", input=m.input, code=zone.code, role=role, choices=", ".join(choices) or "—"
        )
    if m.kind == "meter_entrance" and m.rate_per_min is None:
        raise UrbanBrainError("crowd.what_if_rate")
    now = platform.clock.now()
    running = session.scalar(
        select(func.count())
        .select_from(WhatIf)
        .where(WhatIf.status == "running", WhatIf.requested_at > now - timedelta(seconds=STALE_S))
    )
    if running and running >= MAX_RUNNING:
        raise UrbanBrainError("crowd.what_if_busy", running=running)
    counters = [i for i in inputs if i["role"] in ("entrance", "exit")]
    located = sensing_queries.device_locations(session, [i["device_id"] for i in counters])
    start = whatif.start_of(
        geometry=zone.geometry,
        anchor=(zone.lon, zone.lat),
        area_m2=zone.area_m2,
        occupancy=state.occupancy,
        gate_rates=state.gates or {},
        inputs=[(i["device_id"], i["role"], located.get(i["device_id"])) for i in counters],
        minutes=data.minutes,
    )
    if m.kind == "open_exit" and not next(g for g in start.gates if g.device_id == m.input).closed:
        raise UrbanBrainError("crowd.what_if_exit_open", input=m.input)
    measure = m.model_dump(exclude_none=True)
    row = WhatIf(
        zone_id=zone.id,
        status="running",
        measure=measure,
        minutes=data.minutes,
        as_of=state.as_of,
        start=start.to_json(),
        requested_by=actor.actor[:100],
        requested_at=now,
    )
    session.add(row)
    session.flush()
    record(
        session,
        platform.clock,
        actor,
        action="crowd.what_if.request",
        entity_type="crowd_what_if",
        entity_id=row.id,
        before=None,
        after={"zone": zone.code, "measure": measure, "minutes": data.minutes, "as_of": state.as_of},
        event=events.WHAT_IF_REQUESTED,
        payload={"zone": zone.code, "measure": measure},
    )
    what_if_id, minutes, begin = row.id, data.minutes, start.to_json()
    session.info.setdefault("after_commit", []).append(
        lambda: jobs.submit(platform, what_if_id, begin, measure, minutes, seed=what_if_id, finish=_finish)
    )
    return row


def _finish(platform: Platform, what_if_id: int, outcome: dict[str, Any] | str, took_s: float) -> None:
    with platform.db.session() as session:
        do_finish_what_if(session, platform, what_if_id, outcome, took_s)


def do_finish_what_if(
    session: Session, platform: Platform, what_if_id: int, outcome: dict[str, Any] | str, took_s: float
) -> None:
    """Keep a what-if's result (or why it failed): the system's write, when its runs are back."""
    row = session.get(WhatIf, what_if_id)
    if row is None:
        return
    row.status = "done" if isinstance(outcome, dict) else "failed"
    row.result = outcome if isinstance(outcome, dict) else None
    row.error = outcome if isinstance(outcome, str) else None
    row.finished_at = platform.clock.now()
    row.computed_in_s = round(took_s, 2)
    peaks = (
        {k: outcome[k]["peak_density"] for k in ("without", "with")} if isinstance(outcome, dict) else None
    )
    record(
        session,
        platform.clock,
        SYSTEM,
        action="crowd.what_if.finish",
        entity_type="crowd_what_if",
        entity_id=row.id,
        before={"status": "running"},
        after={"status": row.status, "peaks": peaks, "error": row.error},
        event=events.WHAT_IF_FINISHED,
        payload={"status": row.status, "peaks": peaks},
    )
