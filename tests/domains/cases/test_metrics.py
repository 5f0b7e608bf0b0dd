"""The cases' gauges on /metrics: how many cases are in each state and how many are overdue, counted when
Prometheus scrapes, on both backends."""

from __future__ import annotations

from datetime import timedelta

from urbanbrain.core.auth.principal import SYSTEM
from urbanbrain.domains.cases import actions, lifecycle
from urbanbrain.domains.cases import metrics as case_metrics
from urbanbrain.domains.cases.schemas import CaseReport

SHUIWEI = (114.0665, 22.5262)


def test_cases_by_state_and_overdue_are_counted_at_each_scrape(seeded):
    case_metrics.register(seeded)
    case_metrics.register(seeded)  # a second app on the platform adds no second collector
    registry = seeded.metrics.registry

    def cases(state: str) -> float | None:
        return registry.get_sample_value("urbanbrain_cases", {"state": state})

    assert all(cases(state) == 0 for state in lifecycle.STATES)  # every state, before any case
    assert registry.get_sample_value("urbanbrain_cases_overdue") == 0
    report = CaseReport(description="井盖丢了", category_code="C0101", lon=SHUIWEI[0], lat=SHUIWEI[1])
    with seeded.db.session() as session:
        case = actions.do_report_case(session, seeded, SYSTEM, report)
        state = case.state
    assert state == "dispatched" and cases("dispatched") == 1
    assert registry.get_sample_value("urbanbrain_cases_overdue") == 0
    seeded.clock.advance(timedelta(minutes=31))  # a missing manhole cover is to be accepted in 30 minutes
    assert registry.get_sample_value("urbanbrain_cases_overdue") == 1
