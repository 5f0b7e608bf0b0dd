"""Batch intake (group commit) writes what the ordinary intake writes.

The same reports are filed into two copies of the seeded district: one at a time through
``do_report_case`` (the ORM path, one transaction each), and all at once through ``intake.file_reports``
(one transaction). Cases, history, audit rows and events must match, apart from what is random (tokens,
sealed contacts, event ids) or bookkeeping (the version counter)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select, update

from urbanbrain.core import audit
from urbanbrain.core.auth.actions import do_create_api_key
from urbanbrain.core.auth.principal import SYSTEM
from urbanbrain.core.errors import UrbanBrainError
from urbanbrain.core.models import AuditEntry, Department, OutboxEvent
from urbanbrain.domains.cases import actions, intake
from urbanbrain.domains.cases.models import Case, CaseHistory, RoutingRule
from urbanbrain.domains.cases.schemas import CaseReport
from urbanbrain.domains.registry.models import Facility

SHUIWEI = (114.0665, 22.5262)
RANDOM = {"token", "version", "reporter_contact"}


def _reports(facility_code: str) -> list[CaseReport]:
    lon, lat = SHUIWEI
    r = CaseReport
    return [
        r(
            description="水围村路口垃圾堆了两天没人清理",
            category_code="E0101",
            source="hotline",
            lon=lon,
            lat=lat,
            reporter_contact="13800000000",
        ),
        r(
            description="水围村路口垃圾堆了好几天，臭味很大",
            category_code="E0101",  # what a dispatcher would say: the same pile, so a duplicate
            source="hotline",
            lon=lon + 0.0001,
            lat=lat,
        ),
        r(description="路灯坏了晚上很黑", source="app", lon=lon + 0.002, lat=lat + 0.001),
        r(description="你好", source="app", lon=lon, lat=lat),  # nothing to classify: triage
        r(description="井盖丢了", category_code="C0101", source="operator", lon=lon, lat=lat),
        r(description="有人在这里", source="app", lon=200.0, lat=lat),  # not a place: refused
        r(description="二维码上报", source="qr", facility_code=facility_code),
        r(description="设施找不到", source="qr", facility_code="NO-SUCH-CODE"),  # refused
        r(description="垃圾满了没人清运", source="app", lon=lon - 0.0002, lat=lat),
        # what intake understands: a consultation answered at once, an emergency, places in words
        r(
            description="我妈今年刚好八十岁，听说有高龄津贴，要去哪里申请？要带哪些证件？",
            source="app",
            lon=lon,
            lat=lat,
        ),
        r(
            description="楼下餐馆厨房着火了！火好大烟好浓，里面还有人没出来",
            source="hotline",
            lon=lon,
            lat=lat,
        ),
        r(description="门口的污水一直流到街上，臭得不得了", source="hotline", address="水围村口那家小饭店"),
        r(description="楼下的路灯坏了一个星期了", source="hotline", address="我家楼下"),
    ]


def _file_one_by_one(platform: Any, reports: list[CaseReport]) -> list[Any]:
    out: list[Any] = []
    for report in reports:
        try:
            with platform.db.session() as session:
                case = actions.do_report_case(session, platform, SYSTEM, report)
                out.append((case.id, case.number, case.state))
        except UrbanBrainError as err:
            out.append(err.code)
    return out


def _file_batch(platform: Any, reports: list[CaseReport]) -> list[Any]:
    with platform.db.session() as session:
        filed = intake.file_reports(session, platform, [intake.Filing(r, actor=SYSTEM) for r in reports])
    return [(f.id, f.number, f.state) if isinstance(f, intake.Filed) else f.code for f in filed]


def _masked(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: "*" if k in RANDOM else _masked(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_masked(v) for v in value]
    return value


def _state(platform: Any, since_audit: int, since_event: int) -> dict[str, Any]:
    with platform.db.session() as session:
        cases = [
            _masked({k: getattr(c, k) for k in intake.CASE_KEYS})
            for c in session.scalars(select(Case).order_by(Case.id))
        ]
        history = [
            (h.case_id, h.actor, h.transition, h.from_state, h.to_state, h.department_code, h.note, h.public)
            for h in session.scalars(select(CaseHistory).order_by(CaseHistory.case_id, CaseHistory.id))
        ]
        audits = [
            (a.seq, a.actor, a.action, a.entity_id, _masked(a.before), _masked(a.after))
            for a in session.scalars(
                select(AuditEntry).where(AuditEntry.seq > since_audit).order_by(AuditEntry.seq)
            )
        ]
        outbox = [
            (e.type, _masked(e.payload))
            for e in session.scalars(
                select(OutboxEvent).where(OutboxEvent.id > since_event).order_by(OutboxEvent.id)
            )
        ]
        ok = audit.verify_chain(session)[1] == []
    return {"cases": cases, "history": history, "audit": audits, "outbox": outbox, "chain_intact": ok}


def _marks(platform: Any) -> tuple[int, int]:
    with platform.db.session() as session:
        last_audit = session.scalar(select(AuditEntry.seq).order_by(AuditEntry.seq.desc()).limit(1)) or 0
        last_event = session.scalar(select(OutboxEvent.id).order_by(OutboxEvent.id.desc()).limit(1)) or 0
    return last_audit, last_event


@pytest.fixture
def twin(templates, backend, tmp_path, clock):
    """A second copy of the seeded district, on the same clock."""
    from tests.conftest import _platform

    yield from _platform(templates, backend, "seeded", tmp_path / "twin", clock)


def test_batch_writes_what_one_by_one_writes(seeded, twin, clock):
    with seeded.db.session() as session:
        facility = session.scalar(select(Facility.code).order_by(Facility.id).limit(1))
    reports = _reports(facility)
    marks_a, marks_b = _marks(seeded), _marks(twin)
    assert marks_a == marks_b  # the same starting point

    one_by_one = _file_one_by_one(seeded, reports)
    batch = _file_batch(twin, reports)

    assert batch == one_by_one
    assert one_by_one[5].startswith("geo.")
    assert one_by_one[7] == "cases.unknown_facility"
    states = [o[2] for o in one_by_one if isinstance(o, tuple)]
    assert "dispatched" in states and "reported" in states  # both a dispatch and a triage are covered
    assert one_by_one[9][2] == "closed"  # the consultation, answered from the knowledge base
    assert one_by_one[12][2] == "reported"  # a place nobody can find: triage

    a, b = _state(seeded, *marks_a), _state(twin, *marks_b)
    assert a["chain_intact"] and b["chain_intact"]
    dupes = [c["duplicate_candidates"] for c in b["cases"] if c["duplicate_candidates"]]
    assert dupes, "the second report at the same corner is offered the first as a duplicate"
    for part in ("cases", "history", "audit", "outbox"):
        assert b[part] == a[part], part


def test_batch_with_no_route_goes_to_triage(seeded, twin):
    """With every routing rule off and the class's own department renamed away (a newsstand's,
    culture and tourism), a report is registered and waits in triage with ``no_route``, the same on both paths."""
    report = CaseReport(description="报刊亭关了很久", category_code="C0104", lon=SHUIWEI[0], lat=SHUIWEI[1])
    for p in (seeded, twin):
        with p.db.session() as session:
            for rule in session.scalars(select(RoutingRule)):
                rule.active = False
            session.execute(  # reorganised: the taxonomy's department code no longer exists
                update(Department)
                .where(Department.code == "culture_tourism")
                .values(code="culture_sports_tourism")
            )
    marks_a, marks_b = _marks(seeded), _marks(twin)
    one = _file_one_by_one(seeded, [report])
    many = _file_batch(twin, [report])
    assert one == many and one[0][2] == "registered"
    a, b = _state(seeded, *marks_a), _state(twin, *marks_b)
    assert a["cases"][-1]["triage_reason"] == "no_route" == b["cases"][-1]["triage_reason"]
    assert b["outbox"] == a["outbox"] and b["audit"] == a["audit"]
    assert [e[0] for e in b["outbox"]][-1] == "cases.case.triaged"


def test_bad_key_and_refused_reports_do_not_spoil_the_batch(seeded, clock):
    with seeded.db.session() as session:
        _, key = do_create_api_key(session, seeded.clock, SYSTEM, name="citizen-app", scopes=["open311"])
        _, reader = do_create_api_key(session, seeded.clock, SYSTEM, name="reader", scopes=["registry:read"])
    ok = CaseReport(description="路灯坏了晚上很黑", lon=SHUIWEI[0], lat=SHUIWEI[1], source="hotline")
    filings = [
        intake.Filing(ok, api_key=key),
        intake.Filing(ok, api_key="ub_nope_nope"),
        intake.Filing(ok, api_key=reader),  # a key without the open311 scope
        intake.Filing(ok, api_key=key),
    ]
    with seeded.db.session() as session:
        out = intake.file_reports(session, seeded, filings)
    assert isinstance(out[0], intake.Filed) and isinstance(out[3], intake.Filed)
    assert isinstance(out[1], UrbanBrainError) and out[1].code == "auth.api_key_invalid"
    assert isinstance(out[2], UrbanBrainError) and out[2].code == "auth.forbidden"
    assert out[0].number != out[3].number


def test_queue_files_concurrent_reports_and_answers_each(seeded, clock):
    """Reports submitted together are filed in few batches, each answered with its own case."""
    from concurrent.futures import wait

    q = intake.IntakeQueue(seeded, max_batch=64)
    try:
        reports = [
            CaseReport(
                description="路灯坏了晚上很黑", lon=SHUIWEI[0] + i * 0.00001, lat=SHUIWEI[1], source="hotline"
            )
            for i in range(150)
        ]
        futures = [q.submit(intake.Filing(r, actor=SYSTEM)) for r in reports]
        done, _ = wait(futures, timeout=120)
        filed = [f.result() for f in futures]
    finally:
        q.stop()
    assert len(done) == 150
    assert len({f.id for f in filed}) == 150 and len({f.number for f in filed}) == 150
    assert q.batches < 150  # grouped: fewer transactions than reports
    with seeded.db.session() as session:
        n = session.scalar(select(func.count()).where(Case.id.in_([f.id for f in filed])))
        assert audit.verify_chain(session)[1] == []
    assert n == 150
