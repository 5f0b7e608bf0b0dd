"""The simulated month (``urbanbrain simulate cases``, run by ``make demo``) leaves the centre's statistics
with real figures: every step went through the ordinary actions, so the views agree with what happened."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from urbanbrain.core import audit
from urbanbrain.domains.cases.models import Case, CaseHistory
from urbanbrain.simulate import cases as simulate


def test_a_replayed_week_shows_in_the_statistics(api):
    platform = api.platform
    start = platform.clock.now()
    outcome = simulate.replay(platform, days=7, per_day=25, seed=3)
    assert platform.clock.now() == start + timedelta(days=7)
    assert outcome.reported > 100 and outcome.refused == 0
    assert outcome.closed > 0 and outcome.verify_failed > 0 and outcome.late > 0

    with platform.db.session() as session:
        cases = session.scalar(select(func.count()).select_from(Case))
        closed = session.scalar(select(func.count()).select_from(Case).where(Case.state == "closed"))
        fails = session.scalar(
            select(func.count()).select_from(CaseHistory).where(CaseHistory.transition == "verify_fail")
        )
        assert audit.verify_chain(session)[1] == []
    assert cases == outcome.reported and fails == outcome.verify_failed
    assert closed == outcome.closed + outcome.answered  # answered consultations close at intake

    operator = api.user("operator")
    stats = api.client.get(
        "/api/v1/cases/statistics",
        headers=operator,
        params={"from": start.isoformat(), "to": platform.clock.now().isoformat()},
    ).json()
    assert stats["totals"]["dispatched"] == outcome.dispatched
    assert stats["totals"]["closed"] == outcome.closed
    assert 0 < stats["totals"]["on_time"] < stats["totals"]["resolved"]
    assert stats["verification"]["failed"] == outcome.verify_failed
    by_area = api.client.get("/api/v1/cases/by-area", headers=operator).json()
    assert sum(a["closed"] for a in by_area) == outcome.closed + outcome.answered
