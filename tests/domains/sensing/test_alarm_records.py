"""What an alarm's transaction leaves behind, as an auditor and a dispatcher would check it: one alarm per
device and type, a raise replayed after a crash recorded once, its audit rows in an unbroken chain, its
event queued, the station and the command centre told and the owner's SMS queued."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select, text

from urbanbrain.core import audit
from urbanbrain.core.models import OutboxEvent
from urbanbrain.domains.sensing import alarms
from urbanbrain.domains.sensing.engine import Transition
from urbanbrain.domains.sensing.models import Alarm

RULE = "fire.residual_current"


def _transition(kind: str, ts: float, value: float = 350.0) -> Transition:
    return Transition(
        rule_code=RULE, kind=kind, device="EFM-1", group=None, measurement="residual_current_ma",
        event_ts=ts, value=value, alarm_type="residual_current", severity="major", level="orange",
    )  # fmt: skip


def _apply(site: Any, *transitions: Transition) -> list[dict[str, Any]]:
    """Record the transitions; what the live feed will show of them (their events, in order)."""
    catalog = site.pipeline.catalog
    with site.platform.db.session() as session:
        before = session.scalar(select(func.max(OutboxEvent.id))) or 0
        alarms.apply(session, site.platform, list(transitions), catalog.places, catalog.categories)
    with site.platform.db.session() as session:
        rows = session.execute(
            select(OutboxEvent.type, OutboxEvent.payload)
            .where(OutboxEvent.id > before)
            .where(OutboxEvent.type.in_(("sensing.alarm.raised", "sensing.alarm.cleared")))
            .order_by(OutboxEvent.id)
        ).all()
    return [{"event": kind.rsplit(".", 1)[1], **payload} for kind, payload in rows]


def _alarms(site: Any) -> list[Alarm]:
    with site.platform.db.session() as session:
        return list(session.scalars(select(Alarm).where(Alarm.origin == "EFM-1").order_by(Alarm.id)))


def _chain_ok(site: Any) -> bool:
    with site.platform.db.session() as session:
        return audit.verify_chain(session)[1] == []


def test_a_raise_records_the_alarm_its_audit_row_its_event_and_who_is_told(site):
    t0 = site.now() - 60
    shown = _apply(site, _transition("raise", t0))
    [alarm] = _alarms(site)
    assert [s["event"] for s in shown] == ["raised"] and shown[0]["alarm_id"] == alarm.id
    assert (alarm.status, alarm.level, alarm.count, alarm.building_code) == (
        "active",
        "orange",
        1,
        site.building,
    )
    assert alarm.event_at.timestamp() == t0 and alarm.raised_at == site.platform.clock.now()
    assert alarm.detail == {} and alarm.case_number is None
    with site.platform.db.session() as session:
        rows = session.execute(
            text(
                "SELECT action, after FROM core_audit WHERE action = 'sensing.alarm.raise' AND entity_id = :id"
            ),
            {"id": str(alarm.id)},
        ).all()
        events = session.scalars(
            select(OutboxEvent.payload).where(OutboxEvent.type == "sensing.alarm.raised")
        )
        payloads = [p for p in events if p["alarm_id"] == alarm.id]
    assert [r[0] for r in rows] == ["sensing.alarm.raise"]
    assert len(payloads) == 1 and payloads[0]["origin"] == "EFM-1" and payloads[0]["level"] == "orange"
    assert sorted(site.told()) == sorted(["smart_city_office", f"station-{site.community}"])
    assert [event for event, _ in site.texted()] == [f"alarm-{alarm.id}"]
    assert _chain_ok(site)


def test_a_replayed_raise_is_recorded_once_and_a_later_one_counts_on_the_open_alarm(site):
    t0 = site.now() - 60
    _apply(site, _transition("raise", t0))
    assert _apply(site, _transition("raise", t0)) == []  # the journal replayed it after a crash
    assert _apply(site, _transition("raise", t0 + 30, value=400.0)) == []  # raised again while open
    [alarm] = _alarms(site)
    assert alarm.count == 2 and alarm.value == 400.0
    assert alarm.last_event_at.timestamp() == t0 + 30 and alarm.event_at.timestamp() == t0
    assert len(site.texted()) == 1  # the owner is told once


def test_a_raise_replayed_after_its_clear_raises_nothing_and_a_new_one_does(site):
    t0 = site.now() - 60
    _apply(site, _transition("raise", t0))
    shown = _apply(site, _transition("clear", t0 + 10, value=200.0), _transition("raise", t0))
    assert [s["event"] for s in shown] == ["cleared"]
    assert [a.status for a in _alarms(site)] == ["cleared"]
    shown = _apply(site, _transition("raise", t0 + 20))
    assert [s["event"] for s in shown] == ["raised"]
    assert [a.status for a in _alarms(site)] == ["cleared", "active"]


def test_clears_and_raises_in_one_transaction_keep_the_audit_chain_whole(site):
    """A clear changes its alarm through the ORM, a raise with plain statements: in either order, in one
    transaction, each audit row follows the last and the chain's head ends on the last row."""
    t0 = site.now() - 60
    _apply(site, _transition("raise", t0))
    _apply(site, _transition("clear", t0 + 10, value=200.0), _transition("raise", t0 + 20))
    _apply(site, _transition("raise", t0 + 25), _transition("clear", t0 + 30, value=200.0))
    assert [a.status for a in _alarms(site)] == ["cleared", "cleared"]
    with site.platform.db.session() as session:
        actions = session.scalars(
            select(func.count())
            .select_from(text("core_audit"))
            .where(text("action IN ('sensing.alarm.raise', 'sensing.alarm.clear')"))
        ).one()
    assert actions == 4  # raise, clear, raise, clear (the cases of the raises come on the bus)
    assert _chain_ok(site)
