"""``/metrics`` for Prometheus: request counts and latency by route template, beside what the core and the
domains count on the platform's registry (readings, alarms, cases, deliveries...)."""

from __future__ import annotations

import time
from typing import Any

from fastapi import FastAPI, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from urbanbrain.core.metrics import Metrics


class _Measure:
    """Counts and times every HTTP request. A plain ASGI middleware: Starlette's ``BaseHTTPMiddleware``
    runs each request in an extra task with memory streams, which cost more than many endpoints do."""

    def __init__(self, app: ASGIApp, requests: Counter, latency: Histogram) -> None:
        self.app, self.requests, self.latency = app, requests, latency

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = [500]

        async def send_and_note(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            template = getattr(scope.get("route"), "path", "unmatched")
            method = scope.get("method", "")
            self.requests.labels(method, template, str(status[0])).inc()
            self.latency.labels(method, template).observe(time.perf_counter() - start)


def install(app: FastAPI, metrics: Metrics) -> CollectorRegistry:
    registry = metrics.registry
    requests = metrics.counter(
        "urbanbrain_http_requests_total", "HTTP requests", ["method", "route", "status"]
    )
    latency = metrics.histogram(
        "urbanbrain_http_request_seconds", "HTTP request latency", ["method", "route"]
    )
    app.add_middleware(_Measure, requests=requests, latency=latency)  # type: ignore[arg-type]

    @app.get("/metrics", include_in_schema=False)
    def scrape() -> Any:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    return registry
