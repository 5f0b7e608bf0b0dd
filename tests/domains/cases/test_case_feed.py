"""Cases on the command centre's live feed: a report registered and dispatched, closed, and SLA breaches,
each with where it is (the map places it as it arrives); only the centre (manage) hears them."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from urbanbrain.core.auth.actions import principal_for_user
from urbanbrain.core.live import feed
from urbanbrain.core.models import User


def _principal(desk, who: str):
    desk.heads[who]  # creates the user
    with desk.platform.db.session() as s:
        user = (
            s.query(User).filter(User.role == {"operator": "operator", "water": "dept_handler"}[who]).first()
        )
        return principal_for_user(user, s)


def test_the_centre_hears_cases_as_they_move_and_departments_do_not(desk):
    live = feed(desk.platform)
    operator, water = _principal(desk, "operator"), _principal(desk, "water")

    async def watch():
        centre, department = live.subscribe(operator), live.subscribe(water)
        try:
            case = await asyncio.to_thread(desk.report, category_code="E0101")
            seen = []
            while not any(i.data.get("event") == "dispatched" for i in seen):
                seen.append(await asyncio.wait_for(centre.queue.get(), timeout=10))
            return case, seen, department.queue.qsize()
        finally:
            live.unsubscribe(centre)
            live.unsubscribe(department)

    case, seen, heard_by_department = asyncio.run(watch())
    assert [i.name for i in seen] == ["case"] * len(seen)
    dispatched = seen[-1].data
    assert dispatched["number"] == case["number"]
    assert (dispatched["department_code"], dispatched["category_code"]) == ("urban_management", "E0101")
    assert (dispatched["lon"], dispatched["lat"]) == (114.0665, 22.5262)
    assert "case_id" not in dispatched
    assert heard_by_department == 0  # the feed checks a permission, not a scope: departments get none


def _sweep(platform) -> None:
    from urbanbrain.domains.cases.actions import sla_sweep

    with platform.db.session() as session:
        sla_sweep(session, platform)


def test_an_sla_breach_goes_on_the_feed_as_sla(desk):
    live = feed(desk.platform)
    operator = _principal(desk, "operator")
    case = desk.report(category_code="E0101")

    async def watch():
        sub = live.subscribe(operator)
        try:
            desk.platform.clock.advance(timedelta(days=10))
            await asyncio.to_thread(_sweep, desk.platform)
            desk.platform.relay.flush()
            seen = []
            while not any(i.name == "sla" and i.data["event"] == "sla_breached" for i in seen):
                seen.append(await asyncio.wait_for(sub.queue.get(), timeout=10))
            return seen
        finally:
            live.unsubscribe(sub)

    breach = next(i for i in asyncio.run(watch()) if i.name == "sla" and i.data["event"] == "sla_breached")
    assert breach.data["number"] == case["number"]
