"""``/api/v1/alerts/stream``: the live feed as server-sent events (FastAPI's own SSE framing, with its
keep-alive comments); each item is an event the domains put on the feed, shown to those allowed to see it."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.sse import EventSourceResponse, ServerSentEvent

from urbanbrain.api.deps import PlatformDep, WaitingPrincipal
from urbanbrain.core.auth.principal import Principal
from urbanbrain.core.errors import UrbanBrainError
from urbanbrain.core.live import feed

router = APIRouter(prefix="/api/v1/alerts", tags=["live"])


def watcher(platform: PlatformDep, principal: WaitingPrincipal) -> Principal:
    """Someone allowed to see at least one kind of item on the feed."""
    wanted = sorted(feed(platform).permissions())
    if wanted and not any(principal.can(p) for p in wanted):
        raise UrbanBrainError("auth.forbidden", role=principal.role, permission=wanted[0])
    return principal


@router.get("/stream", response_class=EventSourceResponse)
async def stream(
    platform: PlatformDep, principal: Annotated[Principal, Depends(watcher)]
) -> AsyncIterator[ServerSentEvent]:
    """Server-sent events as they happen: ``event: alarm`` with the alarm as JSON when one is raised,
    acknowledged, cleared or gets its case (``data.event`` says which), and what other domains add. A
    comment ``: connected`` opens the stream; keep-alive comments follow while it is quiet."""
    live = feed(platform)
    sub = live.subscribe(principal)
    try:
        yield ServerSentEvent(comment="connected")
        while True:
            item = await sub.queue.get()
            data = json.dumps(item.data, ensure_ascii=False, separators=(",", ":"), default=str)
            yield ServerSentEvent(raw_data=data, event=item.name, id=item.id)
    finally:
        live.unsubscribe(sub)
