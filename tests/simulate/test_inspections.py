"""The simulated season of fire-safety inspections (``urbanbrain simulate inspections``, run by ``make demo``)
leaves the fire-safety statistics and the fire map with real figures: every change went through the app's
actions, so the views agree with what happened, and the same seed replays the same season."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select
from typer.testing import CliRunner

from tests.conftest import START, _platform
from urbanbrain.cli.main import app as cli
from urbanbrain.core import audit
from urbanbrain.core.clock import SimulatedClock
from urbanbrain.core.models import AuditEntry
from urbanbrain.simulate import inspections as simulate

SHUIWEI_COMMUNITY = "440304004028"


def _audited(platform) -> dict[str, int]:
    with platform.db.session() as session:
        rows = session.execute(
            select(AuditEntry.action, func.count())
            .where(AuditEntry.action.like("fire_safety.%"))
            .group_by(AuditEntry.action)
        ).all()
        assert audit.verify_chain(session)[1] == []
    return {action: n for action, n in rows}


def test_a_replayed_season_shows_in_the_statistics_and_the_fire_map(api):
    platform = api.platform
    start = platform.clock.now()
    outcome = simulate.replay(platform, days=21, seed=2)
    platform.relay.flush()
    assert platform.clock.now() == start + timedelta(days=21)
    assert outcome.refused == 0
    assert outcome.inspections > 600 and outcome.hazards > 150 and outcome.major > 0
    assert outcome.closed > 0 and outcome.failed > 0 and outcome.overdue > 0 and outcome.escalated > 0

    # Every change is an action's: its audit row (the sweep's overdue flag is a history row and an event).
    done = _audited(platform)
    assert done["fire_safety.inspection.record"] == outcome.inspections + outcome.re_inspections
    assert done["fire_safety.hazard.find"] == outcome.hazards
    assert done["fire_safety.hazard.rectify"] == outcome.rectified
    assert done["fire_safety.hazard.reinspect_pass"] == outcome.closed
    assert done["fire_safety.hazard.reinspect_fail"] == outcome.failed
    assert done["fire_safety.hazard.escalate"] == outcome.escalated

    operator = api.user("operator")
    period = {"from": start.isoformat(), "to": platform.clock.now().isoformat()}
    r = api.client.get("/api/v1/fire_safety/statistics", headers=operator, params=period)
    assert r.status_code == 200, r.text
    stats = r.json()
    assert stats["inspections"]["routine"] == outcome.inspections
    assert stats["inspections"]["re_inspection"] == outcome.re_inspections
    hazards = stats["hazards"]
    assert (hazards["found"], hazards["major"]) == (outcome.hazards, outcome.major)
    assert (hazards["closed"], hazards["failures"]) == (outcome.closed, outcome.failed)
    assert hazards["escalated"] == outcome.escalated
    assert 0 < hazards["closed_on_time"] < hazards["closed"]  # most on time, some late
    assert 0 < hazards["on_time_rate"] < 1
    assert hazards["open"] + hazards["rectified"] + hazards["closed"] == hazards["found"]
    assert sum(t["found"] > 0 for t in stats["by_type"]) >= 6  # the real types, most of them
    # The escalated hazards are cases of the fire classes, filed by the grid.
    cases = api.client.get("/api/v1/cases", headers=operator, params={"source": "grid", "page_size": 200})
    assert cases.status_code == 200, cases.text
    assert cases.json()["total"] == outcome.escalated
    assert {c["category_code"][:3] for c in cases.json()["items"]} == {"E07"}

    # A grid worker of Shuiwei sees the same figures for the community; the fire map shows open hazards.
    worker = api.user("grid_worker", area=SHUIWEI_COMMUNITY)
    own = api.client.get("/api/v1/fire_safety/statistics", headers=worker, params=period).json()
    assert own["hazards"] == hazards
    fire_map = api.client.get(
        "/api/v1/fire_safety/villages/440304004028-V01/fire-map", headers=operator
    ).json()
    assert fire_map["properties"]["by_status"]["hazard"] > 0
    # every hazard not closed is on the map, at its building (or the building of its venue)
    assert sum(f["properties"]["open_hazards"] for f in fire_map["features"]) == (
        hazards["open"] + hazards["rectified"]
    )


def test_the_same_seed_replays_the_same_season(templates, backend, tmp_path):
    """Two fresh copies of the district, each on its own clock from the same start."""
    runs = []
    for name in ("a", "b"):
        copy = _platform(templates, backend, "seeded", tmp_path / name, SimulatedClock(START, speed=0))
        platform = next(copy)
        try:
            runs.append((simulate.replay(platform, days=7, seed=9).as_dict(), _audited(platform)))
        finally:
            next(copy, None)  # closes the platform
    assert runs[0] == runs[1] and runs[0][0]["hazards"] > 0


def test_simulate_inspections_command(seeded, monkeypatch):
    s = seeded.settings
    for name, value in (("DATABASE_URL", s.database_url), ("DATA_DIR", str(s.data_dir)),
                        ("PII_KEY", s.pii_key), ("SECRET_KEY", s.secret_key)):  # fmt: skip
        monkeypatch.setenv(f"URBANBRAIN_{name}", value)
    result = CliRunner().invoke(cli, ["simulate", "inspections", "--days", "3", "--seed", "4"])
    assert result.exit_code == 0, result.output
    assert "replayed 3 days of inspections" in result.output and "0 refused" in result.output
    assert simulate.already_replayed(seeded)
    bad = CliRunner().invoke(cli, ["simulate", "inspections", "--village", "NOPE"])
    assert bad.exit_code == 2 and "NOPE" in bad.output
