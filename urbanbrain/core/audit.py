"""The audit log: every write, who did it, when, before and after, in one hash chain.

Each row's hash covers its content and the previous row's hash; a head row holds the last hash. Editing a
row breaks its hash, deleting one breaks the links (or the head), so :func:`verify_chain` finds both.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Table, bindparam, select
from sqlalchemy.orm import Session

from urbanbrain.core.db import json_dumps
from urbanbrain.core.models import AuditEntry, AuditHead

GENESIS = "0" * 64


def _canonical(value: Any) -> Any:
    """JSON-normalise (datetimes to text, tuples to lists) so the hash survives a database round trip.
    Values that are plain JSON already (str, int, float, bool, None, and lists and dicts of them: the
    snapshots actions write) are kept as they are: a round trip through text would change nothing."""
    if value is None or _plain_json(value):
        return value
    return json.loads(json_dumps(value))


def _plain_json(value: Any) -> bool:
    if value is None or isinstance(value, str | int | float):  # bool is an int
        return True
    if isinstance(value, list):
        return all(_plain_json(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _plain_json(v) for k, v in value.items())
    return False


def entry_hash(
    seq: int,
    at: datetime,
    actor: str,
    action: str,
    entity_type: str,
    entity_id: str,
    before: Any,
    after: Any,
    prev_hash: str,
) -> str:
    body = {
        "seq": seq,
        "at": at.astimezone(UTC).isoformat(timespec="microseconds"),
        "actor": actor,
        "action": action,
        "entity_type": entity_type,
        "entity_id": entity_id,
        "before": before,
        "after": after,
        "prev": prev_hash,
    }
    text = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass
class _Tip:
    """The chain's head: its last sequence number and hash."""

    seq: int
    hash: str


def _tip(session: Session) -> _Tip:
    """The head, read with a plain statement (locked on PostgreSQL: writers take turns on the chain); the
    first write of all starts it at genesis. Every writer reads and moves it this way: the ORM's flush of the
    head was a third of an IoT alarm's transaction."""
    pg = session.get_bind().dialect.name == "postgresql"
    found = session.execute(_READ_TIP_LOCKED if pg else _READ_TIP).first()
    if found is None:
        session.execute(_HEADS.insert(), {"id": 1, "seq": 0, "hash": GENESIS})
        return _Tip(0, GENESIS)
    return _Tip(found.seq, found.hash)


@dataclass(frozen=True)
class Entry:
    """One audit row to append: who did what to which entity, before and after."""

    at: datetime
    actor: str
    action: str
    entity_type: str
    entity_id: str | int
    before: Any = None
    after: Any = None


def append(
    session: Session,
    *,
    at: datetime,
    actor: str,
    action: str,
    entity_type: str,
    entity_id: str | int,
    before: Any = None,
    after: Any = None,
) -> None:
    """Append one audit row in the caller's transaction."""
    append_many(session, [Entry(at, actor, action, entity_type, entity_id, before, after)])


def append_many(session: Session, entries: list[Entry]) -> int:
    """Append rows with one read and one update of the head and one INSERT: a batch of intake holds the
    chain's lock once instead of once per row. Returns the last sequence number."""
    head = _tip(session)
    rows = [_chain(head, e) for e in entries]
    if rows:
        session.execute(_INSERT, rows)
        session.execute(_MOVE_TIP, {"new_seq": head.seq, "new_hash": head.hash})
    return head.seq


# Built once: an audit row is written inside every action's transaction.
_HEADS: Table = AuditHead.__table__  # type: ignore[assignment]
_READ_TIP = select(_HEADS.c.seq, _HEADS.c.hash).where(_HEADS.c.id == 1)
_READ_TIP_LOCKED = _READ_TIP.with_for_update()
_MOVE_TIP = (
    _HEADS.update().where(_HEADS.c.id == 1).values(seq=bindparam("new_seq"), hash=bindparam("new_hash"))
)
_INSERT = AuditEntry.__table__.insert()  # type: ignore[attr-defined]


def _chain(head: _Tip, e: Entry) -> dict[str, Any]:
    """The next row after ``head``, hashed; moves the head on."""
    before_c, after_c = _canonical(e.before), _canonical(e.after)
    at = e.at.astimezone(UTC)
    seq = head.seq + 1
    digest = entry_hash(
        seq, at, e.actor, e.action, e.entity_type, str(e.entity_id), before_c, after_c, head.hash
    )
    row = {
        "seq": seq,
        "at": at,
        "actor": e.actor,
        "action": e.action,
        "entity_type": e.entity_type,
        "entity_id": str(e.entity_id),
        "before": before_c,
        "after": after_c,
        "prev_hash": head.hash,
        "hash": digest,
    }
    head.seq, head.hash = seq, digest
    return row


@dataclass(frozen=True)
class Problem:
    seq: int
    kind: str  # edited | missing | broken_link | head_mismatch
    detail: str


def _rows(session: Session, batch: int = 5000) -> Iterator[AuditEntry]:
    last = 0
    while True:
        rows = session.scalars(
            select(AuditEntry).where(AuditEntry.seq > last).order_by(AuditEntry.seq).limit(batch)
        ).all()
        if not rows:
            return
        yield from rows
        last = rows[-1].seq


def verify_chain(session: Session) -> tuple[int, list[Problem]]:
    """Walk the whole chain; return (rows checked, problems). An empty problem list means intact."""
    problems: list[Problem] = []
    prev_hash, expected_seq, count = GENESIS, 1, 0
    for row in _rows(session):
        count += 1
        if row.seq != expected_seq:
            problems.append(Problem(expected_seq, "missing", f"rows {expected_seq}..{row.seq - 1} are gone"))
        if row.prev_hash != prev_hash:
            problems.append(Problem(row.seq, "broken_link", "does not follow the previous row's hash"))
        digest = entry_hash(
            row.seq,
            row.at,
            row.actor,
            row.action,
            row.entity_type,
            row.entity_id,
            row.before,
            row.after,
            row.prev_hash,
        )
        if digest != row.hash:
            problems.append(Problem(row.seq, "edited", "content does not match its hash"))
        prev_hash, expected_seq = row.hash, row.seq + 1
    head = session.execute(_READ_TIP).first()  # the row, not an object this session may hold from before
    head_seq, head_hash = (head.seq, head.hash) if head else (0, GENESIS)
    if head_seq != expected_seq - 1 or head_hash != prev_hash:
        problems.append(
            Problem(head_seq, "head_mismatch", f"chain ends at {expected_seq - 1}, head says {head_seq}")
        )
    return count, problems
