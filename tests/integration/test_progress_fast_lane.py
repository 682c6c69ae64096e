"""The progress fast lane (admitone/gateway/fast_lane.py): a held progress answer is sent before
routing exactly as the whole way sends it, and everything the lane could answer differently
goes the whole way."""

from __future__ import annotations

import re
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from litestar import Litestar
from litestar.types import Message, Scope
from prometheus_client import REGISTRY

from admitone import observability
from admitone.gateway.app import Gateway, create_app
from admitone.gateway.fast_lane import ProgressLane, route_template
from admitone.settings import Settings
from tests.conftest import MakeShow
from tests.integration.queue_support import join, put_room

Serve = Callable[[ProgressLane, Scope, Any], Awaitable[bool]]


@pytest.fixture
def lane_answers(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Whether the lane answered, for each request that reached it (in order)."""
    answered: list[bool] = []
    serve: Serve = ProgressLane.serve

    async def noted(lane: ProgressLane, scope: Scope, send: Any) -> bool:
        answered.append(await serve(lane, scope, send))
        return answered[-1]

    monkeypatch.setattr(ProgressLane, "serve", noted)
    return answered


async def _room_with_fans(client: httpx.AsyncClient, make_show: MakeShow) -> str:
    show = await make_show()
    await put_room(client, show.id)
    for _ in range(2):
        assert (await join(client, show.id)).status_code == 200
    return str(show.id)


def _without_request_id(response: httpx.Response) -> list[tuple[str, str]]:
    return [(k, v) for k, v in response.headers.multi_items() if k != "x-request-id"]


async def test_a_held_answer_is_sent_as_the_whole_way_sends_it(
    client: httpx.AsyncClient, make_show: MakeShow, lane_answers: list[bool]
) -> None:
    """The first ask of a second goes the whole way (and fills the copy); the next ones get the
    same status, body and headers in the same order, with a request id of their own."""
    show_id = await _room_with_fans(client, make_show)
    url = f"/api/v1/queue/{show_id}/progress"
    whole = await client.get(url)
    lane = await client.get(url)
    assert lane_answers == [False, True]
    assert (whole.status_code, lane.status_code) == (200, 200)
    assert lane.content == whole.content
    assert b'"totalInQueue":2' in lane.content
    assert _without_request_id(lane) == _without_request_id(whole)
    assert [k for k, _ in lane.headers.multi_items()] == [
        "cache-control", "content-type", "content-length", "x-request-id"]
    ids = {whole.headers["x-request-id"], lane.headers["x-request-id"]}
    assert len(ids) == 2
    assert all(re.fullmatch(r"[0-9a-f]{32}", i) for i in ids)
    # The caller's own id when it is sane, a new one when it is not (as the whole way does).
    echoed = await client.get(url, headers={"X-Request-ID": "edge-7f3a.1"})
    replaced = await client.get(url, headers={"X-Request-ID": "no spaces allowed"})
    assert lane_answers == [False, True, True, True]
    assert echoed.headers["x-request-id"] == "edge-7f3a.1"
    assert re.fullmatch(r"[0-9a-f]{32}", replaced.headers["x-request-id"])


async def test_the_lane_counts_its_answers_under_the_routes_template(
    client: httpx.AsyncClient, app: Litestar, make_show: MakeShow, lane_answers: list[bool]
) -> None:
    """/metrics counts a request the lane answered as it counts one the route answered."""
    show_id = await _room_with_fans(client, make_show)
    labels = {"method": "GET", "route": route_template(app), "status": "200"}
    assert labels["route"] == "/api/v1/queue/{show_id}/progress"
    observability.flush_http()
    before = REGISTRY.get_sample_value("admitone_http_requests_total", labels) or 0.0
    for _ in range(3):
        assert (await client.get(f"/api/v1/queue/{show_id}/progress")).status_code == 200
    observability.flush_http()
    after = REGISTRY.get_sample_value("admitone_http_requests_total", labels)
    assert lane_answers == [False, True, True]
    assert after == before + 3


async def test_whatever_the_lane_could_answer_otherwise_goes_the_whole_way(
    client: httpx.AsyncClient, app: Litestar, make_show: MakeShow, lane_answers: list[bool]
) -> None:
    """With a fresh copy held: a NUL in the query is still a 400, another spelling of the show
    id is canonicalised by the route, other methods and paths are the router's, an unknown room
    is a 404, and a mounted app is routed."""
    show_id = await _room_with_fans(client, make_show)
    url = f"/api/v1/queue/{show_id}/progress"
    held = await client.get(url)
    assert (await client.get(url)).content == held.content
    assert lane_answers == [False, True]
    lane_answers.clear()

    nul = await client.get(url + "?x=%00")
    assert (nul.status_code, nul.json()["error"]) == (400, "VALIDATION_ERROR")
    upper = await client.get(f"/api/v1/queue/{show_id.upper()}/progress")
    assert (upper.status_code, upper.content) == (200, held.content)
    posted = await client.post(url)
    assert posted.status_code == 405
    unknown = await client.get(f"/api/v1/queue/{uuid.uuid4()}/progress")
    assert (unknown.status_code, unknown.json()["error"]) == (404, "WAITING_ROOM_NOT_FOUND")
    deeper = await client.get(f"/api/v1/queue/{show_id}/x/progress")
    assert deeper.status_code == 404
    assert lane_answers == [False] * 5

    mounted = httpx.AsyncClient(transport=httpx.ASGITransport(app=app, root_path="/tickets"),
                                base_url="http://admitone.test")
    async with mounted:
        await mounted.get("/tickets" + url)
    assert lane_answers == [False] * 6


async def test_before_its_services_are_open_the_lane_answers_nothing(settings: Settings) -> None:
    """An app whose lifespan has not opened the services yet routes every request."""
    app = create_app(settings)
    assert isinstance(app, Gateway)
    assert app.progress_lane is not None
    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    scope: Any = {"type": "http", "method": "GET", "path": f"/api/v1/queue/{uuid.uuid4()}/progress",
                  "query_string": b"", "root_path": "", "headers": []}
    assert await app.progress_lane.serve(scope, send) is False
    assert sent == []
