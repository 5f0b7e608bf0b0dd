"""Incidents and their tasks on the command centre's live feed: a plan started shows as ``incident``
(started) and each department's task as ``task`` (assigned, then acknowledged); only the centre hears them."""

from __future__ import annotations

import asyncio

from urbanbrain.core.auth.actions import principal_for_user
from urbanbrain.core.live import feed
from urbanbrain.core.models import User


def _principal(desk, who: str, role: str):
    desk.head(who)  # creates the user
    with desk.platform.db.session() as s:
        return principal_for_user(s.query(User).filter(User.role == role).first(), s)


def test_the_centre_sees_a_plan_start_and_a_task_acknowledged_on_the_feed(desk):
    live = feed(desk.platform)
    operator, police = _principal(desk, "operator", "operator"), _principal(desk, "police", "dept_handler")

    async def watch():
        centre, department = live.subscribe(operator), live.subscribe(police)
        try:
            incident = await asyncio.to_thread(desk.start, "blue")
            task = desk.task(incident, "police_patrol")
            await asyncio.to_thread(desk.call, "POST", "police", f"/tasks/{task['id']}/acknowledge", json={})
            seen = []
            while not any(i.name == "task" and i.data["event"] == "acknowledged" for i in seen):
                seen.append(await asyncio.wait_for(centre.queue.get(), timeout=10))
            return incident, task, seen, department.queue.qsize()
        finally:
            live.unsubscribe(centre)
            live.unsubscribe(department)

    incident, task, seen, heard_by_department = asyncio.run(watch())
    started = next(i for i in seen if i.name == "incident")
    assert started.data["event"] == "started" and started.id == incident["code"]
    assert (started.data["zone_code"], started.data["level"]) == ("civic_plaza", "blue")
    assigned = [i for i in seen if i.name == "task" and i.data["event"] == "assigned"]
    assert len(assigned) == len(incident["tasks"])
    acknowledged = seen[-1]
    assert acknowledged.id == str(task["id"]) and acknowledged.data["department_code"] == "police"
    assert heard_by_department == 0  # departments read their tasks from the API, in their scope
