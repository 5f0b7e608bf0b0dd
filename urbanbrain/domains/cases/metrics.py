"""The cases domain's gauges for Prometheus, counted at each scrape with one GROUP BY query: cases by state
(``urbanbrain_cases{state}``) and cases past a time limit (``urbanbrain_cases_overdue``, as the centre's
overdue view counts them)."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from prometheus_client.core import GaugeMetricFamily, Metric
from sqlalchemy import case as sql_case
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from urbanbrain.core.context import Platform
from urbanbrain.domains.cases import lifecycle
from urbanbrain.domains.cases.models import Case
from urbanbrain.domains.cases.queries import overdue_clause

log = logging.getLogger(__name__)


def register(platform: Platform) -> None:
    """Serve the cases' gauges on the platform's ``/metrics`` (once per platform)."""
    platform.metrics.collect("urbanbrain_cases", lambda: collect(platform))


def collect(platform: Platform) -> Iterable[Metric]:
    """Every state, with 0 for a state no case is in: a series that vanished would look like missing data."""
    overdue_now = sql_case((overdue_clause(platform.clock.now()), 1), else_=0)
    stmt = select(Case.state, func.count(), func.sum(overdue_now)).group_by(Case.state)
    try:
        with platform.db.sessionmaker() as session:
            if platform.db.dialect == "sqlite":  # a read: never SQLite's write lock
                session.connection(execution_options={"sqlite_begin": "DEFERRED"})
            rows = session.execute(stmt).all()
    except SQLAlchemyError:  # the database is away: /metrics still shows the rest (and /healthz says why)
        log.exception("cases metrics: the database did not answer")
        return []
    by_state = dict.fromkeys(lifecycle.STATES, 0)
    overdue = 0
    for state, count, past_due in rows:
        by_state[state] = int(count)
        overdue += int(past_due or 0)
    cases = GaugeMetricFamily("urbanbrain_cases", "Cases by state", labels=["state"])
    for state, count in by_state.items():
        cases.add_metric([state], count)
    late = GaugeMetricFamily(
        "urbanbrain_cases_overdue", "Cases past their time to accept or resolve", overdue
    )
    return [cases, late]
