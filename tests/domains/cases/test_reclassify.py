"""A dispatcher's route is a class and a department: a case dispatched or reassigned with another class is
filed under it, with that class's priority and time limits, a step in its timeline, the change in the audit
log, and a correction in the classifier's statistics."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from urbanbrain.core.models import AuditEntry
from urbanbrain.domains.cases.classify import retrain

# E0101 exposed rubbish: urban_management, priority 3, 60 min to accept, 12 h to resolve (calendar hours).
# C0101 manhole cover: water, priority 1, 30 min to accept, 4 h to resolve (calendar hours).
RUBBISH, MANHOLE = "E0101", "C0101"


def _t(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _steps(case: dict) -> list[tuple[str, str | None, bool]]:
    return [(h["transition"], h["note"], h["public"]) for h in case["history"]]


def _audit(desk, case: dict, action: str) -> AuditEntry:
    with desk.platform.db.session() as s:
        return s.scalars(
            select(AuditEntry)
            .where(AuditEntry.entity_type == "case", AuditEntry.entity_id == str(case["id"]))
            .where(AuditEntry.action == action)
            .order_by(AuditEntry.seq.desc())
        ).first()


def test_a_returned_case_is_dispatched_under_the_class_the_dispatcher_chose(desk):
    case = desk.report(category_code=RUBBISH, description="路口井盖松动，踩上去咣当响")
    assert case["department_code"] == "urban_management"
    case = desk.act("urban", case, "return", note="是井盖，不是垃圾")
    case = desk.act("operator", case, "dispatch", department_code="water", category_code=MANHOLE)

    assert case["state"] == "dispatched" and case["department_code"] == "water"
    assert (case["category_code"], case["priority"], case["title"]) == (MANHOLE, 1, "井盖破损或缺失")
    assert case["number"].startswith(f"440304-{RUBBISH}-")  # the number it was registered with stays
    dispatched = _t(case["dispatched_at"])
    assert _t(case["accept_due_at"]) == dispatched + timedelta(minutes=30)
    assert _t(case["resolve_due_at"]) == dispatched + timedelta(hours=4)
    assert _steps(case)[-2:] == [("reclassify", f"{RUBBISH} → {MANHOLE}", False), ("dispatch", None, True)]
    audit = _audit(desk, case, "cases.case.dispatch")
    assert (audit.before["category_code"], audit.after["category_code"]) == (RUBBISH, MANHOLE)
    assert (audit.before["priority"], audit.after["priority"]) == (3, 1)
    assert desk.act("water", case, "accept")["state"] == "accepted"


def test_a_case_registered_under_the_wrong_class_is_dispatched_under_the_right_one(desk):
    case = desk.report(description="嗯嗯那个事情")
    assert case["state"] == "reported" and case["triage_reason"] == "low_confidence"
    case = desk.act("operator", case, "register", category_code=RUBBISH)
    case = desk.act("operator", case, "dispatch", department_code="water", category_code=MANHOLE)
    assert (case["category_code"], case["department_code"], case["priority"]) == (MANHOLE, "water", 1)
    assert [s[0] for s in _steps(case)] == ["report", "register", "reclassify", "dispatch"]


def test_an_unknown_class_is_refused_and_the_case_is_left_as_it_was(desk):
    case = desk.act("urban", desk.report(category_code=RUBBISH), "return", note="不归我们")
    r = desk.client.post(
        f"/api/v1/cases/{case['token']}/actions/dispatch",
        headers={**desk.heads["operator"], "Accept-Language": "zh-CN"},
        json={"version": case["version"], "department_code": "water", "category_code": "Z9999"},
    )
    assert r.status_code == 422
    body = r.json()
    assert body["code"] == "cases.unknown_category"
    assert "Z9999" in body["messages"]["zh-CN"] and "Unknown case category" in body["messages"]["en"]
    after = desk.get("operator", case)
    assert (after["state"], after["category_code"], after["version"]) == (
        "returned",
        RUBBISH,
        case["version"],
    )


def test_a_reassignment_with_a_new_class_brings_that_class_time_limits(desk):
    case = desk.report(category_code=RUBBISH)
    desk.platform.clock.advance(timedelta(hours=2))
    case = desk.act("operator", case, "reassign", department_code="water", category_code=MANHOLE)
    now = desk.platform.clock.now()
    assert case["category_code"] == MANHOLE
    assert _t(case["resolve_due_at"]) == now + timedelta(hours=4)  # counted from now, not from the first
    assert ("reclassify", f"{RUBBISH} → {MANHOLE}", False) in _steps(case)


def test_a_reassignment_naming_the_same_class_changes_no_class(desk):
    case = desk.report(category_code=RUBBISH)
    due = case["resolve_due_at"]
    desk.platform.clock.advance(timedelta(hours=2))
    case = desk.act("operator", case, "reassign", department_code="street-440304004", category_code=RUBBISH)
    assert case["category_code"] == RUBBISH and case["resolve_due_at"] == due  # the time to resolve runs on
    assert "reclassify" not in [s[0] for s in _steps(case)]


def test_the_centre_counts_a_reclassified_automatic_dispatch_as_corrected(desk):
    text = "福华路那段路灯晚上全都不亮，黑乎乎的走路很怕"
    sent = desk.report(description=text, source="app")
    assert sent["state"] == "dispatched" and sent["category_code"] == "C0201"
    desk.act("operator", sent, "reassign", department_code="traffic", category_code="C0202")
    r = desk.client.get("/api/v1/cases/classifier?days=7", headers=desk.heads["admin"])
    (today,) = [d for d in r.json()["daily"] if d["sent_alone"]]
    assert today["corrected"] == 1  # one case, counted once: reassigned and reclassified in one step
    with desk.platform.db.session() as s:
        assert (text, "C0202") in retrain.corrections(s)  # the dispatcher's class is what it learns
