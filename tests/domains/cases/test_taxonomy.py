"""The taxonomy covers the district's whole government, and every class is complete: a department that
exists (or the place's own office), time limits, names in both languages, and examples."""

from __future__ import annotations

from collections import Counter

from urbanbrain.demo.departments import FUNCTIONAL_CODES
from urbanbrain.domains.cases.taxonomy import PLACE_DEPARTMENTS, load


def test_every_class_is_complete():
    minors = load().minors
    assert 150 <= len(minors) <= 300
    owners = set(FUNCTIONAL_CODES) | set(PLACE_DEPARTMENTS)
    for code, m in minors.items():
        assert code.startswith(m.major) and len(code) == 5, code
        assert m.department in owners, code
        assert m.name.strip() and m.name_en.strip(), code
        assert 1 <= m.priority <= 4 and m.accept_minutes > 0 and m.resolve_hours > 0, code
        assert m.calendar in ("calendar", "working"), code
        assert len(m.examples) >= 3 and len(set(m.examples)) == len(m.examples), code
        assert m.call_now in ("110", "119", "120", "110、120"), code
    names = Counter(m.name for m in minors.values())
    assert not [n for n, c in names.items() if c > 1]  # a dispatcher tells classes apart by name


def test_every_department_a_hotline_sends_to_has_classes():
    per = Counter(m.department for m in load().minors.values())
    # The command centre dispatches; every other department and both place offices own classes.
    for dept in (set(FUNCTIONAL_CODES) - {"smart_city_office"}) | set(PLACE_DEPARTMENTS):
        assert per[dept] >= 5, dept
    for dept in ("health", "market_supervision", "civil_affairs"):  # the gaps the issue found
        assert per[dept] >= 10, dept


def test_urgent_classes_are_fast_and_routine_ones_count_working_time():
    for m in load().minors.values():
        if m.priority == 1:
            assert m.accept_minutes <= 30 and m.calendar == "calendar", m.code
        if m.calendar == "working":
            assert m.priority >= 2, m.code


def test_emergency_numbers_follow_the_service():
    minors = load().minors
    assert minors["E0701"].call_now == "119"  # a fire
    assert minors["E0901"].call_now == "110"  # a fight
    assert minors["E3002"].call_now == "120"  # food poisoning


def test_the_routing_rules_a_district_starts_with_agree_with_the_taxonomy(platform):
    """A class's department in the taxonomy is what the classifier reports and the dispatcher sees; a default
    rule that sends the class elsewhere would make the two tell different stories (street vending once
    read urban management in the taxonomy and went to the street office by rule)."""
    from sqlalchemy import select

    from urbanbrain.domains.cases.models import RoutingRule

    minors = load().minors
    with platform.db.session() as session:
        rules = session.scalars(select(RoutingRule).where(RoutingRule.active.is_(True))).all()
    by_class = [r for r in rules if r.category_code in minors and not r.area_code and not r.facility_owner]
    assert by_class  # the district starts with some
    for rule in by_class:
        assert (rule.department_code or "").lstrip("@") == minors[rule.category_code].department, rule.note
