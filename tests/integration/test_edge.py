"""The edge of the service: who the client is (trusted proxies), the caps on event streams, bad
bytes in requests, and who may read /metrics and introspect tokens."""

from __future__ import annotations

import asyncio
import dataclasses
import re
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

import httpx
import msgspec
import pytest
import uvicorn
from litestar import Litestar, Request, get
from structlog.testing import capture_logs

from admitone.admission.ratelimit import LOOKUP_BURST
from admitone.cli import _uvicorn_options
from admitone.gateway.app import create_app
from admitone.gateway.client import client_ip, proxy_middleware
from admitone.gateway.streams import stream_slot_middleware
from admitone.runtime import Services
from admitone.settings import PRIVATE_NETWORKS, Settings, SettingsError, load_settings
from tests.conftest import OPERATOR_TOKEN, MakeShow
from tests.integration.queue_support import put_room

LOOKUP = {"reference": "AOXXXXXXXX", "email": "nobody@example.com"}


def _who_app(trusted: tuple[str, ...]) -> Litestar:
    @get("/who", sync_to_thread=False)
    def who(request: Request[Any, Any, Any]) -> dict[str, str]:
        return {"ip": client_ip(request), "scheme": request.url.scheme}

    return Litestar([who], middleware=[proxy_middleware(trusted)])


async def _who(app: Litestar, peer: str, **headers: str) -> dict[str, str]:
    transport = httpx.ASGITransport(app=app, client=(peer, 4000))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        answer: dict[str, str] = (await http.get("/who", headers=headers)).json()
        return answer


@pytest.mark.parametrize(("peer", "forwarded", "expected"), [
    # A trusted proxy: the first untrusted address from the right, past trusted hops.
    ("10.1.2.3", "203.0.113.5", "203.0.113.5"),
    ("10.1.2.3", "6.6.6.6, 203.0.113.5, 10.9.9.9", "203.0.113.5"),
    ("127.0.0.1", "203.0.113.5", "203.0.113.5"),
    # Anyone else: the header is not believed.
    ("198.51.100.7", "203.0.113.5", "198.51.100.7"),
    ("127.0.0.2", "203.0.113.5", "127.0.0.2"),
])
async def test_forwarded_for_is_believed_only_from_a_trusted_proxy(
    peer: str, forwarded: str, expected: str
) -> None:
    app = _who_app(("10.0.0.0/8", "127.0.0.1/32"))
    answer = await _who(app, peer, **{"X-Forwarded-For": forwarded, "X-Forwarded-Proto": "https"})
    assert answer["ip"] == expected
    assert answer["scheme"] == ("https" if expected != peer else "http")


async def test_without_trusted_proxies_the_peer_is_the_client() -> None:
    answer = await _who(_who_app(()), "127.0.0.1", **{"X-Forwarded-For": "203.0.113.5"})
    assert answer["ip"] == "127.0.0.1"


def test_trusted_proxies_setting_is_a_list_of_networks() -> None:
    settings = load_settings({"ADMITONE_TRUSTED_PROXIES": "10.0.0.0/8, 127.0.0.1,fd00::/8"})
    assert settings.proxy_networks == ("10.0.0.0/8", "127.0.0.1/32", "fd00::/8")
    with pytest.raises(SettingsError, match="ADMITONE_TRUSTED_PROXIES"):
        load_settings({"ADMITONE_TRUSTED_PROXIES": "10.0.0.0/8,proxy.local"})
    # The deprecated hop count maps onto the private networks, never onto "any peer".
    assert load_settings({"ADMITONE_TRUSTED_PROXY_HOPS": "1"}).proxy_networks == PRIVATE_NETWORKS
    assert load_settings({"ADMITONE_TRUSTED_PROXY_HOPS": "1",
                          "ADMITONE_TRUSTED_PROXIES": "10.0.0.0/8"}).proxy_networks == (
        "10.0.0.0/8",)


def test_the_server_reads_no_proxy_headers_and_limits_concurrency(settings: Settings) -> None:
    """uvicorn's own X-Forwarded-For handling (on by default, trusting 127.0.0.1) is off: the
    app's proxy middleware is the one place that reads it."""
    options = _uvicorn_options(_replace(settings, limit_concurrency=321))
    assert options["proxy_headers"] is False
    assert options["limit_concurrency"] == 321
    assert _uvicorn_options(_replace(settings, limit_concurrency=0))["limit_concurrency"] is None


def _replace(settings: Settings, **changes: Any) -> Settings:
    return msgspec.structs.replace(settings, **changes)


async def _app_client(services: Services, settings: Settings, peer: str) -> httpx.AsyncClient:
    app = create_app(settings, services=dataclasses.replace(services, settings=settings))
    transport = httpx.ASGITransport(app=app, client=(peer, 4000))
    return httpx.AsyncClient(transport=transport, base_url="http://t")


async def test_with_hops_a_peer_on_the_internet_cannot_choose_its_address(
    services: Services, make_settings: Callable[..., Settings]
) -> None:
    """ADMITONE_TRUSTED_PROXY_HOPS=1 (deprecated) used to believe the header from any peer, so
    one client got a fresh lookup bucket per request; now a public peer is its own bucket."""
    peer = f"2001:db8:9::{uuid.uuid4().hex[:4]}"
    async with await _app_client(services, make_settings(trusted_proxy_hops=1), peer) as http:
        answers = [(await http.post("/api/v1/bookings/lookup", json=LOOKUP, headers={
            "X-Forwarded-For": f"198.51.100.{n}"})).status_code for n in range(LOOKUP_BURST + 1)]
    assert answers == [404] * LOOKUP_BURST + [429]


async def test_behind_a_trusted_network_each_fan_has_its_own_lookup_bucket(
    services: Services, make_settings: Callable[..., Settings]
) -> None:
    """The chart's ingress case: every request comes from the ingress pod's address; with that
    network in ADMITONE_TRUSTED_PROXIES, fans stop sharing one bucket."""
    settings = make_settings(trusted_proxies=("10.0.0.0/8",))
    first = f"2001:db8:3::{uuid.uuid4().hex[:4]}"
    second = f"2001:db8:4::{uuid.uuid4().hex[:4]}"
    async with await _app_client(services, settings, "10.42.0.7") as http:
        answers = [(await http.post("/api/v1/bookings/lookup", json=LOOKUP, headers={
            "X-Forwarded-For": first})).status_code for _ in range(LOOKUP_BURST + 1)]
        other = await http.post("/api/v1/bookings/lookup", json=LOOKUP,
                                headers={"X-Forwarded-For": second})
    assert answers == [404] * LOOKUP_BURST + [429]
    assert other.status_code == 404


def _bad_request(response: httpx.Response) -> None:
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["error"] == "VALIDATION_ERROR"


ADMIN = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}


@pytest.mark.parametrize(("method", "path", "kwargs"), [
    ("POST", "/api/v1/bookings/lookup",
     {"json": {"reference": "AO\u0000XXXXXXX", "email": "a@example.com"}}),
    ("POST", "/api/v1/bookings/lookup",
     {"json": {"reference": "AOXXXXXXXX", "email": "a\u0000@example.com"}}),
    ("POST", "/api/v1/admin/theaters",
     {"json": {"name": "Hall", "city": "Pune\u0000", "address": "1 Road"}, "headers": ADMIN}),
    ("POST", "/api/v1/admin/movies",
     {"json": {"title": "A\u0000", "durationMinutes": 90, "language": "en", "genre": "x"},
      "headers": ADMIN}),
    ("POST", "/api/v1/admin/movies",  # a NUL in a key is refused too
     {"json": {"title\u0000": "A", "durationMinutes": 90, "language": "en", "genre": "x"},
      "headers": ADMIN}),
    ("GET", "/api/v1/movies?city=Pune%00", {}),
    ("POST", "/my-booking", {"data": {"reference": "AO\x00X", "email": "a@example.com"}}),
    ("POST", "/my-booking", {"data": {"reference": "AOXXXXXXXX", "email": "a\x00@example.com"}}),
])
async def test_a_nul_character_anywhere_is_a_400_problem(
    client: httpx.AsyncClient, method: str, path: str, kwargs: dict[str, Any]
) -> None:
    """PostgreSQL cannot store U+0000: it used to come back as a 503 "retry in 5 s" with a
    traceback; now it is refused before any handler, and nothing is written."""
    with capture_logs() as logs:
        response = await client.request(method, path, **kwargs)
    _bad_request(response)
    assert "NUL" in response.json()["detail"]
    assert not [entry for entry in logs if entry["log_level"] in {"error", "critical"}]


@pytest.mark.parametrize("path", [
    "/api/v1/movies/ab%00cd/shows", "/api/v1/admin/shows/ab%00cd/waiting-room",
    "/api/v1/admin/shows/ab%00cd/waiting-room/stats", "/api/v1/queue/%00/status",
    "/api/v1/bookings/%00", "/movies/ab%00cd", "/bookings/%00",
])
async def test_a_nul_in_a_path_id_names_nothing(client: httpx.AsyncClient, path: str) -> None:
    """Path ids are parsed before use: one holding a NUL is a 404 (never a 503)."""
    with capture_logs() as logs:
        response = await client.get(path, headers=ADMIN)
    assert response.status_code in {401, 404}, response.text
    assert not [entry for entry in logs if entry["log_level"] in {"error", "critical"}]


async def test_deeply_nested_json_is_a_400_problem(client: httpx.AsyncClient) -> None:
    deep = b"[" * 10_000 + b"]" * 10_000
    for path in ("/api/v1/bookings/lookup", "/api/v1/bookings/lock", "/api/v1/admin/movies"):
        with capture_logs() as logs:
            response = await client.post(path, content=deep,
                                         headers={"content-type": "application/json"})
        _bad_request(response)
        assert "nested" in response.json()["detail"]
        assert not [entry for entry in logs if entry["log_level"] in {"error", "critical"}]
    # Brackets inside strings are text, not nesting; a plain request still gets its answer.
    texty = {"reference": "[" * 100, "email": "a@example.com"}
    assert (await client.post("/api/v1/bookings/lookup", json=texty)).status_code in {400, 404}


async def test_clean_json_with_an_escaped_backslash_is_not_a_nul(client: httpx.AsyncClient) -> None:
    """``\\\\u0000`` is a backslash and the text u0000, not a NUL: it reaches the route."""
    response = await client.post("/api/v1/bookings/lookup", content=(
        b'{"reference": "AO\\\\u0000", "email": "a@example.com"}'),
        headers={"content-type": "application/json"})
    assert response.status_code in {404, 429}, response.text


@asynccontextmanager
async def _served(app: Litestar) -> AsyncIterator[str]:
    """The app over real HTTP on 127.0.0.1 (lifespan off: the caller owns the services)."""
    config = uvicorn.Config(app, host="127.0.0.1", port=0, lifespan="off", log_level="warning",
                            timeout_graceful_shutdown=1)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        assert not task.done(), "uvicorn stopped"
        await asyncio.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 10)


async def _open_streams(http: httpx.AsyncClient, url: str, count: int,
                        stack: AsyncExitStack) -> list[httpx.Response]:
    responses = []
    readers = []  # kept: a line iterator that is collected closes its response
    for _ in range(count):
        response = await stack.enter_async_context(http.stream("GET", url))
        if response.status_code == 200:  # held open until the stack closes
            readers.append(response.aiter_lines())
            await anext(readers[-1])
            stack.push_async_callback(readers[-1].aclose)
        else:
            await response.aread()
        responses.append(response)
    return responses


@pytest.mark.parametrize(("per_client", "per_process", "error_detail"), [
    (2, 50, "your address"),
    (50, 2, "this server"),
])
async def test_event_streams_are_capped_per_client_and_per_process(
    services: Services, make_settings: Callable[..., Settings], make_show: MakeShow,
    client: httpx.AsyncClient, per_client: int, per_process: int, error_detail: str,
) -> None:
    """300 unauthenticated streams from one client used to be held: past the cap the stream
    route answers 503 TOO_MANY_STREAMS with Retry-After, and a closed stream frees its slot."""
    settings = make_settings(streams_per_client=per_client, streams_per_process=per_process)
    app = create_app(settings, services=dataclasses.replace(services, settings=settings))
    show = await make_show()
    await put_room(client, show.id)
    async with _served(app) as base, httpx.AsyncClient(timeout=10) as http:
        url = f"{base}/api/v1/queue/{show.id}/events"
        async with AsyncExitStack() as stack:
            answers = await _open_streams(http, url, 4, stack)
            assert [r.status_code for r in answers] == [200, 200, 503, 503]
            refused = answers[2]
            assert refused.headers["content-type"].startswith("application/problem+json")
            assert refused.headers["retry-after"] == "10"
            body = refused.json()
            assert body["error"] == "TOO_MANY_STREAMS"
            assert error_detail in body["detail"].lower()
        # Every stream closed: the slots are free again.
        async with AsyncExitStack() as stack:
            again = await _open_streams(http, url, 2, stack)
            assert [r.status_code for r in again] == [200, 200]


METRICS_TOKEN = "metrics-token-for-tests-0123"


async def test_metrics_and_introspection_can_be_restricted(
    services: Services, make_settings: Callable[..., Settings]
) -> None:
    """They were public: with a token set they need it (401 without), with networks set a
    caller outside them gets 403 even with the token; unset, they stay open."""
    settings = make_settings(metrics_token=METRICS_TOKEN, introspection_token=METRICS_TOKEN,
                             metrics_allow=("10.0.0.0/8",), introspection_allow=("10.0.0.0/8",))
    good = {"Authorization": f"Bearer {METRICS_TOKEN}"}
    probe = {"token": "not-a-token"}
    async with await _app_client(services, settings, "10.0.0.9") as inside:
        assert (await inside.get("/metrics")).status_code == 401
        wrong = await inside.get("/metrics", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401
        assert wrong.headers["www-authenticate"] == "Bearer"
        assert wrong.headers["content-type"].startswith("application/problem+json")
        assert (await inside.get("/metrics", headers=good)).status_code == 200
        assert (await inside.post("/api/v1/tokens/introspect", json=probe)).status_code == 401
        answer = await inside.post("/api/v1/tokens/introspect", json=probe, headers=good)
        assert answer.status_code == 200
        assert answer.json() == {"active": False}
    async with await _app_client(services, settings, "198.51.100.9") as outside:
        refused = await outside.get("/metrics", headers=good)
        assert refused.status_code == 403
        assert refused.json()["error"] == "FORBIDDEN"
        assert (await outside.post("/api/v1/tokens/introspect", json=probe,
                                   headers=good)).status_code == 403
    async with await _app_client(services, make_settings(), "198.51.100.9") as open_:
        assert (await open_.get("/metrics")).status_code == 200


def test_metrics_token_may_come_from_a_file(tmp_path: Any) -> None:
    path = tmp_path / "token"
    path.write_text(METRICS_TOKEN + "\n")
    settings = load_settings({"ADMITONE_METRICS_TOKEN_FILE": str(path),
                              "ADMITONE_METRICS_ALLOW": "10.0.0.0/8,192.168.1.7"})
    assert settings.metrics_token == METRICS_TOKEN
    assert settings.metrics_allow == ("10.0.0.0/8", "192.168.1.7/32")


async def test_the_no_js_leave_form_needs_its_token_from_our_page(
    services: Services, make_settings: Callable[..., Settings], make_show: MakeShow,
    client: httpx.AsyncClient,
) -> None:
    """The cookie-authenticated leave form had no CSRF check: a cross-site form could make a
    fan leave. Now it needs the page's hidden token (a hash of the cookie) and no
    ``Sec-Fetch-Site: cross-site``; a refused post leaves the place as it was."""
    show = await make_show()
    await put_room(client, show.id)
    peer = f"2001:db8:7::{uuid.uuid4().hex[:4]}"
    async with await _app_client(services, make_settings(), peer) as fan:
        joined = await fan.post(f"/shows/{show.id}/queue", data={"lang": "en"})
        assert joined.status_code == 303, joined.text
        token = fan.cookies["queue_token"]
        page = await fan.get(f"/shows/{show.id}/queue")
        assert page.status_code == 200
        field = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert field is not None, "the leave form carries its token"
        leave = f"/shows/{show.id}/queue/leave"
        for refused in (
            await fan.post(leave, data={"lang": "en"}),
            await fan.post(leave, data={"lang": "en", "csrf": "forged"}),
            await fan.post(leave, data={"lang": "en", "csrf": field.group(1)},
                           headers={"Sec-Fetch-Site": "cross-site"}),
        ):
            assert refused.status_code == 303
            here = await fan.get(f"/api/v1/queue/{show.id}/status",
                                 headers={"X-Queue-Token": token})
            assert here.status_code == 200, here.text
            assert here.json()["status"] == "WAITING"
        left = await fan.post(leave, data={"lang": "en", "csrf": field.group(1), "confirm": "yes"},
                              headers={"Sec-Fetch-Site": "same-origin"})
        assert left.status_code == 200
        gone = await fan.get(f"/api/v1/queue/{show.id}/status", headers={"X-Queue-Token": token})
        assert gone.status_code == 410, gone.text


def test_every_event_stream_route_takes_a_slot(app: Litestar) -> None:
    """Each route answering Server-Sent Events (the queue's progress, the seat changes) runs
    behind the stream caps."""
    streams = [
        handler for route in app.routes for handler in getattr(route, "route_handlers", [])
        if "ServerSentEvent" in str(handler.parsed_fn_signature.return_type.annotation)
    ]
    assert {path for handler in streams for path in handler.paths} >= {
        "/api/v1/queue/{show_id:str}/events", "/api/v1/shows/{show_id:str}/seat-events"}
    for handler in streams:
        assert stream_slot_middleware in handler.middleware, handler
