"""SLA arithmetic on the simulated clock: calendar and working hours, warnings at 80%, breaches at 100%,
and on-time statistics over a simulated month."""

from datetime import date, datetime, timedelta, timezone

from urbanbrain.domains.cases.sla import WorkingCalendar, add_time, deadlines, time_between

CST = timezone(timedelta(hours=8))


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=CST)


def test_working_time_skips_lunch_nights_and_weekends():
    cal = WorkingCalendar()
    # Friday 2018-07-06 17:00 + 2 working hours = Monday 10:00.
    assert cal.add(at(2018, 7, 6, 17), timedelta(hours=2)) == at(2018, 7, 9, 10)
    # 11:30 + 1 h crosses lunch: 14:30.
    assert cal.add(at(2018, 7, 9, 11, 30), timedelta(hours=1)) == at(2018, 7, 9, 14, 30)
    # A report at night starts counting at 09:00.
    assert cal.add(at(2018, 7, 9, 22), timedelta(minutes=30)) == at(2018, 7, 10, 9, 30)
    assert cal.between(at(2018, 7, 6, 17), at(2018, 7, 9, 10)) == timedelta(hours=2)
    # A working day has 7 hours: 72 working hours are about two working weeks.
    assert cal.add(at(2018, 7, 9, 9), timedelta(hours=72)) == at(2018, 7, 23, 11)


def test_holidays_and_makeup_workdays():
    # 2018 Mid-Autumn: Monday 24 September off; National Day week 1-7 October off, with Saturday
    # 29 September and Sunday 30 September worked in exchange (调休).
    days = (
        [(date(2018, 9, 24), "holiday")]
        + [(date(2018, 10, d), "holiday") for d in range(1, 8)]
        + [(date(2018, 9, 29), "workday"), (date(2018, 9, 30), "workday")]
    )
    cal = WorkingCalendar.from_settings("09:00-12:00,14:00-18:00", "1-5", days)
    assert cal.add(at(2018, 9, 21, 17), timedelta(hours=2)) == at(2018, 9, 25, 10)
    assert cal.add(at(2018, 9, 28, 17), timedelta(hours=2)) == at(2018, 9, 29, 10)
    assert cal.add(at(2018, 9, 30, 17), timedelta(hours=2)) == at(2018, 10, 8, 10)


def test_configured_hours_and_calendar_mode():
    cal = WorkingCalendar.from_settings("08:30-17:30", "1-6")
    assert cal.add(at(2018, 7, 7, 17), timedelta(hours=1)) == at(2018, 7, 9, 9)  # Saturday works, Sunday not
    start = at(2018, 7, 7, 23)
    assert add_time(cal, "calendar", start, timedelta(hours=4)) == at(2018, 7, 8, 3)
    assert time_between(cal, "calendar", start, at(2018, 7, 8, 3)) == timedelta(hours=4)
    d = deadlines(cal, "calendar", start, 30, 10)
    assert d.accept_due == at(2018, 7, 7, 23, 30)
    assert d.resolve_warn == at(2018, 7, 8, 7) and d.resolve_due == at(2018, 7, 8, 9)


def _sweep(desk):
    from urbanbrain.domains.cases.actions import sla_sweep

    with desk.platform.db.session() as s:
        result = sla_sweep(s, desk.platform)
    desk.platform.relay.flush()
    return result


def test_warning_at_80_percent_and_breach_at_100(desk):
    case = desk.report(category_code="E0101")  # exposed rubbish: 12 calendar hours
    reported = datetime.fromisoformat(case["dispatched_at"])
    assert datetime.fromisoformat(case["resolve_due_at"]) - reported == timedelta(hours=12)
    desk.platform.clock.advance(timedelta(hours=9, minutes=30))
    assert _sweep(desk) == {"warned": 0, "breached": 0}
    desk.platform.clock.advance(timedelta(minutes=6))  # 9 h 36 min = 80 %
    assert _sweep(desk) == {"warned": 1, "breached": 0}
    assert _sweep(desk) == {"warned": 0, "breached": 0}  # warned once only
    urban = desk.client.get("/api/v1/cases/notifications", headers=desk.heads["urban"]).json()
    centre = desk.client.get("/api/v1/cases/notifications", headers=desk.heads["operator"]).json()
    assert any(n["kind"] == "cases.case.sla_warning" for n in urban)
    assert any(n["kind"] == "cases.case.sla_warning" for n in centre)
    desk.platform.clock.advance(timedelta(hours=2, minutes=24))
    assert _sweep(desk) == {"warned": 0, "breached": 1}
    overdue = desk.client.get("/api/v1/cases/overdue", headers=desk.heads["operator"]).json()
    assert [c["number"] for c in overdue["items"]] == [case["number"]]
    assert overdue["items"][0]["overdue"] is True


def test_suspended_cases_do_not_breach(desk):
    case = desk.report(category_code="E0101")
    case = desk.act("urban", case, "accept")
    case = desk.act("urban", case, "request_suspend", note="等待")
    desk.act("operator", case, "approve_suspend")
    desk.platform.clock.advance(timedelta(hours=13))
    assert _sweep(desk) == {"warned": 0, "breached": 0}


def test_on_time_statistics_for_a_simulated_month(desk):
    """Thirty days, one case a day: even days resolved in 2 hours, odd days in 14 (past the 12-hour limit);
    every fifth verification fails once before passing."""
    for day in range(30):
        case = desk.report(
            category_code="E0101", at=(114.0645 + (day % 6) * 0.0008, 22.5245 + (day // 6) * 0.0008)
        )
        case = desk.act("urban", case, "accept")
        desk.platform.clock.advance(timedelta(hours=2 if day % 2 == 0 else 14))
        _sweep(desk)
        case = desk.act("urban", case, "resolve", note="已清运")
        if day % 5 == 0:
            case = desk.act("verifier", case, "verify_fail", note="未清理干净")
            case = desk.act("urban", case, "resolve", note="再次清运")
        case = desk.act("verifier", case, "verify_pass")
        desk.act("operator", case, "close")
        desk.platform.clock.advance(timedelta(hours=24) - timedelta(hours=2 if day % 2 == 0 else 14))
    stats = desk.client.get(
        "/api/v1/cases/statistics", headers=desk.heads["operator"], params={"group_by": "department"}
    ).json()
    urban = next(g for g in stats["groups"] if g["key"] == "urban_management")
    assert urban["dispatched"] == 30 and urban["resolved"] == 30 and urban["closed"] == 30
    assert urban["on_time"] == 15 and urban["on_time_rate"] == 0.5
    assert urban["breached"] == 15
    assert stats["verification"] == {"passed": 30, "failed": 6, "pass_rate": round(30 / 36, 4)}
    by_area = desk.client.get("/api/v1/cases/by-area", headers=desk.heads["operator"]).json()
    assert sum(a["closed"] for a in by_area) == 30
