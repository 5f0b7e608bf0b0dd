"""``/api/v1/alerts/stream``: the live feed as server-sent events (FastAPI's own SSE framing, with its
keep-alive comments); each item is an event the domains put on the feed, shown to those allowed to see it.
A screen that reconnects with the id of the last item it had gets what it missed, then the live items."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query
from fastapi.sse import EventSourceResponse, ServerSentEvent

from urbanbrain.api.deps import PlatformDep, WaitingPrincipal
from urbanbrain.core.auth.principal import Principal
from urbanbrain.core.errors import UrbanBrainError
from urbanbrain.core.live import Gap, Item, LiveFeed, feed

router = APIRouter(prefix="/api/v1/alerts", tags=["live"])


def watcher(platform: PlatformDep, principal: WaitingPrincipal) -> Principal:
    """Someone allowed to see at least one kind of item on the feed."""
    wanted = sorted(feed(platform).permissions())
    if wanted and not any(principal.can(p) for p in wanted):
        raise UrbanBrainError("auth.forbidden", role=principal.role, permission=wanted[0])
    return principal


@router.get("/stream", response_class=EventSourceResponse)
async def stream(
    platform: PlatformDep,
    principal: Annotated[Principal, Depends(watcher)],
    last_event_id: Annotated[
        str | None,
        Header(alias="Last-Event-ID", description="The id of the last item the screen had (EventSource)."),
    ] = None,
    after: Annotated[
        str | None,
        Query(alias="last_event_id", description="The same, for clients that cannot set the header."),
    ] = None,
) -> AsyncIterator[ServerSentEvent]:
    """Server-sent events as they happen: ``event: alarm`` with the alarm as JSON when one is raised,
    acknowledged, cleared or gets its case (``data.event`` says which), and what other domains add. A
    comment ``: connected`` opens the stream; keep-alive comments follow while it is quiet.

    Each item's ``id`` is its place in this process's feed (``<boot>-<seq>``). Sent back as ``Last-Event-ID``
    (or ``?last_event_id=``), it replays the items since then that the caller may see, in order, before the
    live ones; ``event: gap`` says they cannot be had (too old, another process or boot, or a screen too slow
    to keep up): reload the lists. A comment ``: live`` with the current position closes the replay."""
    live = feed(platform)
    sub = live.subscribe(principal, after=last_event_id or after)
    try:
        yield ServerSentEvent(comment="connected")
        if sub.gap:
            yield _gap(live, sub.gap, sub.head)
        for item in sub.backlog:
            yield _event(live, item)
        yield ServerSentEvent(comment="live", id=live.event_id(sub.head))
        last, dropped = sub.head, 0
        while True:
            item = await sub.queue.get()
            if item.seq <= last:
                continue  # already sent (the backlog and the queue do not overlap; this keeps it so)
            if sub.dropped > dropped:  # the queue lost items: the screen must reload
                dropped = sub.dropped
                yield _gap(live, "slow", item.seq - 1)
            last = item.seq
            yield _event(live, item)
    finally:
        live.unsubscribe(sub)


def _event(live: LiveFeed, item: Item) -> ServerSentEvent:
    data = json.dumps(item.data, ensure_ascii=False, separators=(",", ":"), default=str)
    return ServerSentEvent(raw_data=data, event=item.name, id=live.event_id(item.seq))


def _gap(live: LiveFeed, reason: Gap, seq: int) -> ServerSentEvent:
    """What was missed cannot be sent; the id moves the screen on to ``seq``, where the stream goes on."""
    data = json.dumps({"reason": reason}, separators=(",", ":"))
    return ServerSentEvent(raw_data=data, event="gap", id=live.event_id(seq))
