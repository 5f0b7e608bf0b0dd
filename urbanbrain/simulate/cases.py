"""A simulated month of the command centre: citizens report through the Open311 intake, departments accept
and resolve, verifiers check, the centre corrects triage and closes, the SLA sweep runs every hour.

Used by ``urbanbrain simulate cases`` and ``make demo``, so that the centre's statistics (on-time rates,
verification pass rates, cases by area) show a month of work on a fresh install. Every step goes through
the same actions a person's click does (``file_reports``, ``apply_transition``, ``sla_sweep``): rules,
history, audit rows and events are real; only the people are simulated. Time comes from a simulated clock
that starts ``days`` before now and is moved from one event to the next.
"""

from __future__ import annotations

import functools
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from urbanbrain.core.auth.principal import Principal
from urbanbrain.core.auth.roles import ROLES
from urbanbrain.core.clock import SimulatedClock
from urbanbrain.core.context import Platform
from urbanbrain.core.errors import UrbanBrainError
from urbanbrain.domains.cases import actions, intake
from urbanbrain.domains.cases.models import Case
from urbanbrain.domains.cases.schemas import CaseReport, TransitionRequest
from urbanbrain.domains.cases.taxonomy import load as taxonomy
from urbanbrain.domains.registry import spatial
from urbanbrain.simulate.agenda import Agenda

# Reports per hour of the day (local time): few at night, peaks mid-morning and early evening.
HOURLY_SHAPE = [1, 1, 1, 1, 1, 2, 3, 5, 7, 9, 9, 8, 6, 6, 7, 8, 8, 9, 9, 8, 6, 4, 3, 2]


@dataclass
class Outcome:
    reported: int = 0
    dispatched: int = 0
    triaged: int = 0
    resolved: int = 0
    verify_failed: int = 0
    closed: int = 0
    answered: int = 0  # consultations answered from a knowledge base at intake (closed without a crew)
    late: int = 0
    refused: int = 0

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


def _person(role: str, name: str, department: str | None = None) -> Principal:
    r = ROLES[role]
    return Principal(
        kind="simulated",
        id=None,
        name=name,
        role=r.code,
        scope=r.scope,
        permissions=r.permissions,
        department_code=department,
    )


class MonthReplay:
    """Runs the month; ``per_day`` reports on average, from the classifier corpus's held-out texts."""

    def __init__(self, platform: Platform, *, days: int = 30, per_day: int = 40, seed: int = 1) -> None:
        if not isinstance(platform.clock, SimulatedClock):
            raise ValueError("the month is replayed on a simulated clock")
        self.platform, self.days, self.per_day = platform, days, per_day
        self.clock: SimulatedClock = platform.clock
        self.rng = random.Random(seed)
        self.agenda = Agenda(self.clock)
        self.outcome = Outcome()
        self.operator = _person("operator", "centre-operator")
        self.verifier = _person("verifier", "centre-verifier")
        self.hotline = Principal(
            kind="simulated",
            id=None,
            name="open311-hotline",
            role="api_key",
            scope="all",
            permissions=frozenset({"cases.requests.write", "cases.requests.read"}),  # an Open311 key's
        )
        from urbanbrain.simulate.reports import load_corpus

        self.texts = [s["text"] for s in load_corpus() if s.get("split") == "test" and s["label"] != "OTHER"]
        self.noise = [s["text"] for s in load_corpus() if s.get("split") == "test" and s["label"] == "OTHER"]

    # --- scheduling ---------------------------------------------------------------------------------

    def _at(self, when: datetime, act: Callable[[], None]) -> None:
        self.agenda.at(when, act)

    def run(self) -> Outcome:
        start = self.clock.now()
        end = start + timedelta(days=self.days)
        hour = start.replace(minute=0, second=0, microsecond=0)
        while hour < end:
            local_hour = (hour.hour + self.platform.settings.utc_offset_hours) % 24
            expected = self.per_day * HOURLY_SHAPE[local_hour] / sum(HOURLY_SHAPE)
            n = self._poisson(expected)
            for _ in range(n):
                self._at(hour + timedelta(seconds=self.rng.uniform(0, 3600)), self._report)
            self._at(hour + timedelta(minutes=59, seconds=59), self._sweep)
            hour += timedelta(hours=1)
        self.agenda.run(end)
        return self.outcome

    def _poisson(self, lam: float) -> int:
        # Knuth's method: small means only (a few reports an hour).
        threshold, k, p = pow(2.718281828459045, -lam), 0, 1.0
        while True:
            p *= self.rng.random()
            if p <= threshold:
                return k
            k += 1

    # --- the people ---------------------------------------------------------------------------------

    def _report(self) -> None:
        """A citizen's report, filed through the Open311 door's intake."""
        text = self.rng.choice(self.noise if self.rng.random() < 0.03 else self.texts)
        lon, lat = self._point(self.lookup)
        report = CaseReport(description=text, source="hotline", lon=lon, lat=lat)
        filings = [intake.Filing(report, actor=self.hotline)]
        with self.platform.db.session() as session:
            filed = intake.file_reports(session, self.platform, filings)
        for f in filed:
            if isinstance(f, UrbanBrainError):
                self.outcome.refused += 1
                continue
            self.outcome.reported += 1
            if f.state == "dispatched":
                self.outcome.dispatched += 1
                self._schedule_accept(f.id)
            elif f.state == "closed":
                self.outcome.answered += 1
            else:
                self.outcome.triaged += 1
                self._at(
                    self.clock.now() + timedelta(minutes=self.rng.uniform(10, 90)),
                    functools.partial(self._triage, f.id),
                )

    @functools.cached_property
    def lookup(self) -> Any:
        """The area index, read once: areas do not change during a replay."""
        with self.platform.db.session() as session:
            return spatial.get_lookup(self.platform, session)

    def _point(self, lookup: Any) -> tuple[float, float]:
        x0, y0, x1, y1 = lookup.district.bounds
        while True:
            lon, lat = self.rng.uniform(x0, x1), self.rng.uniform(y0, y1)
            if lookup.contains_district(lon, lat) and lookup.locate(lon, lat).grid_code:
                return round(lon, 6), round(lat, 6)

    def _act(self, case_id: int, who: Principal, name: str, **req: Any) -> Case | None:
        with self.platform.db.session() as session:
            case = session.get(Case, case_id)
            if case is None:
                return None
            try:
                actions.apply_transition(session, self.platform, who, case, name, TransitionRequest(**req))
            except UrbanBrainError:
                session.rollback()
                return None
            return case

    def _handler(self, case: Case) -> Principal:
        dept = case.department_code or ""
        return _person("dept_handler", f"handler-{dept}", dept)

    def _schedule_accept(self, case_id: int) -> None:
        with self.platform.db.session() as session:
            case = session.get(Case, case_id)
            minor = taxonomy().minor(case.category_code or "") if case else None
        if case is None or minor is None:
            return
        delay = timedelta(minutes=self.rng.uniform(2, max(3.0, minor.accept_minutes * 0.9)))
        self._at(self.clock.now() + delay, lambda: self._accept(case_id))

    def _accept(self, case_id: int) -> None:
        with self.platform.db.session() as session:
            case = session.get(Case, case_id)
            who = self._handler(case) if case else None
        if who is None or self._act(case_id, who, "accept") is None:
            return
        self._act(case_id, who, "start")
        with self.platform.db.session() as session:
            case = session.get(Case, case_id)
            due = case.resolve_due_at if case else None
        if due is None:
            return
        limit = max(due - self.clock.now(), timedelta(minutes=30))
        # Most work finishes within the limit; about one case in seven runs late.
        share = self.rng.uniform(1.05, 1.8) if self.rng.random() < 0.15 else self.rng.uniform(0.15, 0.95)
        self._at(self.clock.now() + limit * share, lambda: self._resolve(case_id, who))

    def _resolve(self, case_id: int, who: Principal) -> None:
        case = self._act(case_id, who, "resolve", note="已处置 / Dealt with")
        if case is None:
            return
        self.outcome.resolved += 1
        if case.resolve_due_at is not None and case.resolved_at and case.resolved_at > case.resolve_due_at:
            self.outcome.late += 1
        self._at(
            self.clock.now() + timedelta(minutes=self.rng.uniform(30, 300)),
            lambda: self._verify(case_id, who),
        )

    def _verify(self, case_id: int, who: Principal) -> None:
        if self.rng.random() < 0.12:
            if self._act(case_id, self.verifier, "verify_fail", note="现场复核未通过 / Not fixed on site"):
                self.outcome.verify_failed += 1
                again = timedelta(hours=self.rng.uniform(1, 8))
                self._at(self.clock.now() + again, lambda: self._resolve(case_id, who))
            return
        passed = self._act(case_id, self.verifier, "verify_pass", note="复核通过 / Verified")
        if passed and self._act(case_id, self.operator, "close"):
            self.outcome.closed += 1

    def _triage(self, case_id: int) -> None:
        """The operator reads a case the classifier was unsure of: files it under its top guess, or cancels
        what is not a city problem."""
        with self.platform.db.session() as session:
            case = session.get(Case, case_id)
            guess = case.classified_as if case else None
            text = case.description if case else ""
        if text in self.noise or guess is None:
            self._act(case_id, self.operator, "cancel", note="非城市管理事项 / Not a city matter")
            return
        if self._act(case_id, self.operator, "register", category_code=guess) is None:
            return
        from urbanbrain.domains.cases import routing
        from urbanbrain.domains.registry import queries as registry

        with self.platform.db.session() as session:
            case = session.get(Case, case_id)
            found = routing.route(session, case, None, registry.department_codes(session)) if case else None
        if found is None:
            return
        if self._act(case_id, self.operator, "dispatch", department_code=found.department_code):
            self.outcome.dispatched += 1
            self._schedule_accept(case_id)

    def _sweep(self) -> None:
        with self.platform.db.session() as session:
            actions.sla_sweep(session, self.platform)


def replay(platform: Platform, *, days: int = 30, per_day: int = 40, seed: int = 1) -> Outcome:
    return MonthReplay(platform, days=days, per_day=per_day, seed=seed).run()


def already_replayed(platform: Platform) -> bool:
    with platform.db.session() as session:
        return session.scalar(select(Case.id).limit(1)) is not None
