"""A hypothesis state machine over the lifecycle: any sequence of actions by any of the people involved keeps
the invariants, on SQLite and PostgreSQL."""

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test
from sqlalchemy import func, select

from urbanbrain.core.audit import verify_chain
from urbanbrain.core.auth.principal import Principal
from urbanbrain.core.errors import UrbanBrainError
from urbanbrain.domains.cases import actions, lifecycle
from urbanbrain.domains.cases.models import Case, CaseHistory
from urbanbrain.domains.cases.schemas import CaseReport, TransitionRequest


def person(name: str, role: str, perms: set[str], dept: str | None = None, scope: str = "all") -> Principal:
    return Principal(
        kind="user",
        id=None,
        name=name,
        role=role,
        scope=scope,
        permissions=frozenset(perms),
        department_code=dept,
    )


PEOPLE = {
    "operator": person("op", "operator", {"cases.cases.read", "cases.cases.report", "cases.cases.manage"}),
    "handler": person(
        "urban", "dept_handler", {"cases.cases.read", "cases.cases.handle"}, "urban_management", "department"
    ),
    "outsider": person(
        "water", "dept_handler", {"cases.cases.read", "cases.cases.handle"}, "water", "department"
    ),
    "verifier": person("check", "verifier", {"cases.cases.read", "cases.cases.verify"}),
}
DEPARTMENTS = ["urban_management", "water", "street-440304004"]


def make_machine(platform):
    class Lifecycle(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            with platform.db.session() as s:
                case = actions.do_report_case(
                    s,
                    platform,
                    PEOPLE["operator"],
                    CaseReport(description="垃圾堆积", category_code="E0101", lon=114.0665, lat=22.5262),
                )
                self.case_id = case.id
                self.version = case.version
            self.done = 3  # report, register, dispatch
            self.other: int | None = None

        @rule(
            name=st.sampled_from(sorted(lifecycle.TRANSITIONS)),
            who=st.sampled_from(sorted(PEOPLE)),
            note=st.sampled_from([None, "说明"]),
            dept=st.sampled_from(DEPARTMENTS),
            hours=st.sampled_from([None, 4.0]),
        )
        def act(self, name, who, note, dept, hours):
            with platform.db.sessionmaker() as s:
                case = s.get(Case, self.case_id)
                target = None
                if name == "merge":
                    if self.other is None:
                        other = actions.do_report_case(
                            s,
                            platform,
                            PEOPLE["operator"],
                            CaseReport(description="另一个", category_code="E0102", lon=114.058, lat=22.556),
                        )
                        s.commit()
                        self.other = other.id
                    target = s.get(Case, self.other).number
                before = (case.state, case.version)
                req = TransitionRequest(note=note, department_code=dept, hours=hours, target_number=target)
                try:
                    actions.apply_transition(s, platform, PEOPLE[who], case, name, req)
                    s.commit()
                except UrbanBrainError:
                    s.rollback()
                    again = s.get(Case, self.case_id)
                    assert (again.state, again.version) == before  # a refused action changes nothing
                    return
                assert case.version > self.version
                self.version = case.version
                self.done += 1

        @invariant()
        def consistent(self):
            with platform.db.session() as s:
                case = s.get(Case, self.case_id)
                assert case.state in lifecycle.STATES
                assert case.number is not None
                if case.state == "closed":  # closed after a verified fix, or answered (a consultation)
                    last = s.scalar(
                        select(CaseHistory.transition)
                        .where(CaseHistory.case_id == self.case_id)
                        .order_by(CaseHistory.id.desc())
                        .limit(1)
                    )
                    assert case.closed_at is not None
                    assert case.verification_passed is True or last == "answer"
                if case.state == "merged":
                    assert case.merged_into_id == self.other
                if case.state in ("dispatched", "accepted", "in_progress", "suspended"):
                    assert case.department_code and case.resolve_due_at is not None
                if case.state == "suspended":
                    assert case.suspended_at is not None
                if case.state == "resolved":
                    assert case.resolved_at is not None and case.verification_passed is None
                if case.state == "verified":
                    assert case.verification_passed is True and case.verified_at is not None
                steps = s.scalar(select(func.count()).where(CaseHistory.case_id == self.case_id))
                assert steps == self.done

    return Lifecycle


def test_lifecycle_invariants_hold_for_any_sequence(platform_with_departments):
    platform = platform_with_departments
    run_state_machine_as_test(
        make_machine(platform),
        settings=settings(
            max_examples=12, stateful_step_count=25, deadline=None, suppress_health_check=list(HealthCheck)
        ),
    )
    with platform.db.session() as s:
        _, problems = verify_chain(s)
    assert problems == []
