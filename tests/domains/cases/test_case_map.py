"""The centre's map of open cases: one short row per case in the reader's scope, with its SLA state, now or
as it stood at a past moment (the time slider)."""

from __future__ import annotations

from datetime import timedelta, timezone

UTC8 = timezone(timedelta(hours=8))


def _rows(desk, who: str, at=None) -> dict[str, dict]:
    # the API reads ``at`` as district local time (UTC+8) without an offset
    params = {"at": at.astimezone(UTC8).replace(tzinfo=None).isoformat()} if at else {}
    r = desk.client.get("/api/v1/cases/map", params=params, headers=desk.heads[who])
    assert r.status_code == 200, r.text
    body = r.json()
    return {row[2]: dict(zip(body["columns"], row, strict=True)) for row in body["rows"]}


def test_open_cases_are_on_the_map_with_their_sla_state_in_the_readers_scope(desk):
    case = desk.report(category_code="E0101")
    n = case["number"]
    row = _rows(desk, "operator")[n]
    assert (row["state"], row["sla"], row["department"], row["category"]) == (
        "dispatched", "ok", "urban_management", "E0101")  # fmt: skip
    assert (row["lon"], row["lat"]) == (114.0665, 22.5262)
    assert n in _rows(desk, "urban")
    assert n not in _rows(desk, "water")  # another department's case is not on its map
    desk.act("urban", case, "accept")
    due = desk.get("operator", case)["resolve_due_at"]
    assert due
    desk.platform.clock.advance(timedelta(days=30))
    assert _rows(desk, "operator")[n]["sla"] == "breached"


def test_the_map_at_a_past_moment_shows_the_case_as_it_stood(desk):
    reported_at = desk.platform.clock.now()
    case = desk.report(category_code="E0101")
    n = case["number"]
    desk.platform.clock.advance(timedelta(hours=1))
    case = desk.act("urban", case, "accept")
    desk.platform.clock.advance(timedelta(hours=1))
    case = desk.act("urban", case, "resolve", note="已清运")
    case = desk.act("verifier", case, "verify_pass", note="核查通过")
    case = desk.act("operator", case, "close")
    assert n not in _rows(desk, "operator")  # closed: off the live map
    assert n not in _rows(desk, "operator", at=reported_at - timedelta(minutes=5))  # not yet reported
    assert _rows(desk, "operator", at=reported_at + timedelta(minutes=30))[n]["state"] == "dispatched"
    assert _rows(desk, "operator", at=reported_at + timedelta(minutes=90))[n]["state"] == "accepted"
    assert n not in _rows(desk, "operator", at=reported_at + timedelta(hours=3))
