"""Creating and updating a plain entity, the one way every domain does it: check the version read, apply the
fields, write the audit row with before and after, and queue the event, in the caller's transaction.

An entity kind names itself once (``EntityKind("registry", "building")``); its action names
(``registry.building.create``), event types (``registry.building.created``) and audit entity follow. The
mapper's ``version_id_col`` raises the version on every UPDATE and makes the UPDATE conditional on the
version read, so a concurrent write fails instead of overwriting.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import inspect
from sqlalchemy.orm import Session

from urbanbrain.core.actions import check_version, record, snapshot
from urbanbrain.core.auth.principal import Principal
from urbanbrain.core.clock import Clock
from urbanbrain.core.errors import UrbanBrainError, register_messages

register_messages(
    {
        "entity.field_required": (
            422,
            "字段 {field} 不能清空（null）；不想修改就不要提交该字段。",
            "The field {field} cannot be set to null; leave it out to keep its value.",
        ),
    }
)


def _no_payload(obj: Any) -> dict[str, Any]:
    return {}


@dataclass(frozen=True)
class EntityKind:
    """How one kind of entity is named in the audit log and on the bus."""

    domain: str
    name: str
    key: str = "code"  # the attribute that names a row in the audit log and in events
    protected: tuple[str, ...] = ()  # columns recorded as changed, never shown
    payload: Callable[[Any], dict[str, Any]] = field(default=_no_payload)  # event fields beyond the key
    verbs: tuple[str, str] = ("created", "updated")  # the events' verbs, where a domain named them otherwise

    @property
    def created(self) -> str:
        return f"{self.domain}.{self.name}.{self.verbs[0]}"

    @property
    def updated(self) -> str:
        return f"{self.domain}.{self.name}.{self.verbs[1]}"

    def key_of(self, obj: Any) -> Any:
        return getattr(obj, self.key)


def create(session: Session, clock: Clock, actor: Principal, kind: EntityKind, obj: Any) -> Any:
    """Insert ``obj`` and record it (audit ``<domain>.<name>.create``, event ``...created``)."""
    now = clock.now()
    for stamp in ("created_at", "updated_at"):
        if hasattr(obj, stamp) and getattr(obj, stamp) is None:
            setattr(obj, stamp, now)
    session.add(obj)
    session.flush()
    key = kind.key_of(obj)
    record(
        session, clock, actor,
        action=f"{kind.domain}.{kind.name}.create", entity_type=kind.name, entity_id=key,
        before=None, after=snapshot(obj, protected=kind.protected), event=kind.created,
        payload={kind.key: key, **kind.payload(obj)},
    )  # fmt: skip
    return obj


def refuse_nulls(obj: Any, changes: dict[str, Any]) -> None:
    """A PATCH may not empty a column the table requires (a 422 naming it, not an IntegrityError)."""
    columns = inspect(obj).mapper.columns
    for name, value in changes.items():
        if value is None and name in columns and not columns[name].nullable:
            raise UrbanBrainError("entity.field_required", field=name)


def update(
    session: Session,
    clock: Clock,
    actor: Principal,
    kind: EntityKind,
    obj: Any,
    changes: dict[str, Any],
    *,
    version: int | None = None,
    also: Callable[[], None] | None = None,
) -> Any:
    """Apply ``changes`` to ``obj`` and record it (audit ``<domain>.<name>.update`` with before and after,
    event ``...updated``). ``version`` is the version the caller read (None: don't check); ``also`` makes the
    changes that are not plain columns (a sealed phone, a derived location) before the after-image."""
    check_version(obj, version)
    refuse_nulls(obj, changes)
    before = snapshot(obj, protected=kind.protected)
    for name, value in changes.items():
        setattr(obj, name, value)
    if also is not None:
        also()
    if hasattr(obj, "updated_at") and session.is_modified(obj):
        obj.updated_at = clock.now()
    session.flush()  # version_id_col: the UPDATE carries "WHERE version = <read>" and raises it
    key = kind.key_of(obj)
    record(
        session, clock, actor,
        action=f"{kind.domain}.{kind.name}.update", entity_type=kind.name, entity_id=key,
        before=before, after=snapshot(obj, protected=kind.protected), event=kind.updated,
        payload={kind.key: key, **kind.payload(obj)},
    )  # fmt: skip
    return obj
