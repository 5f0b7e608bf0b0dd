"""The one path for writes: change, audit row and outbox event in a single transaction.

Domain actions (``do_<verb>_<noun>``) call :func:`record` after changing their rows; the caller's
transaction commits all three together, and the relay publishes the event only after that commit.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from shapely.geometry.base import BaseGeometry
from sqlalchemy import inspect
from sqlalchemy.orm import Session

from urbanbrain.core import audit
from urbanbrain.core.auth.principal import Principal
from urbanbrain.core.bus.outbox import emit
from urbanbrain.core.clock import Clock
from urbanbrain.core.errors import UrbanBrainError


def _plain(value: Any) -> Any:
    if isinstance(value, BaseGeometry):
        return value.wkt
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes):
        return "<binary>"
    return value


def snapshot(obj: Any, *, protected: tuple[str, ...] = ()) -> dict[str, Any]:
    """The row's column values for the audit log; protected columns are recorded as changed, not shown."""
    keys = [attr.key for attr in inspect(obj).mapper.column_attrs]
    return snapshot_values({k: getattr(obj, k) for k in keys}, keys, protected=protected)


def snapshot_values(
    values: dict[str, Any], keys: list[str], *, protected: tuple[str, ...] = ()
) -> dict[str, Any]:
    """:func:`snapshot` of a row held as a dict (batch writes that bypass the ORM)."""
    out: dict[str, Any] = {}
    for key in keys:
        value = values.get(key)
        out[key] = "<protected>" if key in protected and value is not None else _plain(value)
    return out


def record(
    session: Session,
    clock: Clock,
    actor: Principal,
    *,
    action: str,
    entity_type: str,
    entity_id: str | int,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    event: str | None = None,
    payload: dict[str, Any] | None = None,
) -> None:
    """Write the audit row and queue the event, inside the caller's transaction."""
    session.flush()
    now = clock.now()
    audit.append(
        session,
        at=now,
        actor=actor.actor,
        action=action,
        entity_type=entity_type,
        entity_id=entity_id,
        before=before,
        after=after,
    )
    if event:
        body = {"id": entity_id, "actor": actor.actor}
        body.update(payload or {})
        emit(session, event, body, now)


def check_version(obj: Any, expected: int | None) -> None:
    """Optimistic concurrency: refuse a write based on a stale read."""
    if expected is not None and expected != obj.version:
        raise UrbanBrainError("stale", expected=expected, actual=obj.version)
