"""The case lifecycle through HTTP on both backends: the main path and every side path."""

import json
import re
from datetime import timedelta

from sqlalchemy import select

from urbanbrain.core.models import AuditEntry, Delivery, OutboxEvent
from urbanbrain.domains.cases.feedback import digest
from urbanbrain.domains.cases.models import CaseLink


def test_main_path_from_report_to_closed(desk):
    case = desk.report(category_code="E0101")
    assert case["state"] == "dispatched" and case["department_code"] == "urban_management"
    assert case["number"].startswith("440304-E0101-")
    assert case["resolve_due_at"] and case["accept_due_at"]
    case = desk.act("urban", case, "accept")
    case = desk.act("urban", case, "start")
    r = desk.client.post(
        f"/api/v1/cases/{case['token']}/notes",
        headers=desk.heads["urban"],
        data={"note": "已安排清运车"},
        files={"files": ("site.png", b"\x89PNG\r\n\x1a\n" + b"\0" * 64, "image/png")},
    )
    assert r.status_code == 201, r.text
    case = r.json()
    photo_id = case["history"][-1]["photos"][0]
    photo = desk.client.get(f"/api/v1/cases/{case['token']}/photos/{photo_id}", headers=desk.heads["urban"])
    assert photo.status_code == 200 and photo.headers["content-type"] == "image/png"
    case = desk.act("urban", case, "resolve", note="垃圾已清运")
    case = desk.act("verifier", case, "verify_pass", note="现场核查已清理")
    case = desk.act("operator", case, "close")
    assert case["state"] == "closed" and case["state_group"] == "closed"
    assert [h["transition"] for h in case["history"]] == [
        "report",
        "register",
        "dispatch",
        "accept",
        "start",
        "note",
        "resolve",
        "verify_pass",
        "close",
    ]
    with desk.platform.db.session() as s:
        actions = s.scalars(select(AuditEntry.action).where(AuditEntry.entity_type == "case")).all()
        kinds = s.scalars(select(OutboxEvent.type).where(OutboxEvent.type.like("cases.case.%"))).all()
    assert "cases.case.accept" in actions and "cases.case.close" in actions
    assert {"cases.case.reported", "cases.case.dispatched", "cases.case.closed"} <= set(kinds)


def test_closing_needs_a_verification_pass(desk):
    case = desk.report(category_code="E0101")
    for step in ("accept", "start"):
        case = desk.act("urban", case, step)
    case = desk.act("urban", case, "resolve", note="done")
    r = desk.act("operator", case, "close", expect=409)
    assert r["code"] == "cases.transition_not_allowed"
    failed = desk.act("verifier", case, "verify_fail", note="现场仍有垃圾")
    assert failed["state"] == "in_progress" and failed["verification_passed"] is False
    assert failed["history"][-1]["note"] == "现场仍有垃圾"
    r = desk.act("verifier", failed, "verify_fail", expect=409)  # not resolved any more
    r = desk.act("urban", failed, "resolve", expect=422)  # a note is required
    assert r["code"] == "cases.note_required"


def test_only_the_assigned_department_works_the_case(desk):
    case = desk.report(category_code="E0101")
    r = desk.act("water", case, "accept", expect=403)
    assert r["code"] in ("auth.out_of_scope", "cases.not_your_department")
    r = desk.client.get(f"/api/v1/cases/{case['token']}", headers=desk.heads["water"])
    assert r.status_code == 403 and r.json()["code"] == "auth.out_of_scope"
    r = desk.act("grid", case, "accept", expect=403)
    assert r["code"] == "auth.forbidden"


def test_two_handlers_cannot_both_accept(desk):
    case = desk.report(category_code="E0101")
    first = desk.act("urban", case, "accept")
    r = desk.act("urban2", case, "accept", expect=409)  # same version read by both
    assert r["code"] in ("stale", "cases.transition_not_allowed")
    assert desk.get("urban", first)["history"][-1]["actor"].startswith("user:dept_handler")


def test_concurrent_writes_are_caught_in_sql(desk):
    """Both sessions read version 1; the second UPDATE finds no row with that version and fails."""
    import pytest
    from sqlalchemy.orm.exc import StaleDataError

    from urbanbrain.core.auth.principal import Principal
    from urbanbrain.domains.cases import actions
    from urbanbrain.domains.cases.models import Case
    from urbanbrain.domains.cases.schemas import TransitionRequest

    case = desk.report(category_code="E0101")
    handler = Principal(
        kind="user",
        id=None,
        name="h",
        role="dept_handler",
        scope="department",
        permissions=frozenset({"cases.cases.handle"}),
        department_code="urban_management",
    )
    s1, s2 = desk.platform.db.sessionmaker(), desk.platform.db.sessionmaker()
    try:
        c2 = s2.get(Case, case["id"])  # handler B opens the case ...
        s2.commit()  # ... (its read transaction ends; the object keeps the version it saw)
        c1 = s1.get(Case, case["id"])
        assert c1.version == c2.version
        actions.apply_transition(s1, desk.platform, handler, c1, "accept", TransitionRequest())
        s1.commit()  # handler A accepts first
        with pytest.raises(StaleDataError):
            actions.apply_transition(s2, desk.platform, handler, c2, "accept", TransitionRequest())
    finally:
        s2.rollback()
        s1.close()
        s2.close()
    assert desk.get("operator", case)["state"] == "accepted"


def test_return_and_redispatch(desk):
    case = desk.report(category_code="E0101")
    desk.act("urban", case, "return", expect=422)
    case = desk.act("urban", case, "return", note="属于水务部门管辖")
    assert case["state"] == "returned" and case["department_code"] is None
    triage = desk.client.get("/api/v1/cases/triage", headers=desk.heads["operator"]).json()
    assert case["number"] in [c["number"] for c in triage["items"]]
    case = desk.act("operator", case, "dispatch", department_code="water")
    assert case["state"] == "dispatched" and case["department_code"] == "water"
    assert desk.act("water", case, "accept")["state"] == "accepted"


def test_reassign_escalate_and_cancel(desk):
    case = desk.report(category_code="E0101")
    case = desk.act("operator", case, "reassign", department_code="street-440304004")
    assert case["department_code"] == "street-440304004"
    r = desk.act("operator", case, "reassign", department_code="street-440304004", expect=422)
    before = case["priority"]
    case = desk.act("operator", case, "escalate", note="群众多次投诉")
    assert case["escalation_level"] == 1 and case["priority"] == max(1, before - 1)
    assert case["state"] == "dispatched"
    other = desk.report(category_code="E0101", at=(114.058, 22.556))
    r = desk.act("operator", other, "cancel", expect=409)  # already dispatched: too late to cancel
    assert r["code"] == "cases.transition_not_allowed"


def test_suspension_needs_approval_and_stops_the_clock(desk):
    case = desk.report(category_code="E0101")  # 12 calendar hours to resolve
    due = case["resolve_due_at"]
    case = desk.act("urban", case, "accept")
    case = desk.act("urban", case, "request_suspend", note="等待产权方确认")
    assert case["state"] == "accepted" and case["pending_request"]["kind"] == "suspend"
    desk.act("urban", case, "approve_suspend", expect=403)
    case = desk.act("operator", case, "approve_suspend")
    assert case["state"] == "suspended"
    desk.platform.clock.advance(timedelta(hours=5))
    case = desk.act("urban", case, "resume")
    assert case["state"] == "in_progress"
    from datetime import datetime

    shift = datetime.fromisoformat(case["resolve_due_at"]) - datetime.fromisoformat(due)
    assert shift == timedelta(hours=5)


def test_extension_with_approval(desk):
    case = desk.report(category_code="E0101")
    case = desk.act("urban", case, "accept")
    case = desk.act("urban", case, "request_extension", note="需要大型机械", hours=24)
    r = desk.act("urban", case, "request_extension", note="again", hours=1, expect=409)
    assert r["code"] == "cases.request_pending"
    old = case["resolve_due_at"]
    case = desk.act("operator", case, "approve_extension")
    from datetime import datetime

    assert datetime.fromisoformat(case["resolve_due_at"]) - datetime.fromisoformat(old) == timedelta(hours=24)
    assert case["pending_request"] is None
    r = desk.act("operator", case, "approve_extension", expect=409)
    assert r["code"] == "cases.nothing_to_approve"


def test_reopen_a_closed_case(desk):
    case = desk.report(category_code="E0101")
    for step in ("accept", "start"):
        case = desk.act("urban", case, step)
    case = desk.act("urban", case, "resolve", note="ok")
    case = desk.act("verifier", case, "verify_pass")
    case = desk.act("operator", case, "close")
    case = desk.act("operator", case, "reopen", note="又堆满了")
    assert case["state"] == "dispatched" and case["department_code"] == "urban_management"
    assert case["closed_at"] is None and case["verification_passed"] is None


def test_merge_duplicates_links_both_ways(desk):
    first = desk.report(category_code="E0101")
    second = desk.report(category_code="E0101", description="水围村口垃圾没人收")
    assert first["number"] in second["duplicate_candidates"]
    merged = desk.act("operator", second, "merge", target_number=first["number"])
    assert merged["state"] == "merged" and merged["merged_into"] == first["number"]
    assert {"kind": "duplicate_of", "number": first["number"]} in merged["links"]
    assert {"kind": "has_duplicate", "number": second["number"]} in desk.get("operator", first)["links"]
    desk.act("operator", desk.get("operator", first), "merge", target_number=first["number"], expect=422)
    with desk.platform.db.session() as s:
        assert len(s.scalars(select(CaseLink)).all()) == 2


def test_unknown_action_and_stale_version(desk):
    case = desk.report(category_code="E0101")
    r = desk.client.post(
        f"/api/v1/cases/{case['token']}/actions/teleport", headers=desk.heads["operator"], json={}
    )
    assert r.status_code == 404 and r.json()["code"] == "cases.unknown_transition"
    desk.act("urban", case, "accept")
    r = desk.act("urban", case, "start", expect=409)  # sent the version read before the accept
    assert r["code"] == "stale"


REPORTER_PHONE = "13800138000"


def _sent_to_reporter(desk) -> list[tuple[str, str, str]]:
    """(channel, address, text) of each feedback request queued for a reporter, unsealed."""
    protector = desk.platform.protector
    with desk.platform.db.session() as s:
        rows = s.execute(
            select(Delivery).where(Delivery.event_type == "cases.case.feedback_asked").order_by(Delivery.id)
        ).scalars()
        return [(d.channel, protector.open(d.target), protector.open(d.payload["text"])) for d in rows]


def _key_in(text: str) -> str:
    return re.search(r"/m/feedback/([A-Za-z0-9_-]+)", text).group(1)  # the citizens' page


def test_reporter_satisfaction_callback_verifies_or_sends_back(desk):
    case = desk.report(category_code="E0101", reporter_contact=REPORTER_PHONE)
    for step in ("accept", "start"):
        case = desk.act("urban", case, step)
    case = desk.act("urban", case, "resolve", note="已清运")
    [(channel, to, text)] = _sent_to_reporter(desk)
    assert (channel, to) == ("sms", REPORTER_PHONE) and case["number"] in text
    key = _key_in(text)
    seen = desk.client.get(f"/api/v1/cases/feedback/{key}").json()  # what the reporter is asked to judge
    assert seen["number"] == case["number"] and seen["resolution"] == "已清运" and seen["state"] == "resolved"
    r = desk.client.post(f"/api/v1/cases/feedback/{key}", json={"satisfaction": 1, "comment": "还是很脏"})
    assert r.status_code == 200, r.text
    assert r.json() == {"state": "in_progress", "verification_passed": False, "satisfaction": 1}
    case = desk.get("urban", case)
    assert case["history"][-1]["note"] == "还是很脏" and case["history"][-1]["actor"].startswith("reporter:")
    r = desk.client.post(f"/api/v1/cases/feedback/{key}", json={"satisfaction": 5})
    assert r.status_code == 404 and r.json()["code"] == "cases.feedback_key_unknown"  # used once
    case = desk.act("urban", case, "resolve", note="再次清运")
    again = _key_in(_sent_to_reporter(desk)[-1][2])  # each resolution sends a new key
    assert again != key
    r = desk.client.post(f"/api/v1/cases/feedback/{again}", json={"satisfaction": 5})
    assert r.json()["state"] == "verified"
    assert desk.act("operator", desk.get("operator", case), "close")["satisfaction"] == 5
    r = desk.client.post(f"/api/v1/cases/feedback/{again}", json={"satisfaction": 5})
    assert r.status_code == 404
    r = desk.client.post("/api/v1/cases/feedback/not-a-key", json={"satisfaction": 5})
    assert r.status_code == 404


def test_a_handler_cannot_verify_its_own_work(desk):
    """The outside test: a handler took the reporter's token from the case JSON and posted 5 stars; the
    case was verified 14 ms after it was resolved. The key goes to the reporter's phone and nowhere else."""
    case = desk.report(category_code="E0101", reporter_contact="reporter@example.org")
    for step in ("accept", "start"):
        case = desk.act("urban", case, step)
    resolved = desk.act("urban", case, "resolve", note="已清运")
    [(channel, to, text)] = _sent_to_reporter(desk)
    assert (channel, to) == ("email", "reporter@example.org")
    key = _key_in(text)
    # Everything the handler (and the centre) can read about the case.
    heads = desk.heads["urban"]
    readable = [
        resolved,
        desk.get("urban", case),
        desk.get("operator", case),
        desk.client.get("/api/v1/cases", headers=heads).json(),
        desk.client.get("/api/v1/cases/inbox", headers=heads).json(),
        desk.client.get("/api/v1/notifications", headers=heads).json(),
        desk.client.get(f"/open311/v2/requests/{case['number']}.json").json(),
    ]
    assert key not in json.dumps(readable, ensure_ascii=False)
    for value in (case["token"], str(case["id"]), case["number"]):  # whatever the handler tries
        r = desk.client.post(f"/api/v1/cases/feedback/{value}", json={"satisfaction": 5})
        assert r.status_code == 404
    assert desk.get("operator", case)["state"] == "resolved"
    # The audit log and the events keep no key either.
    with desk.platform.db.session() as s:
        logged = json.dumps([(a.before, a.after) for a in s.scalars(select(AuditEntry))], ensure_ascii=False)
        emitted = json.dumps([e.payload for e in s.scalars(select(OutboxEvent))], ensure_ascii=False)
    assert key not in logged and key not in emitted and digest(key) not in logged


def test_a_case_without_a_contact_is_verified_by_the_centre_only(desk):
    case = desk.report(category_code="E0101")
    for step in ("accept", "start"):
        case = desk.act("urban", case, step)
    case = desk.act("urban", case, "resolve", note="已清运")
    assert _sent_to_reporter(desk) == []
    assert desk.act("verifier", case, "verify_pass")["state"] == "verified"


def test_an_action_that_needs_nothing_else_takes_no_body(desk):
    """The outside test: a transition with no body was refused as "body: Field required"."""
    case = desk.report()
    r = desk.client.post(f"/api/v1/cases/{case['token']}/actions/accept", headers=desk.heads["urban"])
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "accepted"
    # One that does need a note still says so.
    r = desk.client.post(f"/api/v1/cases/{case['token']}/actions/resolve", headers=desk.heads["urban"])
    assert r.status_code == 422 and "note" in r.json()["messages"]["en"]
