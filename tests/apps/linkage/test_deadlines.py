"""Acknowledgement deadlines on the simulated clock: a task acknowledged in time is left alone; a missed one
is flagged once, on the timeline, in the centre's and the department's inboxes and by SMS to its duty phone."""

from datetime import timedelta

from sqlalchemy import func, select

from urbanbrain.core.models import Delivery, OutboxEvent
from urbanbrain.core.notify import CENTRE


def _count(desk, model, *where):
    with desk.platform.db.session() as s:
        return s.scalar(select(func.count()).select_from(model).where(*where))


def test_a_task_acknowledged_in_time_is_not_escalated_and_a_missed_one_is_once(desk, clock):
    incident = desk.start("yellow")
    police = [t for t in incident["tasks"] if t["department_code"] == "police"]
    clock.advance(timedelta(minutes=4))
    for t in police:  # 5 minutes to acknowledge: in time
        done = desk.call("POST", "police", f"/tasks/{t['id']}/acknowledge", json={"version": t["version"]})
        assert done["state"] == "acknowledged"
    clock.advance(timedelta(minutes=5))  # 9 minutes: the 10-minute tasks are not late yet
    assert desk.sweep() == {"overdue": 0}
    clock.advance(timedelta(minutes=1))
    assert desk.sweep() == {"overdue": 3}  # street office, urban management, health
    assert desk.sweep() == {"overdue": 0}  # once only

    detail = desk.incident(incident["code"])
    late = sorted(t["department_code"] for t in detail["tasks"] if t["overdue"])
    assert late == ["health", "street-440304004", "urban_management"]
    assert detail["tasks_overdue"] == 3
    assert [e["kind"] for e in detail["timeline"]].count("task_overdue") == 3
    assert _count(desk, OutboxEvent, OutboxEvent.type == "linkage.task.overdue") == 3
    assert len(desk.inbox(CENTRE, "linkage.task.overdue")) == 3
    assert len(desk.inbox("health", "linkage.task.overdue")) == 1
    assert len(desk.inbox("police", "linkage.task.overdue")) == 0
    # Each late department's duty phone gets an SMS (the demo departments all have one).
    assert (
        _count(desk, Delivery, Delivery.channel == "sms", Delivery.event_type == "linkage.task.overdue") == 3
    )

    # Acknowledged late, a task still shows it was late; the sweep does not flag it again.
    health = desk.task(detail, "medical_standby")
    desk.call("POST", "health", f"/tasks/{health['id']}/acknowledge", json={})
    assert desk.call("GET", "health", f"/tasks/{health['id']}")["overdue"] is True
    clock.advance(timedelta(hours=1))
    assert desk.sweep() == {"overdue": 0}
