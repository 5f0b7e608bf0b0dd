"""Batch intake: many reports filed in one transaction (group commit).

The ordinary path (``actions.do_report_case``) files one report through the ORM: a dozen flushes, ~30
statements and a commit each, which caps a server near fifty reports a second. Citizen reports come in
bursts (a hotline campaign, an app push, a storm), so the Open311 door queues them to one writer per
process (:class:`IntakeQueue`) that files everything waiting in one transaction: the texts are classified
in one call, the routing rules, departments and working calendar are read once per batch, case numbers are
taken per class with one counter update, and cases, history, audit rows (chained in memory, the chain's
head locked once) and outbox events go in as multi-row INSERTs. A request is answered when its batch
commits, so nothing is acknowledged before it is durable.

The rows written are the ordinary path's rows: ``tests/domains/cases/test_intake.py`` files the same
reports both ways and compares cases, history, audit actions and events. Rules still apply: permission,
location, the lifecycle's checks on register and dispatch.
"""

from __future__ import annotations

import logging
import math
import queue
import threading
import uuid
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import datetime
from types import SimpleNamespace
from typing import Any

from sqlalchemy import Float, Integer, String, and_, bindparam, column, inspect, select, update, values
from sqlalchemy.orm import Session

from urbanbrain.core import audit, sequence
from urbanbrain.core.actions import snapshot_values
from urbanbrain.core.auth.actions import find_api_key, principal_for_key
from urbanbrain.core.auth.principal import Principal
from urbanbrain.core.bus.outbox import emit_many
from urbanbrain.core.context import Platform
from urbanbrain.core.db import UTCDateTime
from urbanbrain.core.errors import UrbanBrainError
from urbanbrain.core.geodesy import haversine_m
from urbanbrain.domains.cases import actions, events, knowledge, lifecycle, routing, sla
from urbanbrain.domains.cases.actions import (
    CASE_PROTECTED,
    DISPATCHER,
    DUPLICATE_RADIUS_M,
    DUPLICATE_WINDOW,
    METRES_PER_DEGREE,
)
from urbanbrain.domains.cases.effects import COUNTER, working_calendar
from urbanbrain.domains.cases.models import Case, CaseHistory
from urbanbrain.domains.cases.schemas import CaseReport, TransitionRequest
from urbanbrain.domains.cases.taxonomy import load as taxonomy
from urbanbrain.domains.cases.understand import understand_many
from urbanbrain.domains.registry import queries as registry

log = logging.getLogger(__name__)

CASE_KEYS = [a.key for a in inspect(Case).column_attrs]
_REQUEST = TransitionRequest().model_dump()


@dataclass
class Filing:
    """One report waiting to be filed: by a known principal, or by whoever holds ``api_key``."""

    report: CaseReport
    actor: Principal | None = None
    api_key: str | None = None


@dataclass(frozen=True)
class Filed:
    """What the reporter is told once the batch has committed."""

    id: int
    token: str
    number: str | None
    state: str
    category_code: str | None
    department_code: str | None
    triage_reason: str | None
    answer: str | None = None  # a consultation's knowledge-base answer
    call_now: str | None = None  # an emergency: the number to call now


@dataclass
class _Draft:
    """A report being filed: its case row as it will be written, and the steps taken on the way."""

    pos: int
    actor: Principal
    row: dict[str, Any]
    facility: dict[str, Any] | None
    unlocated: bool = False
    confidence: float | None = None
    answer: knowledge.Answer | None = None
    call_now: str | None = None
    route: routing.Route | None = None
    steps: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # (transition, row after it)


def file_reports(
    session: Session, platform: Platform, filings: list[Filing]
) -> list[Filed | UrbanBrainError]:
    """File every report in the caller's transaction; a report that is refused (bad key, no location,
    outside the district, unknown facility or class) gets its error and does not affect the others."""
    now = platform.clock.now()
    results: list[Filed | UrbanBrainError | None] = [None] * len(filings)
    principals: dict[str, Principal | UrbanBrainError] = {}
    drafts: list[_Draft] = []
    for pos, filing in enumerate(filings):
        try:
            actor = filing.actor or _principal(session, filing.api_key, principals)
            drafts.append(_draft(session, platform, pos, actor, filing.report, now))
        except UrbanBrainError as err:
            results[pos] = err
    _understand(platform, drafts)
    _dispatch_all(session, platform, drafts, now)
    _write(session, platform, drafts, now)
    for d in drafts:
        r = d.row
        results[d.pos] = Filed(
            r["id"],
            r["token"],
            r["number"],
            r["state"],
            r["category_code"],
            r["department_code"],
            r["triage_reason"],
            d.answer.answer if d.answer is not None and r["state"] == "closed" else None,
            d.call_now,
        )
    assert all(r is not None for r in results)  # every report is filed or refused
    return results  # type: ignore[return-value]


def _principal(
    session: Session, api_key: str | None, seen: dict[str, Principal | UrbanBrainError]
) -> Principal:
    if not api_key:
        raise UrbanBrainError("open311.api_key_required")
    if api_key not in seen:
        try:
            principal = principal_for_key(find_api_key(session, api_key))
            principal.require("cases.requests.write")
            seen[api_key] = principal
        except UrbanBrainError as err:
            seen[api_key] = err
    found = seen[api_key]
    if isinstance(found, UrbanBrainError):
        raise found
    return found


def _draft(
    session: Session, platform: Platform, pos: int, actor: Principal, data: CaseReport, now: datetime
) -> _Draft:
    """The checks of ``do_report_case`` (the same function) and the new case's row."""
    checked = actions.check_report(session, platform, actor, data)
    row: dict[str, Any] = dict.fromkeys(CASE_KEYS)
    row.update(actions.new_case_values(platform, actor, data, checked, now), version=1)
    # The rest of the class's columns (and the default title) once the report is understood.
    row["category_code"], row["title"] = checked.category, data.title
    return _Draft(pos, actor, row, checked.facility, unlocated=checked.unlocated)


def _understand(platform: Platform, drafts: list[_Draft]) -> None:
    """One classifier call for the batch; below the threshold a person decides (triage), never a guess."""
    if not drafts:
        return
    rows = [d.row for d in drafts]
    found = understand_many(
        platform,
        [r["description"] for r in rows],
        [r["category_code"] for r in rows],
        [r["source"] for r in rows],
    )
    for d, u in zip(drafts, found, strict=True):
        row = d.row
        d.confidence, d.answer, d.call_now = u.confidence, u.answer, u.call_now
        triage = u.triage or ("location_unknown" if d.unlocated and u.answer is None else None)
        row.update(
            actions.class_values(u.category, row["title"], row["description"], emergency=u.emergency),
            classified_as=u.classified_as,
            classification_confidence=u.confidence,
            triage_reason=triage,
            request_kind=u.kind,
            emergency=u.emergency,
        )


def _dispatch_all(session: Session, platform: Platform, drafts: list[_Draft], now: datetime) -> None:
    """Register and dispatch every confident report, with the rules, departments and calendar read once."""
    for d in drafts:
        d.steps.append(("report", dict(d.row)))
    confident = [d for d in drafts if d.row["triage_reason"] is None]
    if not confident:
        return
    rules, known = routing.active_rules(session), registry.department_codes(session)
    calendar = working_calendar(session, platform)
    numbers = iter(
        _numbers(session, platform.settings.district_code, [d.row["category_code"] for d in confident])
    )
    register, dispatch = lifecycle.TRANSITIONS["register"], lifecycle.TRANSITIONS["dispatch"]
    answer = lifecycle.TRANSITIONS["answer"]
    for d in confident:
        row = d.row
        lifecycle.check(register, lifecycle.Attempt(SimpleNamespace(**row), DISPATCHER, dict(_REQUEST)))
        minor = taxonomy().minor(row["category_code"])
        row.update(
            major_code=minor.major,
            priority=1 if row["emergency"] else minor.priority,
            number=next(numbers),
            registered_at=now,
            triage_reason=None,
            state="registered",
            updated_at=now,
            version=row["version"] + 1,
        )
        d.steps.append(("register", dict(row)))
        if d.answer is not None and d.answer.department not in known:
            d.answer = None  # the answering department is gone: dispatch it like any case
        if d.answer is not None:  # a consultation answered from the department's knowledge base
            params = dict(_REQUEST, department_code=d.answer.department, note=d.answer.answer)
            lifecycle.check(answer, lifecycle.Attempt(SimpleNamespace(**row), DISPATCHER, params))
            row.update(
                department_code=d.answer.department,
                answer_code=d.answer.code,
                closed_at=now,
                state="closed",
                updated_at=now,
                version=row["version"] + 1,
            )
            d.steps.append(("answer", dict(row)))
            continue
        owner = d.facility["owner_department_code"] if d.facility else None
        d.route = routing.route_by(rules, SimpleNamespace(**row), owner, known)
        if d.route is None:
            row.update(triage_reason="no_route", version=row["version"] + 1)
            continue
        params = dict(_REQUEST, department_code=d.route.department_code, note=f"auto: {d.route.reason}")
        lifecycle.check(dispatch, lifecycle.Attempt(SimpleNamespace(**row), DISPATCHER, params))
        due = sla.deadlines(calendar, minor.calendar, now, minor.accept_minutes, minor.resolve_hours)
        row.update(
            department_code=d.route.department_code,
            dispatched_at=now,
            triage_reason=None,
            accept_due_at=due.accept_due,
            resolve_warn_at=due.resolve_warn,
            resolve_due_at=due.resolve_due,
            sla_warned_at=None,
            sla_breached_at=None,
            state="dispatched",
            updated_at=now,
            version=row["version"] + 1,
        )
        d.steps.append(("dispatch", dict(row)))


def _numbers(session: Session, district: str, categories: list[str]) -> list[str]:
    """Case numbers for the batch, in order: one counter bump of ``k`` per class instead of ``k`` bumps."""
    wanted: dict[str, int] = {}
    for c in categories:
        wanted[f"{COUNTER}{district}-{c}"] = wanted.get(f"{COUNTER}{district}-{c}", 0) + 1
    lasts = sequence.take(session, wanted)
    next_of = {key: lasts[key] - n + 1 for key, n in wanted.items()}
    out = []
    for c in categories:
        key = f"{COUNTER}{district}-{c}"
        out.append(f"{district}-{c}-{next_of[key]:06d}")
        next_of[key] += 1
    return out


def _stored_duplicates(session: Session, drafts: list[_Draft]) -> dict[int, list[tuple[datetime, int]]]:
    """For each draft (by position), the stored open cases of its class within 50 m and 24 h: one query for
    the whole batch, joining the cases to a VALUES list of each report's search box."""
    boxes = []
    dlat = DUPLICATE_RADIUS_M / METRES_PER_DEGREE
    for i, d in enumerate(drafts):
        r = d.row
        if r["category_code"] is None or r["lat"] is None:
            continue
        dlon = dlat / math.cos(math.radians(r["lat"]))
        since = r["reported_at"] - DUPLICATE_WINDOW
        boxes.append(
            (i, r["category_code"], r["lon"] - dlon, r["lon"] + dlon, r["lat"] - dlat, r["lat"] + dlat, since)
        )
    found: dict[int, list[tuple[datetime, int]]] = {}
    if not boxes:
        return found
    q = (
        values(
            column("i", Integer),
            column("cat", String),
            column("lon0", Float),
            column("lon1", Float),
            column("lat0", Float),
            column("lat1", Float),
            column("since", UTCDateTime()),
            name="box",
        )
        .data(boxes)
        .cte("box")
    )  # WITH box(...) AS (VALUES ...): SQLite has no column list on a VALUES alias
    rows = session.execute(
        select(q.c.i, Case.id, Case.lon, Case.lat, Case.reported_at).join(
            Case,
            and_(
                Case.category_code == q.c.cat,
                Case.lon.between(q.c.lon0, q.c.lon1),
                Case.lat.between(q.c.lat0, q.c.lat1),
                Case.reported_at >= q.c.since,
                Case.state.in_(OPEN_STATES),
            ),
        )
    ).all()
    for x in rows:
        if _within(drafts[x.i].row, x.lon, x.lat):
            found.setdefault(x.i, []).append((x.reported_at, x.id))
    return found


OPEN_STATES = sorted(lifecycle.OPEN_STATES)


def _duplicates(drafts: list[_Draft], stored: dict[int, list[tuple[datetime, int]]]) -> dict[int, list[int]]:
    """Each new case's duplicate candidates by case id: the stored ones and those earlier in this batch
    (open cases too by now), oldest first."""
    found: dict[int, list[int]] = {}
    earlier: dict[str, list[dict[str, Any]]] = {}  # this batch's cases so far, by class
    for i, d in enumerate(drafts):
        r = d.row
        if r["category_code"] is None or r["lat"] is None:
            continue
        same = earlier.setdefault(r["category_code"], [])
        near = stored.get(i, []) + [
            (o["reported_at"], o["id"]) for o in same if _within(r, o["lon"], o["lat"])
        ]
        same.append(r)
        if near:
            found[r["id"]] = [cid for _, cid in sorted(near)]
    return found


def _within(row: dict[str, Any], lon: float, lat: float) -> bool:
    return haversine_m(row["lon"], row["lat"], lon, lat) <= DUPLICATE_RADIUS_M


def _write(session: Session, platform: Platform, drafts: list[_Draft], now: datetime) -> None:
    """Cases, their duplicate candidates, history, audit rows and events, each as one multi-row statement."""
    if not drafts:
        return
    table: Any = Case.__table__
    stored = _stored_duplicates(session, drafts)
    ids = (
        session.execute(
            table.insert().returning(table.c.id, sort_by_parameter_order=True),
            [{k: v for k, v in d.row.items() if k != "id"} for d in drafts],
        )
        .scalars()
        .all()
    )
    for d, case_id in zip(drafts, ids, strict=True):
        d.row["id"] = case_id
    dupes = _duplicates(drafts, stored)
    if dupes:
        session.execute(
            update(table)
            .where(table.c.id == bindparam("case_id"))
            .values(duplicate_candidates=bindparam("dupes")),
            [{"case_id": k, "dupes": v} for k, v in dupes.items()],
        )
    history: list[dict[str, Any]] = []
    entries: list[audit.Entry] = []
    outbox: list[tuple[str, dict[str, Any], datetime]] = []
    for d in drafts:
        case_id = d.row["id"]
        d.row["duplicate_candidates"] = dupes.get(case_id, [])
        before: dict[str, Any] | None = None
        from_state: str | None = None
        for name, after_row in d.steps:
            after_row.update(id=case_id, duplicate_candidates=d.row["duplicate_candidates"])
            actor = d.actor if name == "report" else DISPATCHER
            note = f"auto: {d.route.reason}" if name == "dispatch" and d.route else None
            if name == "answer" and d.answer is not None:
                note = d.answer.answer
            history.append(
                {
                    "case_id": case_id,
                    "at": now,
                    "actor": actor.actor,
                    "transition": name,
                    "from_state": from_state,
                    "to_state": after_row["state"],
                    "department_code": after_row["department_code"],
                    "note": note,
                    "public": True,
                }
            )
            after = snapshot_values(after_row, CASE_KEYS, protected=CASE_PROTECTED)
            action = "cases.case.report" if name == "report" else f"cases.case.{name}"
            entries.append(audit.Entry(now, actor.actor, action, "case", case_id, before, after))
            payload = {
                "id": case_id,
                "actor": actor.actor,
                "case_id": case_id,
                "number": after_row["number"],
                "state": after_row["state"],
                "department_code": after_row["department_code"],
                "category_code": after_row["category_code"],
                "street_code": after_row["street_code"],
                "priority": after_row["priority"],
                "lon": after_row["lon"],  # as actions._record's: the centre's map places it at once
                "lat": after_row["lat"],
            }
            if name == "report":
                payload.update(source=after_row["source"], confidence=d.confidence)
                outbox.append((events.REPORTED, payload, now))
                if d.row["emergency"]:
                    outbox.append(
                        (
                            events.EMERGENCY,
                            actions.emergency_payload(SimpleNamespace(**after_row), d.call_now),
                            now,
                        )
                    )
                if d.row["triage_reason"] in ("low_confidence", "location_unknown"):
                    triaged = {"case_id": case_id, "reason": d.row["triage_reason"], "token": d.row["token"]}
                    outbox.append((events.TRIAGED, triaged, now))
            else:
                payload.update(from_state=from_state, note=note)
                outbox.append((events.TRANSITION_EVENTS[name], payload, now))
            if name == "register" and d.row["triage_reason"] == "no_route":
                outbox.append(
                    (
                        events.TRIAGED,
                        {"case_id": case_id, "reason": "no_route", "number": d.row["number"]},
                        now,
                    )
                )
            before, from_state = after, after_row["state"]
    session.execute(CaseHistory.__table__.insert(), history)  # type: ignore[attr-defined]
    audit.append_many(session, entries)
    emit_many(session, outbox)


class IntakeQueue:
    """One writer per process that files queued reports in batches (group commit).

    While a batch is being written, new reports wait; the next batch takes all of them (up to
    ``max_batch``), so the batch grows with the load and a lone report is filed at once, with no timer.
    If a batch fails as a whole (a database error), each of its reports is filed again on its own, so one
    bad report cannot fail the others."""

    def __init__(self, platform: Platform, *, max_batch: int = 256) -> None:
        self.platform, self.max_batch = platform, max_batch
        self._queue: queue.SimpleQueue[tuple[Filing, Future[Filed]] | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.batches = 0
        self.filed = 0

    def submit(self, filing: Filing) -> Future[Filed]:
        future: Future[Filed] = Future()
        self._ensure_started()
        self._queue.put((filing, future))
        return future

    def _ensure_started(self) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="cases-intake", daemon=True)
                self._thread.start()

    def start(self) -> None:
        self._ensure_started()

    def stop(self) -> None:
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is not None:
            self._queue.put(None)
            thread.join(timeout=30)

    def _run(self) -> None:
        while True:
            job = self._queue.get()
            if job is None:
                return
            batch = [job]
            while len(batch) < self.max_batch:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    self._file(batch)
                    return
                batch.append(more)
            self._file(batch)

    def _file(self, batch: list[tuple[Filing, Future[Filed]]]) -> None:
        try:
            with self.platform.db.session() as session:
                results = file_reports(session, self.platform, [f for f, _ in batch])
        except Exception:
            if len(batch) == 1:
                log.exception("filing a report failed")
                batch[0][1].set_exception(_internal())
                return
            log.warning("a batch of %d reports failed; filing them one by one", len(batch), exc_info=True)
            for job in batch:
                self._file([job])
            return
        self.batches += 1
        for (_, future), result in zip(batch, results, strict=True):
            if isinstance(result, UrbanBrainError):
                future.set_exception(result)
            else:
                self.filed += 1
                future.set_result(result)


def _internal() -> UrbanBrainError:
    return UrbanBrainError("internal", ref=uuid.uuid4().hex[:12])
