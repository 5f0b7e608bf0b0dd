"""The core kit every domain uses: counters, background loops, paging bounds, the entity helper's refusal of
nulls, and the in-process bus's consumers that do not hold up the live listeners."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

from urbanbrain.core import sequence
from urbanbrain.core.bus import Event
from urbanbrain.core.bus.memory import MemoryBus
from urbanbrain.core.loops import BackgroundLoop


def test_counters_never_hand_out_a_number_twice_under_concurrent_writers(platform):
    def take_five(_: int) -> list[int]:
        got = []
        for _ in range(5):
            with platform.db.session() as session:
                got.append(sequence.next_number(session, "test:race"))
        return got

    with ThreadPoolExecutor(4) as pool:
        numbers = [n for batch in pool.map(take_five, range(4)) for n in batch]
    assert sorted(numbers) == list(range(1, 21))


def test_a_counter_first_used_after_numbers_were_given_starts_after_them(platform):
    with platform.db.session() as session:
        assert sequence.next_number(session, "test:floor", start=41) == 42
        assert sequence.next_number(session, "test:floor", start=41) == 43  # the floor counts once
        assert sequence.take(session, {"test:floor": 3, "test:other": 2}) == {
            "test:floor": 46,
            "test:other": 2,
        }


def test_a_background_loop_steps_when_woken_survives_an_error_and_stops():
    calls: list[float] = []
    done = threading.Event()

    def step() -> None:
        calls.append(time.monotonic())
        if len(calls) == 1:
            raise RuntimeError("the database is away for a moment")
        if len(calls) >= 3:
            done.set()

    loop = BackgroundLoop("test-loop", step, period=30.0).start()
    try:
        for _ in range(3):
            loop.wake()
            time.sleep(0.05)
        assert done.wait(5), "a woken loop steps at once, and goes on after a failed step"
    finally:
        loop.stop()
    assert not loop.running
    stepped = len(calls)
    loop.wake()
    time.sleep(0.1)
    assert len(calls) == stepped  # stopped: no more steps


def test_a_slow_consumer_does_not_hold_up_the_live_listeners_or_the_other_consumers():
    bus = MemoryBus()
    release = threading.Event()
    heard: list[str] = []
    fast: list[str] = []
    bus.subscribe("cases.>", "slow", lambda e: release.wait(10))
    bus.subscribe("cases.>", "fast", lambda e: fast.append(e.id))
    bus.listen("cases.>", lambda e: heard.append(e.id))
    try:
        event = Event("e1", "cases.case.reported", time.time(), {})  # type: ignore[arg-type]
        taken = bus.publish(event)
        assert heard == ["e1"]  # the live listener heard it inline
        deadline = time.monotonic() + 5
        while not fast and time.monotonic() < deadline:
            time.sleep(0.01)
        assert fast == ["e1"]
        assert taken is not None and not taken.done()  # not taken until every consumer has handled it
        release.set()
        taken.result(timeout=5)
        bus.publish(event)
        assert heard == ["e1"]  # a live listener hears an event once, however often it comes
    finally:
        release.set()
        bus.close()


def test_page_numbers_past_what_a_database_offset_holds_are_refused_not_crashed(api):
    admin = api.user("admin")
    r = api.client.get("/api/v1/registry/buildings", params={"page": 2**62}, headers=admin)
    assert r.status_code == 422 and r.json()["code"] == "request.invalid"
    r = api.client.get(
        "/api/v1/sensing/alarms", params={"page": 10_000_000, "page_size": 1000}, headers=admin
    )
    assert r.status_code == 200 and r.json()["items"] == []


def test_a_patch_that_empties_a_required_field_is_a_clear_422(api):
    admin = api.user("admin")
    r = api.client.patch("/api/v1/registry/departments/fire", json={"name": None}, headers=admin)
    assert r.status_code == 422
    body = r.json()
    assert body["code"] == "entity.field_required" and "name" in body["messages"]["en"]
    assert "name" in body["messages"]["zh-CN"]
    r = api.client.patch("/api/v1/registry/departments/fire", json={"phone": None}, headers=admin)
    assert r.status_code == 200 and r.json()["phone"] is None  # an optional field may be emptied
