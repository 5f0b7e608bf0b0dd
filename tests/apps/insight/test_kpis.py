"""KPIs against a handful of lake rows counted by hand: cases by class and area, on-time figures as the
cases domain's statistics count them, what is overdue now, alarms; a later version of a case counts once;
a refresh reads only the partitions that changed; a street officer sees only their street."""

from datetime import datetime, timedelta

from tests.apps.insight.conftest import COMMUNITY, OTHER_COMMUNITY, OTHER_STREET, STREET, utc
from urbanbrain.apps.insight import aggregates
from urbanbrain.domains.cases import lifecycle

DAY = "2018-07-08"  # yesterday, seen from the clock's 2018-07-09 08:00 in Shenzhen


def at(hour: int, day: int = 8) -> datetime:
    return utc(datetime(2018, 7, day, hour))


def _plant(desk):
    def case(**kw):
        base = {"reported_at": at(9), "registered_at": at(9), "dispatched_at": at(10),
                "accept_due_at": at(11), "resolve_due_at": at(18)}  # fmt: skip
        return {**base, **kw}

    desk.lake.cases(
        case(case_id=1, resolved_at=at(15), closed_at=at(16)),  # on time
        case(
            case_id=2,
            category_code="C0201",
            major_code="C02",
            department_code="roads_facilities",
            resolved_at=at(20),
            closed_at=at(21),
            sla_breached_at=at(18),
        ),  # late  # fmt: skip
        case(case_id=3, state="dispatched"),  # version 1 of case 3 ...
        case(
            case_id=4,
            state="in_progress",
            category_code="C0202",
            major_code="C02",
            department_code="traffic",
            street_code=OTHER_STREET,
            community_code=OTHER_COMMUNITY,
            accepted_at=at(10),
            resolve_due_at=at(6, 9),
        ),  # overdue since 06:00 this morning  # fmt: skip
        case(case_id=5, state="dispatched", accept_due_at=at(9, 9), resolve_due_at=at(18, 9)),  # not yet due
        case(case_id=6, state="cancelled", dispatched_at=None),
        case(
            case_id=7,
            reported_at=at(9, 1),
            dispatched_at=at(10, 1),
            resolved_at=at(11, 1),
            resolve_due_at=at(12, 1),
            street_code=OTHER_STREET,
            community_code=OTHER_COMMUNITY,
        ),  # fmt: skip
    )
    # ... and version 2, landed later in a file of its own: resolved on time and closed.
    desk.lake.cases(case(case_id=3, version=2, state="closed", resolved_at=at(17), closed_at=at(19)))
    desk.lake.alarms(
        {"raised_at": at(3), "level": "yellow"},
        {"raised_at": at(4), "level": "red", "status": "cleared", "cleared_at": at(5), "case_number": "AJ-1"},
        {
            "raised_at": at(5),
            "level": "orange",
            "alarm_type": "gas",
            "status": "acknowledged",
            "acknowledged_at": at(6),
            "community_code": OTHER_COMMUNITY,
            "street_code": OTHER_STREET,
        },  # fmt: skip
    )


def test_kpis_equal_the_counts_made_by_hand(desk):
    _plant(desk)
    done = desk.refresh()
    assert done["changed"]["cases"] == ["2018-07-01", DAY] and done["changed"]["alarms"] == [DAY]

    k = desk.call("GET", "operator", "/kpis", params={"from": DAY, "to": DAY})
    c = k["cases"]
    assert (c["reported"], c["open"], c["closed"], c["emergency"]) == (6, 2, 3, 0)
    assert {r["code"]: r["reported"] for r in c["by_class"]} == {"C01": 4, "C02": 2}
    assert {r["code"]: r["reported"] for r in c["by_area"]} == {STREET: 5, OTHER_STREET: 1}
    assert c["by_day"] == [{"day": DAY, "reported": 6, "closed": 3}]
    assert k["on_time"] == {"dispatched": 5, "resolved": 3, "on_time": 2, "closed": 3, "breached": 1,
                            "on_time_rate": 0.6667}  # fmt: skip
    ranking = [(d["code"], d["rank"], d["on_time_rate"]) for d in k["departments"]]
    assert ranking == [("water", 1, 1.0), ("roads_facilities", 2, 0.0), ("traffic", 3, None)]
    assert k["overdue"]["count"] == 1
    [late] = k["overdue"]["cases"]
    assert (late["number"], late["department_code"], late["hours_over"]) == ("AJ-000004", "traffic", 2.0)
    a = k["alarms"]
    assert (a["raised"], a["active"], a["acknowledged"], a["cleared"], a["with_case"]) == (3, 1, 1, 1, 1)
    assert a["by_level"] == {"blue": 0, "yellow": 1, "orange": 1, "red": 1}
    assert {r["code"]: r["raised"] for r in a["by_type"]} == {"smoke": 2, "gas": 1}
    assert k["hazards"]["found"] == 0 and k["devices"]["total"] == 0

    week = desk.call("GET", "operator", "/kpis", params={"from": "2018-07-01", "to": DAY})
    assert week["cases"]["reported"] == 7 and week["on_time"]["on_time"] == 3

    street = desk.call("GET", "operator", "/kpis", params={"from": DAY, "to": DAY, "area": STREET})
    assert street["cases"]["reported"] == 5 and street["overdue"]["count"] == 0
    assert street["alarms"]["raised"] == 2
    community = desk.call("GET", "operator", "/kpis", params={"from": DAY, "to": DAY, "area": COMMUNITY})
    assert community["cases"]["reported"] == 5


def test_a_refresh_reads_only_the_partitions_that_changed(desk):
    _plant(desk)
    desk.refresh()
    again = desk.refresh()
    assert again["changed"] == {"cases": [], "alarms": []} and again["rows_read"] == 0
    # Case 5 is closed: a new version lands in its day's partition; only that day is read again.
    desk.lake.cases({"case_id": 5, "version": 2, "state": "closed", "reported_at": at(9), "dispatched_at": at(10),
                     "resolved_at": at(12), "resolve_due_at": at(18, 9), "closed_at": at(13)})  # fmt: skip
    later = desk.refresh()
    assert later["changed"] == {"cases": [DAY], "alarms": []}
    assert later["generation"] == again["generation"] + 1
    k = desk.call("GET", "operator", "/kpis", params={"from": DAY, "to": DAY})
    assert (k["cases"]["reported"], k["cases"]["open"], k["cases"]["closed"]) == (6, 1, 4)


def test_a_street_officer_sees_only_their_street(desk):
    _plant(desk)
    desk.refresh()
    mine = desk.call("GET", "street", "/kpis", params={"from": DAY, "to": DAY})
    assert mine["area"] == STREET and mine["cases"]["reported"] == 5
    refused = desk.call("GET", "street", "/kpis", 403, params={"area": OTHER_STREET})
    assert refused["code"] == "auth.out_of_scope"
    assert desk.call("POST", "street", "/refresh", 403)["code"] == "auth.forbidden"


def test_a_backwards_period_is_refused_in_both_languages(desk):
    bad = desk.call("GET", "operator", "/kpis", 422, params={"from": DAY, "to": "2018-07-01"})
    assert bad["code"] == "insight.bad_period"
    assert "开始日期" in bad["messages"]["zh-CN"] and "must not come after" in bad["messages"]["en"]


def test_open_states_are_the_case_lifecycles():
    assert set(aggregates.OPEN_STATES) == set(lifecycle.OPEN_STATES)


def test_an_empty_lake_answers_zeros(desk):
    k = desk.call("GET", "operator", "/kpis")
    assert k["cases"]["reported"] == 0 and k["overdue"]["count"] == 0 and k["departments"] == []
    assert k["to"] == DAY and k["from"] == (datetime(2018, 7, 8) - timedelta(days=29)).date().isoformat()
