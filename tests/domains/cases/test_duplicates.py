"""At intake, open cases of the same class within 50 m and 24 h are offered as duplicates."""

from datetime import timedelta

SHUIWEI = (114.0665, 22.5262)
METRE = 1 / 111_320  # degrees of latitude per metre


def test_same_class_nearby_and_recent_is_offered(desk):
    first = desk.report(category_code="E0101")
    near = desk.report(category_code="E0101", at=(SHUIWEI[0], SHUIWEI[1] + 40 * METRE))
    assert near["duplicate_candidates"] == [first["number"]]


def test_too_far_too_old_other_class_or_closed_is_not(desk):
    first = desk.report(category_code="E0101")
    far = desk.report(category_code="E0101", at=(SHUIWEI[0], SHUIWEI[1] + 60 * METRE))
    assert far["duplicate_candidates"] == []
    other = desk.report(category_code="E0102")
    assert other["duplicate_candidates"] == []
    desk.platform.clock.advance(timedelta(hours=25))
    late = desk.report(category_code="E0101")
    assert first["number"] not in late["duplicate_candidates"]
    assert far["number"] not in late["duplicate_candidates"]


def test_cancelled_or_merged_cases_are_not_offered(desk):
    first = desk.report(category_code="E0101")
    second = desk.report(category_code="E0101")
    desk.act("operator", second, "merge", target_number=first["number"])
    third = desk.report(category_code="E0101")
    assert third["duplicate_candidates"] == [first["number"]]
