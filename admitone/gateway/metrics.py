"""Prometheus metrics of HTTP: a request counter and latency histogram per route, and ``/metrics``.

A plain ASGI middleware rather than Litestar's: that one builds a wrapped ``send`` and its
label dictionaries on every request (about 30 µs each on this machine's benchmark, a third of
what a cached progress answer costs). Here a request costs a dictionary lookup and three
integer updates; ``observability.note_http`` hands them to prometheus_client within a second.
The metrics themselves are defined in ``admitone/observability.py``; what ``/metrics`` shows
beyond them is built by ``admitone/monitoring.py`` (README, "Observability").
"""

from __future__ import annotations

import time

from litestar import Response, get
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from prometheus_client import CONTENT_TYPE_LATEST

from admitone.gateway.guards import metrics_guard
from admitone.monitoring import MonitoringService, process_metrics_text
from admitone.observability import note_http


def metrics_middleware(app: ASGIApp) -> ASGIApp:
    """Count and time every HTTP request by method, route template and status."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":  # type: ignore[comparison-overlap]  # ScopeType is a str enum
            await app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_and_note(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await app(scope, receive, send_and_note)
        finally:
            note(scope, status, started)

    return middleware


def note(scope: Scope, status: int, started: float) -> None:
    """Count one HTTP request of ``scope`` answered ``status``, begun at ``started``
    (``time.perf_counter``)."""
    method: str = scope["method"]  # type: ignore[typeddict-item]  # an HTTP scope
    note_http(method, scope.get("path_template") or "unmatched", status,
              time.perf_counter() - started)


@get("/metrics", include_in_schema=False, guards=[metrics_guard])
async def metrics(monitoring: MonitoringService | None) -> Response[bytes]:
    """Prometheus text format: every worker's counters summed, and the shared figures."""
    body = await monitoring.scrape() if monitoring is not None else process_metrics_text()
    return Response(body, media_type=CONTENT_TYPE_LATEST)
