"""Landing the district's records in the lake: the bus consumers queue the records that changed
(``LakePending``), and :func:`drain` writes their current rows, read in bulk through the owning domains' public
queries. A rebuild re-lands every record of a table into fresh files.

**Order of work.** A drain reads the rows, writes the files, and only then removes the queue entries: a crash
in between lands the same rows again on the next drain, which the newest-row rule makes harmless. A record
that changes while a drain holds its entry is queued again under a new id (the consumer replaces the entry),
so the drain's removal leaves it for the next drain. On PostgreSQL a drain takes its entries with
``FOR UPDATE SKIP LOCKED``: two processes never drain the same entries at once.

**Privacy.** Sealed values (ID numbers, phones, a reporter's contact) are opened only to be masked here: the
lake never holds them in the clear.
"""

from __future__ import annotations

import contextlib
import logging
import math
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from typing import Any

import pyarrow as pa
from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from urbanbrain.core.bus import Event
from urbanbrain.core.context import Platform
from urbanbrain.core.loops import BackgroundLoop
from urbanbrain.core.protect import mask_id_number, mask_phone
from urbanbrain.domains.cases import events as case_events
from urbanbrain.domains.cases import queries as case_queries
from urbanbrain.domains.datahub import queries
from urbanbrain.domains.datahub.lake.tables import REGISTRY_TABLES, TABLES, LakeTable
from urbanbrain.domains.datahub.models import LakePending
from urbanbrain.domains.registry import events as registry_events
from urbanbrain.domains.registry import queries as registry_queries
from urbanbrain.domains.sensing import events as sensing_events
from urbanbrain.domains.sensing import queries as sensing_queries

log = logging.getLogger(__name__)
LOOP_KEY = "datahub.lake_landing"
DRAIN_SECONDS = 2.0
BATCH = 2000  # queue entries a drain takes per transaction
PAGE = 5000  # rows read per query when a whole table lands
ALL = "*"  # a queue entry that re-lands every record of its table (a bulk seed has no per-row events)
LANDED_TABLES = tuple(name for name, t in TABLES.items() if t.landed)

# Registry event noun -> lake table, and the payload field that names the record.
REGISTRY_NOUNS = {"building": ("buildings", "code"), "resident": ("residents", "id"),
                  "venue": ("venues", "code"), "facility": ("facilities", "code")}  # fmt: skip
CASE_EVENTS = sorted(case_events.EVENT_TYPES - {case_events.RULE_CHANGED})
ALARM_EVENTS = sorted(
    {sensing_events.ALARM_RAISED, sensing_events.ALARM_ACKNOWLEDGED, sensing_events.ALARM_CLEARED,
     sensing_events.ALARM_CASE_OPENED}
)  # fmt: skip
REGISTRY_EVENTS = sorted(
    e for e in registry_events.EVENT_TYPES
    if e == registry_events.DISTRICT_SEEDED or e.split(".")[1] in REGISTRY_NOUNS
)  # fmt: skip


# -- the queue ---------------------------------------------------------------------------------------------


def records_of(event: Event) -> list[tuple[str, str]]:
    """The (lake table, record id) pairs an event says changed."""
    domain, noun, _ = event.type.split(".")
    p = event.payload
    if domain == "cases" and event.type in CASE_EVENTS and p.get("case_id") is not None:
        return [("cases", str(p["case_id"]))]
    if domain == "sensing" and event.type in ALARM_EVENTS and p.get("alarm_id") is not None:
        return [("alarms", str(p["alarm_id"]))]
    if event.type == registry_events.DISTRICT_SEEDED:
        return [(table, ALL) for table in REGISTRY_TABLES]
    if domain == "registry" and noun in REGISTRY_NOUNS:
        table, field = REGISTRY_NOUNS[noun]
        return [(table, str(p[field]))] if p.get(field) is not None else []
    return []


def queue(session: Session, at: datetime, records: list[tuple[str, str]]) -> None:
    """Queue records to land, in the caller's transaction. An entry already queued is replaced by a new one,
    so that a drain holding the old entry (with the record's older state) does not remove this request."""
    for table, record_id in records:
        session.execute(
            delete(LakePending).where(LakePending.lake_table == table, LakePending.record_id == record_id)
        )
    if records:
        session.execute(
            insert(LakePending), [{"lake_table": t, "record_id": r, "queued_at": at} for t, r in records]
        )


def pending(session: Session) -> int:
    """Queue entries not yet landed."""
    return session.scalar(select(func.count(LakePending.id))) or 0


# -- draining ----------------------------------------------------------------------------------------------


class Landing:
    """This process's drains: one at a time (a lock), and the loop that runs them every ``DRAIN_SECONDS``
    when background work is on, and compacts the lake once a local day (the first step after midnight, and
    at start), so the small files each drain writes become one per partition. In ``platform.caches``, so
    ``platform.close()`` stops it."""

    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self.lock = threading.Lock()
        self.loop: BackgroundLoop | None = None
        self.compacted_on: date | None = None

    def start(self) -> None:
        if self.loop is None:
            self.loop = BackgroundLoop("datahub-lake", self.step, DRAIN_SECONDS).start()

    def step(self) -> None:
        drain(self.platform)
        lake = queries.lake(self.platform)
        today = lake.local_date(self.platform.clock.now())
        if self.compacted_on != today:
            # Readings older than the door's max age are refused: their partitions close a day or two later.
            open_days = math.ceil(self.platform.settings.sensing_max_age_days) + 2
            lake.compact(today=today, readings_open_days=open_days)
            self.compacted_on = today

    def stop(self) -> None:
        if self.loop is not None:
            self.loop.stop()
            self.loop = None


_landing_lock = threading.Lock()


def landing(platform: Platform) -> Landing:
    with _landing_lock:
        found = platform.caches.get(LOOP_KEY)
        if found is None:
            found = platform.caches[LOOP_KEY] = Landing(platform)
        return found  # type: ignore[no-any-return]


def drain(platform: Platform) -> int:
    """Land every queued record's current row; returns the rows written."""
    total = 0
    with landing(platform).lock:
        while (landed := _drain_batch(platform)) is not None:
            total += landed
    return total


def _drain_batch(platform: Platform) -> int | None:
    lake = queries.lake(platform)
    with platform.db.session() as session:
        taken = session.execute(
            select(LakePending.id, LakePending.lake_table, LakePending.record_id)
            .order_by(LakePending.queued_at, LakePending.id)
            .limit(BATCH)
            .with_for_update(skip_locked=True)
        ).all()
        if not taken:
            return None
        by_table: dict[str, list[str]] = {}
        for _, table, record_id in taken:
            by_table.setdefault(table, []).append(record_id)
        landed_at = _naive(platform.clock.now())  # before the read: a later read of the same version wins
        written = 0
        for table, ids in by_table.items():
            if table not in LANDED_TABLES:
                log.warning("datahub lake: queue entries for unknown table %r dropped", table)
                continue
            pages = (
                _all_rows(platform, table, session) if ALL in ids else [_rows(session, platform, table, ids)]
            )
            for rows in pages:
                written += lake.write(table, _arrow(TABLES[table], rows, landed_at))
        # The entries stay locked (PostgreSQL; SQLite's one writer) until the files are in place.
        session.execute(delete(LakePending).where(LakePending.id.in_([row.id for row in taken])))
    return written


def rebuild(platform: Platform, table: str | None = None) -> dict[str, int]:
    """Re-land every record of ``table`` (every landed table when None) from the database into fresh files,
    then swap them in place of the old ones. Returns the rows written per table."""
    lake = queries.lake(platform)
    out = {}
    for name in [table] if table else LANDED_TABLES:
        if name not in LANDED_TABLES:
            raise KeyError(f"{name!r} is not a table the lake lands: {', '.join(LANDED_TABLES)}")
        landed_at = _naive(platform.clock.now())
        t = TABLES[name]
        with lake.lock(name).held():  # drains of this table wait: what they write would miss the new files
            out[name] = lake.replace_table(name, (_arrow(t, r, landed_at) for r in _all_rows(platform, name)))
    return out


# -- reading the owning domains --------------------------------------------------------------------------


def _rows(session: Session, platform: Platform, table: str, ids: list[str]) -> list[dict[str, Any]]:
    """The current rows of ``ids`` in the lake's shape (those that exist)."""
    out: list[dict[str, Any]] = []
    for start in range(0, len(ids), 1000):  # bounded IN lists
        chunk = ids[start : start + 1000]
        keys: list[Any] = (
            [int(i) for i in chunk if i.isdigit()] if table in ("cases", "alarms", "residents") else chunk
        )
        out.extend(_shape(session, platform, table, _load(session, table, keys)))
    return out


def _all_rows(
    platform: Platform, table: str, session: Session | None = None
) -> Iterator[list[dict[str, Any]]]:
    """Every row of ``table`` in pages: in ``session``, or each page in a short transaction of its own."""
    after: Any = None
    while True:
        with contextlib.nullcontext(session) if session is not None else platform.db.session() as s:
            raw = _load(s, table, None, after)
            if not raw:
                return
            after = raw[-1][_SOURCE_KEY[table]]
            page = _shape(s, platform, table, raw)
        yield page


_SOURCE_KEY = {"cases": "id", "alarms": "id", "residents": "id", "buildings": "code", "venues": "code",
               "facilities": "code"}  # fmt: skip
_REGISTRY_KIND = {
    "buildings": "building",
    "residents": "resident",
    "venues": "venue",
    "facilities": "facility",
}


def _load(session: Session, table: str, keys: list[Any] | None, after: Any = None) -> list[dict[str, Any]]:
    if table == "cases":
        return case_queries.cases_by_id(session, keys, after_id=after or 0, limit=PAGE)
    if table == "alarms":
        return sensing_queries.alarms_by_id(session, keys, after_id=after or 0, limit=PAGE)
    return registry_queries.entities_by_key(session, _REGISTRY_KIND[table], keys, after=after, limit=PAGE)


def _shape(
    session: Session, platform: Platform, table: str, raw: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Database rows as lake rows: keys renamed, sealed values opened only to be masked, areas added."""
    opened: Callable[[str | None], str | None] = platform.protector.open
    rows = []
    for r in raw:
        row = dict(r)
        if table == "cases":
            row["case_id"] = r["id"]
            row["reporter_contact"] = mask_phone(opened(r["reporter_contact"]))
        elif table == "alarms":
            row["alarm_id"] = r["id"]
        elif table == "buildings":
            row["building_code"] = r["code"]
            row["owner_phone"] = mask_phone(opened(r["owner_phone"]))
        elif table == "residents":
            row["resident_id"] = r["id"]
            row["id_number"] = mask_id_number(opened(r["id_number"]))
            row["phone"] = mask_phone(opened(r["phone"]))
        elif table == "venues":
            row["venue_code"] = r["code"]
            row["operator_phone"] = mask_phone(opened(r["operator_phone"]))
        elif table == "facilities":
            row["facility_code"] = r["code"]
        rows.append(row)
    if table == "alarms":  # the street, from the alarm's building
        places = registry_queries.building_places(
            session, sorted({r["building_code"] for r in rows if r["building_code"]})
        )
        for row in rows:
            row["street_code"] = (places.get(row["building_code"] or "") or {}).get("street_code")
    return rows


def _arrow(t: LakeTable, rows: list[dict[str, Any]], landed_at: datetime) -> pa.Table:
    data = {c.name: [_value(r.get(c.name)) for r in rows] for c in t.columns if c.name != "landed_at"}
    data["landed_at"] = [landed_at] * len(rows)
    return pa.table(data, schema=t.schema)


def _value(v: Any) -> Any:
    return _naive(v) if isinstance(v, datetime) else v


def _naive(at: datetime) -> datetime:
    """UTC, without its zone: the lake's timestamps are naive UTC, as the readings'."""
    return at.astimezone(UTC).replace(tzinfo=None) if at.tzinfo is not None else at
