"""The HTTP door's budget of body bytes (ingest/budget.py): bodies are held against it before they are read."""

from urbanbrain.domains.sensing.ingest.budget import BodyBudget


def test_one_body_is_always_let_in_and_a_second_only_within_the_budget():
    budget = BodyBudget(100)
    assert budget.reserve(500)  # alone: larger than the budget, still let in
    assert not budget.reserve(1)  # then nothing more
    budget.release(500)
    assert budget.reserve(60) and budget.reserve(40)
    assert not budget.reserve(1)
    budget.release(60)
    budget.release(40)
    assert budget.held == 0 and budget.bodies == 0


def test_a_body_without_a_length_grows_its_hold_as_it_is_read():
    budget = BodyBudget(100)
    assert budget.reserve(0)  # its start: no Content-Length
    assert budget.reserve(80, more_of_one=True) and budget.reserve(80, more_of_one=True)  # alone: grows on
    assert budget.bodies == 1 and budget.held == 160
    assert not budget.reserve(0)  # another is not let in meanwhile
    budget.release(160)
    assert budget.reserve(0) and budget.reserve(0)
    assert budget.reserve(90, more_of_one=True)
    assert not budget.reserve(20, more_of_one=True)  # the other body holds its place
    budget.release(90)
    budget.release(0)


def test_a_chunked_body_is_counted_as_it_is_read(site):
    """A sender that gives no Content-Length is held to the budget chunk by chunk."""
    import json

    from urbanbrain.domains.sensing.api import _body_budget

    budget = _body_budget(site.platform)
    body = json.dumps([site.message("EFM-1", {"cable_temp_c": 31.0}, mid="chunked-1")]).encode()

    def chunks():
        yield body[:10]
        yield body[10:]

    headers = {"X-Device-Key": site.keys["EFM-1"]}
    assert budget.reserve(budget.limit)
    try:
        r = site.client.post("/api/v1/sensing/readings", content=chunks(), headers=headers)
        assert r.status_code == 429
    finally:
        budget.release(budget.limit)
    r = site.client.post("/api/v1/sensing/readings", content=chunks(), headers=headers)
    assert r.status_code == 202 and r.json()["messages"] == 1
    assert budget.held == 0 and budget.bodies == 0
