"""Every crowd read: zones with their inputs, thresholds and latest estimate, in the reader's area."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from urbanbrain.core.auth.principal import Principal
from urbanbrain.core.errors import UrbanBrainError
from urbanbrain.domains.crowd.levels import DEFAULT_DENSITY, Thresholds
from urbanbrain.domains.crowd.models import WhatIf, Zone, ZoneInput, ZoneState


def thresholds(zone: Zone) -> Thresholds:
    """The zone's level thresholds as densities: its own, from its capacity, or the defaults."""
    levels = zone.levels or {}
    if "density" in levels:
        d = levels["density"]
        return Thresholds((d[0], d[1], d[2], d[3]))
    if "capacity_ratio" in levels and zone.capacity:
        return Thresholds.from_capacity(tuple(levels["capacity_ratio"]), zone.capacity, zone.area_m2)
    return Thresholds(DEFAULT_DENSITY)


def zones_stmt(principal: Principal) -> Select[Any]:
    stmt = select(Zone)
    if principal.scope == "street":
        stmt = stmt.where(Zone.street_code == principal.area_code)
    elif principal.scope == "community":
        stmt = stmt.where(Zone.community_code == principal.area_code)
    elif principal.scope != "all":
        stmt = stmt.where(Zone.id == -1)  # a department's staff watch no zone of their own
    return stmt


def get_zone(session: Session, principal: Principal, code: str) -> Zone:
    zone = session.scalar(zones_stmt(principal).where(Zone.code == code))
    if zone is None:
        raise UrbanBrainError("crowd.zone_not_found", code=code[:60])
    return zone  # type: ignore[no-any-return]


def zones_public(session: Session, zones: list[Zone]) -> list[dict[str, Any]]:
    """Zones with inputs and latest estimate, in three queries however many."""
    ids = [z.id for z in zones]
    inputs: dict[int, list[dict[str, str]]] = {i: [] for i in ids}
    states: dict[int, ZoneState] = {}
    if ids:
        for row in session.scalars(
            select(ZoneInput).where(ZoneInput.zone_id.in_(ids)).order_by(ZoneInput.device_id)
        ):
            inputs[row.zone_id].append({"device_id": row.device_id, "role": row.role})
        states = {s.zone_id: s for s in session.scalars(select(ZoneState).where(ZoneState.zone_id.in_(ids)))}
    return [_public(z, inputs[z.id], states.get(z.id)) for z in zones]


def _public(zone: Zone, inputs: list[dict[str, str]], state: ZoneState | None) -> dict[str, Any]:
    return {
        "code": zone.code,
        "name": zone.name,
        "area_m2": zone.area_m2,
        "capacity": zone.capacity,
        "geometry": zone.geometry,
        "lon": zone.lon,
        "lat": zone.lat,
        "street_code": zone.street_code,
        "community_code": zone.community_code,
        "inputs": inputs,
        "levels": {"density": list(thresholds(zone).density)},
        "version": zone.version,
        "occupancy": state.occupancy if state else None,
        "density": state.density if state else None,
        "level": state.level if state else None,
        "forecast": state.forecast if state else [],
        "minutes_to_danger": state.minutes_to_danger if state else None,
        "flow_per_min": state.flow_per_min if state else None,
        "as_of": state.as_of if state else None,
    }


def get_what_if(session: Session, zone: Zone, what_if_id: int) -> WhatIf:
    row = session.get(WhatIf, what_if_id)
    if row is None or row.zone_id != zone.id:
        raise UrbanBrainError("crowd.what_if_not_found", code=zone.code, id=what_if_id)
    return row


def what_if_public(zone: Zone, row: WhatIf, now: datetime, stale_s: float) -> dict[str, Any]:
    """A what-if as the API shows it: what it assumed, and its two runs once they are back. One still running
    long after it began was lost with its process (a restart) and is shown as failed."""
    start = row.start
    gates = start["gates"]
    status, error = row.status, row.error
    if status == "running" and row.requested_at < now - timedelta(seconds=stale_s):
        status, error = "failed", "interrupted: the server restarted while it ran; run it again"
    result = row.result or {}
    return {
        "id": row.id,
        "zone": zone.code,
        "status": status,
        "as_of": row.as_of,
        "minutes": row.minutes,
        "measure": row.measure,
        "start": {
            "occupancy": round(start["occupancy"], 1),
            "inflow_per_min": round(sum(g["in_per_min"] for g in gates if g["role"] == "entrance"), 1),
            "outflow_per_min": round(sum(g["out_per_min"] for g in gates), 1),
            "dwell_min": round(start["dwell_s"] / 60.0, 1),
            "scale": round(start["scale"], 3),
            "closed_exits": [g["device_id"] for g in gates if g["closed"]],
        },
        "without": _run(result.get("without")),
        "with": _run(result.get("with")),
        "computed_in_s": row.computed_in_s,
        "error": error,
        "requested_by": row.requested_by,
        "requested_at": row.requested_at,
    }


def _run(run: dict[str, Any] | None) -> dict[str, Any] | None:
    if run is None:
        return None
    return {k: run[k] for k in ("peak_density", "peak_minute", "series")}
