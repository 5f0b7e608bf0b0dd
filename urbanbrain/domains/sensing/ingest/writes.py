"""The pipeline's batched writes: the latest value of every measurement (COPY on PostgreSQL) and dead letters."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from urbanbrain.core.context import Platform
from urbanbrain.domains.sensing.models import DeadLetter


def latest_merge_columns(
    pending: dict[tuple[str, str], tuple[float, float, str]],
    ids: list[str],
    names: list[str],
    dev: npt.NDArray[np.int64],
    codes: npt.NDArray[np.int64],
    values: npt.NDArray[np.float64],
    ts: npt.NDArray[np.float64],
    message_ids: list[str],
) -> None:
    """Keep, per device and measurement, the reading with the newest event time until the next write. The
    newest of a group is found with numpy from engine indexes and measurement codes (a group holds many
    readings of each), and only those reach the dict."""
    if not len(dev):
        return
    if len(dev) <= 256:  # a few readings: each in arrival order (the dict keeps the newest)
        last = np.arange(len(dev))
    else:
        key = dev * (int(codes.max()) + 1) + codes
        order = np.lexsort((ts, key))  # by key, then event time; ties keep arrival order (the later wins)
        ordered = key[order]
        last = order[np.flatnonzero(np.append(ordered[1:] != ordered[:-1], True))]
    get = pending.get
    for i, d, c, v, t in zip(last.tolist(), dev[last].tolist(), codes[last].tolist(), values[last].tolist(),
                             ts[last].tolist(), strict=True):  # fmt: skip
        k = (ids[d], names[c])
        old = get(k)
        if old is None or t >= old[1]:
            pending[k] = (v, t, message_ids[i])


def write_latest(session: Session, latest: dict[tuple[str, str], tuple[float, float, str]]) -> None:
    """Upsert the latest values; an older reading never overwrites a newer one (replays, late data)."""
    if session.get_bind().dialect.name == "postgresql":
        _write_latest_pg(session, latest)
        return
    # The driver's own executemany: the ORM's bulk insert spent most of a checkpoint building row dicts.
    rows = [(d, m, v, t, i) for (d, m), (v, t, i) in latest.items()]
    session.connection().exec_driver_sql(
        "INSERT INTO sensing_latest (device_id, measurement, value, ts, message_id) VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT (device_id, measurement) DO UPDATE SET value = excluded.value, ts = excluded.ts, "
        "message_id = excluded.message_id WHERE excluded.ts >= sensing_latest.ts",
        rows,
    )


def _write_latest_pg(session: Session, latest: dict[tuple[str, str], tuple[float, float, str]]) -> None:
    """COPY into a temporary table, then one INSERT ... ON CONFLICT from it: row-by-row INSERTs are the
    bottleneck PostgreSQL is known for here, COPY is not."""
    conn = session.connection().connection.driver_connection
    with conn.cursor() as cur:  # type: ignore[union-attr]
        cur.execute(
            "CREATE TEMP TABLE IF NOT EXISTS sensing_latest_in "
            "(device_id text, measurement text, value float8, ts float8, message_id text) ON COMMIT DELETE ROWS"
        )
        with cur.copy(
            "COPY sensing_latest_in (device_id, measurement, value, ts, message_id) FROM STDIN"
        ) as cp:
            for (d, m), (v, t, i) in latest.items():
                cp.write_row((d, m, v, t, i))
        cur.execute(
            "INSERT INTO sensing_latest (device_id, measurement, value, ts, message_id) "
            "SELECT DISTINCT ON (device_id, measurement) device_id, measurement, value, ts, message_id "
            "FROM sensing_latest_in ORDER BY device_id, measurement, ts DESC "
            "ON CONFLICT (device_id, measurement) DO UPDATE SET value = excluded.value, ts = excluded.ts, "
            "message_id = excluded.message_id WHERE excluded.ts >= sensing_latest.ts"
        )


def add_dead_letters(session: Session, platform: Platform, dead: list[tuple[str, float, Any]]) -> None:
    if not dead:
        return
    now = platform.clock.now()
    rows = [
        {
            "received_at": now,
            "source": source,
            "reason": d.reason,
            "detail": d.detail[:2000],
            "device_id": (d.device_id or None) and d.device_id[:64],
            "message_id": (d.message_id or None) and d.message_id[:64],
            "payload": d.payload.decode("utf-8", errors="backslashreplace"),
        }
        for source, _received, d in dead
    ]
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(insert(DeadLetter), rows)
