"""Numbering: race-free counters for the numbers people read out (case numbers, hazard codes, facility QR
codes). One upsert per counter: two writers taking numbers at once get different ones, whatever the
backend, because the second waits on the first's row.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from urbanbrain.core.models import SequenceCounter


def take(
    session: Session, counts: Mapping[str, int], *, start: Mapping[str, int] | None = None
) -> dict[str, int]:
    """Reserve ``counts[key]`` numbers of each counter; returns each counter's last reserved number, so this
    call owns ``last - count + 1 .. last``. A counter seen for the first time starts after ``start[key]``
    (the highest number already in use, for numbering that existed before its counter), else after 0."""
    if not counts:
        return {}
    keys = sorted(counts)  # a fixed order: two batches never wait on each other's rows crosswise
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    if start:
        floors = [{"key": k, "last": start[k]} for k in keys if start.get(k)]
        if floors:
            session.execute(
                insert(SequenceCounter).values(floors).on_conflict_do_nothing(index_elements=["key"])
            )
    stmt = insert(SequenceCounter).values([{"key": k, "last": counts[k]} for k in keys])
    stmt = stmt.on_conflict_do_update(
        index_elements=["key"], set_={"last": SequenceCounter.last + stmt.excluded.last}
    )
    rows = session.execute(stmt.returning(SequenceCounter.key, SequenceCounter.last))
    return {key: last for key, last in rows}


def next_number(session: Session, key: str, *, start: int = 0) -> int:
    """The next number of one counter (see :func:`take`)."""
    return take(session, {key: 1}, start={key: start} if start else None)[key]
