"""What the cases domain hears on the bus: its own case events, which tell departments and the command
centre in their inboxes; and other domains' events it turns into cases (an alarm at the case level of a rule
with a case class). Each consumer is idempotent: a redelivered event changes nothing."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from urbanbrain.core import notify
from urbanbrain.core.auth.principal import SYSTEM
from urbanbrain.core.bus import Event
from urbanbrain.core.bus.consumers import idempotent
from urbanbrain.core.context import Platform
from urbanbrain.core.errors import UrbanBrainError
from urbanbrain.core.levels import at_least
from urbanbrain.domains.cases import actions, alarm_text
from urbanbrain.domains.cases.models import Case
from urbanbrain.domains.cases.schemas import CaseReport

# event type -> (who hears it, zh title, en title); "dept" is the case's department, "centre" the command centre.
INBOX_RULES: dict[str, tuple[tuple[str, ...], str, str]] = {
    "cases.case.dispatched": (("dept",), "新派遣案件", "New case dispatched to you"),
    "cases.case.reassigned": (("dept",), "改派给您的案件", "Case reassigned to you"),
    "cases.case.reopened": (("dept",), "重新打开的案件", "Case reopened"),
    "cases.case.verification_failed": (
        ("dept",),
        "核查不通过，请继续处置",
        "Verification failed: keep working",
    ),
    "cases.case.sla_warning": (("dept", "centre"), "案件即将超时（80%）", "Case at 80% of its time limit"),
    "cases.case.sla_breached": (("dept", "centre"), "案件已超时", "Case overdue"),
    "cases.case.escalated": (("dept", "centre"), "案件升级督办", "Case escalated"),
    "cases.case.triaged": (("centre",), "待人工分拣案件", "Case waiting in triage"),
    "cases.case.emergency": (
        ("centre", "dept"),
        "紧急警情：已提示报警人拨打110/119/120",
        "Emergency: the reporter was told to call 110/119/120",
    ),
    "cases.case.returned": (("centre",), "部门退回案件，需重新派遣", "Case returned: route it again"),
    "cases.case.resolved": (("centre",), "案件已处置，待核查", "Case resolved: verify it"),
    "cases.case.suspension_requested": (("centre",), "挂起申请待审批", "Suspension request to approve"),
    "cases.case.extension_requested": (("centre",), "延期申请待审批", "Extension request to approve"),
}
ALARM_PREFIX = "sensing.alarm:"  # a case's source_ref when it was opened for an alarm


def tell_inboxes(session: Session, event: Event, platform: Platform) -> None:
    """In-app inbox rows for one case event."""
    who, zh, en = INBOX_RULES[event.type]
    p = event.payload
    recipients = [p.get("department_code") if r == "dept" else notify.CENTRE for r in who]
    number = p.get("number") or p.get("case_id")
    notify.inbox(
        session, platform.clock, recipients=sorted(r for r in recipients if r), kind=event.type,
        title=f"{zh} / {en}", body=f"{number}: {p.get('note') or ''}".strip(),
        subject=("case", p["case_id"]) if p.get("case_id") is not None else None,
    )  # fmt: skip


def wants_case(platform: Platform, event: Event) -> bool:
    """An alarm that should open a case: its rule names a case class and its level is the case level or
    above (``URBANBRAIN_SENSING_CASE_LEVEL``)."""
    p = event.payload
    return bool(p.get("case_category")) and at_least(p.get("level", ""), platform.settings.sensing_case_level)


def open_case_for_alarm(session: Session, event: Event, platform: Platform) -> None:
    """A case of the rule's class at the alarm's place. An alarm that cannot have one (a device without a
    position, outside the district) stands without it."""
    p = event.payload
    ref = f"{ALARM_PREFIX}{p['alarm_id']}"
    if session.scalar(select(Case.id).where(Case.source_ref == ref)) is not None:
        return
    if p.get("lon") is None or p.get("lat") is None:
        return
    report = CaseReport(
        description=alarm_text.describe(p, platform.settings.utc_offset_hours),
        source="sensor",
        category_code=p["case_category"],
        lon=p["lon"],
        lat=p["lat"],
        address=p.get("address") or p.get("building_code"),
    )
    try:
        with session.begin_nested():  # a refused report leaves the inbox mark: the alarm is answered
            actions.do_report_case(session, platform, SYSTEM, report, source_ref=ref)
    except UrbanBrainError:
        return


def subscribe(platform: Platform) -> None:
    db, clock = platform.db, platform.clock
    inboxes = idempotent(db, clock, "cases.notify", lambda s, e: tell_inboxes(s, e, platform))
    platform.bus.subscribe("cases.case.>", "cases.notify", inboxes, accept=lambda e: e.type in INBOX_RULES)
    alarms = idempotent(db, clock, "cases.alarms", lambda s, e: open_case_for_alarm(s, e, platform))
    platform.bus.subscribe(
        "sensing.alarm.raised", "cases.alarms", alarms, accept=lambda e: wants_case(platform, e)
    )
