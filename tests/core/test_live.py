"""The live feed's replay, through a real server (the test client buffers whole responses, and a stream never
ends): a screen that reconnects with the id of the last item it had gets exactly what it missed, in order,
then the live items; an id the feed no longer holds (or never gave) is a gap; a replay shows a principal only
what the live feed would have."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from tests.conftest import serving
from urbanbrain.core.auth.actions import do_create_user
from urbanbrain.core.auth.principal import SYSTEM
from urbanbrain.core.live import RING_ITEMS, Item, LiveFeed, feed

PASSWORD = "correct horse battery staple"
STREAM = "/api/v1/alerts/stream"


def alarm(n: int) -> Item:
    """An item as the sensing domain puts it on the feed (for holders of sensing.alarms.read)."""
    return Item("alarm", str(n), {"event": "raised", "alarm_id": n}, "sensing.alarms.read")


def case(n: int) -> Item:
    """An item as the cases domain puts it on the feed (for the centre: cases.cases.manage)."""
    return Item(
        "case", None, {"event": "dispatched", "number": f"440304-E0101-{n:06d}"}, "cases.cases.manage"
    )


def shown(item: Item) -> tuple[str, Any]:
    """What a screen reads of an item: its event name and its data."""
    return item.name, item.data


@dataclass
class Block:
    event: str | None = None
    id: str | None = None
    data: Any = None
    comments: list[str] = field(default_factory=list)

    @property
    def body(self) -> tuple[str | None, Any]:
        return self.event, self.data


class Screen:
    """One connection to the stream, read block by block (an event, or comments with an id)."""

    def __init__(self, lines: Iterator[str]) -> None:
        self.lines = lines

    def next(self) -> Block:
        block = Block()
        for line in self.lines:
            if not line:
                if block.event or block.comments or block.data is not None:
                    return block
                continue
            name, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if name == "":
                block.comments.append(value)
            elif name == "event":
                block.event = value
            elif name == "id":
                block.id = value
            elif name == "data":
                block.data = json.loads(value)
        raise AssertionError("the stream ended")

    def until_live(self) -> tuple[list[Block], Block]:
        """What comes before the ``: live`` comment (a gap, replayed items), and that comment's block."""
        blocks = []
        while "live" not in (b := self.next()).comments:
            if "connected" not in b.comments and "ping" not in b.comments:
                blocks.append(b)
        return blocks, b

    def items(self, n: int) -> list[Block]:
        out: list[Block] = []
        while len(out) < n:
            b = self.next()
            if b.event:
                out.append(b)
        return out


@dataclass
class Site:
    base: str
    live: LiveFeed
    heads: dict[str, dict[str, str]]

    @contextmanager
    def screen(self, who: str, last: str | None = None, query: bool = False) -> Iterator[Screen]:
        headers = dict(self.heads[who])
        params = {}
        if last is not None and query:
            params["last_event_id"] = last
        elif last is not None:
            headers["Last-Event-ID"] = last
        with (
            httpx.Client(base_url=self.base, timeout=10) as client,
            client.stream("GET", STREAM, headers=headers, params=params) as r,
        ):
            assert r.status_code == 200, r.read()
            yield Screen(r.iter_lines())

    def deliver(self, *items: Item) -> None:
        for item in items:
            self.live.deliver(item)


@pytest.fixture
def site(platform) -> Iterator[Site]:
    """A real server on the platform, with the centre's operator (sees alarms and cases) and a street
    officer (sees alarms only)."""
    with platform.db.session() as session:
        do_create_user(session, platform.clock, SYSTEM, username="centre", password=PASSWORD, role="operator")
        do_create_user(session, platform.clock, SYSTEM, username="street", password=PASSWORD,
                       role="street_officer", area_code="440304004")  # fmt: skip
    with serving(platform) as base:
        heads = {}
        for who in ("centre", "street"):
            token = httpx.post(base + "/api/v1/auth/token", data={"username": who, "password": PASSWORD})
            heads[who] = {"Authorization": f"Bearer {token.json()['access_token']}"}
        yield Site(base, feed(platform), heads)


def test_a_screen_that_reconnects_gets_what_it_missed_in_order_then_the_live_items(site):
    with site.screen("centre") as screen:
        screen.until_live()
        site.deliver(alarm(1), case(2))
        had = screen.items(2)
    assert [b.body for b in had] == [shown(alarm(1)), shown(case(2))]

    site.deliver(alarm(3), case(4), alarm(5))  # while the screen is away
    with site.screen("centre", last=had[-1].id) as screen:
        replayed, live = screen.until_live()
        site.deliver(case(6))
        (now,) = screen.items(1)
    assert [b.body for b in replayed] == [shown(alarm(3)), shown(case(4)), shown(alarm(5))]
    assert now.body == shown(case(6))
    ids = [site.live.position(b.id) for b in had + replayed + [now]]
    assert ids == sorted(ids) and len(set(ids)) == 6  # in order, none twice
    assert site.live.position(live.id) == ids[4]  # the position the replay ends at

    site.deliver(alarm(7))  # away again; this client can only send the id as a query parameter
    with site.screen("centre", last=now.id, query=True) as screen:
        replayed, _ = screen.until_live()
    assert [b.body for b in replayed] == [shown(alarm(7))]


def test_a_replay_never_shows_an_item_the_principal_may_not_see(site):
    with site.screen("street") as screen:
        _, live = screen.until_live()
        site.deliver(case(1), alarm(2))
        (had,) = screen.items(1)  # the case never comes: a street officer does not manage cases
    assert had.body == shown(alarm(2))

    site.deliver(case(3), alarm(4), case(5), alarm(6))
    with site.screen("street", last=live.id) as screen:  # from before the case and the alarm above
        replayed, _ = screen.until_live()
        site.deliver(case(7), alarm(8))
        (now,) = screen.items(1)
    assert [b.body for b in replayed] == [shown(alarm(2)), shown(alarm(4)), shown(alarm(6))]
    assert now.body == shown(alarm(8))


def test_an_id_the_feed_no_longer_holds_is_a_gap_and_the_screen_goes_on_from_there(site):
    with site.screen("centre") as screen:
        _, live = screen.until_live()
    site.deliver(*(alarm(n) for n in range(RING_ITEMS + 5)))  # more than the feed keeps
    with site.screen("centre", last=live.id) as screen:
        before, now = screen.until_live()
    [gap] = before  # no replay: the screen reloads its lists instead
    assert gap.body == ("gap", {"reason": "expired"})
    assert gap.id == now.id == site.live.event_id(site.live.position(now.id))

    with site.screen("centre", last=gap.id) as screen:  # from there on, nothing is missing
        assert screen.until_live()[0] == []


@pytest.mark.parametrize("last", ["0a1b2c3d-3", "41", "not an id"])
def test_an_id_from_another_process_or_boot_is_a_gap(site, last):
    site.deliver(alarm(1))
    with site.screen("centre", last=last) as screen:
        before, now = screen.until_live()
    assert [b.body for b in before] == [("gap", {"reason": "unknown"})]
    assert before[0].id == now.id


def test_a_screen_too_slow_to_keep_up_is_told_what_it_lost(site, monkeypatch):
    monkeypatch.setattr("urbanbrain.core.live.QUEUE_ITEMS", 5)  # a small queue, to lose items surely
    with site.screen("centre") as screen:
        screen.until_live()
        site.deliver(*(alarm(n) for n in range(300)))  # all at once: faster than the queue is read
        seen: list[Block] = []
        while not seen or seen[-1].data != {"event": "raised", "alarm_id": 299}:
            seen += screen.items(1)
    # Every item that did not come is announced by a gap before the next one that did.
    expected, lost = 0, False
    for b in seen:
        if b.event == "gap":
            assert b.data == {"reason": "slow"}
            lost = True
            continue
        n = b.data["alarm_id"]
        assert n == expected or (n > expected and lost), (n, expected)
        expected, lost = n + 1, False
    assert any(b.event == "gap" for b in seen)
