"""Service routes: health, readiness, metrics, the OpenAPI document, request ids."""

from __future__ import annotations

import logging
from collections.abc import Callable

import httpx
import structlog
from structlog.testing import capture_logs

from tests.conftest import MakeShow, bearer


async def test_healthz_and_readyz(client: httpx.AsyncClient) -> None:
    """The process answers ok, and is ready while PostgreSQL and Redis answer."""
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"postgres": "ok", "redis": "ok"}


async def test_metrics_count_requests_by_route_template(
    client: httpx.AsyncClient, make_show: MakeShow, access_token: Callable[..., str]
) -> None:
    """/metrics speaks Prometheus text and counts a seat-map read under its route template."""
    show = await make_show(rows=1, seats_per_row=2)
    await client.get(f"/api/v1/shows/{show.id}/seats", headers=bearer(access_token(show.id)))
    body = (await client.get("/metrics")).text
    assert "# TYPE admitone_http_requests_total counter" in body
    assert 'route="/api/v1/shows/{show_id}/seats",status="200"' in body
    assert "admitone_http_request_duration_seconds_bucket" in body
    assert show.id not in body  # a show not on sale never becomes a label


async def test_openapi_follows_the_contract(client: httpx.AsyncClient) -> None:
    """OpenAPI 3.1 with the contract's paths and camelCase path parameters."""
    document = (await client.get("/schema/openapi.json")).json()
    assert document["openapi"].startswith("3.1")
    paths = document["paths"]
    for path in ["/api/v1/shows/{showId}/seats", "/api/v1/bookings/lock",
                 "/api/v1/bookings/lock/{lockId}/extend", "/api/v1/bookings/{bookingId}/ticket",
                 "/api/v1/queue/{showId}/join", "/api/v1/queue/{showId}/progress",
                 "/api/v1/admin/shows/{showId}/waiting-room", "/api/v1/tokens/introspect",
                 "/api/v1/payments/webhook", "/.well-known/jwks.json"]:
        assert path in paths, path
    seat_map = paths["/api/v1/shows/{showId}/seats"]["get"]
    assert [p["name"] for p in seat_map["parameters"] if p["in"] == "path"] == ["showId"]


async def test_request_id_is_echoed_and_bound_to_log_lines(
    client: httpx.AsyncClient, make_show: MakeShow, access_token: Callable[..., str]
) -> None:
    """A caller's X-Request-ID comes back and is on every log line of its request; one is made
    when none is sent."""
    show = await make_show(rows=1, seats_per_row=2)
    lock = {"showId": show.id, "seatIds": ["A1"]}
    assert (await client.post("/api/v1/bookings/lock", json=lock,
                              headers=bearer(access_token(show.id)))).status_code == 200
    previous = structlog.get_config()["wrapper_class"]
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.DEBUG))
    try:
        with capture_logs(processors=[structlog.contextvars.merge_contextvars]) as logs:
            response = await client.post(
                "/api/v1/bookings/lock", json=lock,
                headers={**bearer(access_token(show.id)), "X-Request-ID": "req-abc-123"},
            )
    finally:
        structlog.configure(wrapper_class=previous)
    assert response.status_code == 409
    assert response.headers["x-request-id"] == "req-abc-123"
    conflict = [entry for entry in logs if entry["event"] == "seats_unavailable"]
    assert conflict
    assert conflict[0]["request_id"] == "req-abc-123"
    assert len((await client.get("/healthz")).headers["x-request-id"]) == 32
