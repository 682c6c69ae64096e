"""The queue's fast lanes (admitone/gateway/fast_lane.py): join, status and progress dispatched
before Litestar's routing answer exactly what the routes answer through Litestar (an app built
with ``fast_lanes=False`` on the same services), errors and refusals included; a held progress
answer is sent as the whole way sends it; and everything else goes to Litestar."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from litestar import Litestar
from litestar.types import Message, Receive, Scope, Send
from prometheus_client import REGISTRY

from admitone import observability
from admitone.gateway import fast_lane
from admitone.gateway.app import Gateway, create_app
from admitone.runtime import Services
from admitone.settings import Settings
from tests.conftest import MakeShow
from tests.integration.queue_support import join, put_room

_VARIABLE = {"token", "ticketNumber", "position", "totalInQueue", "estimatedWaitSeconds",
             "updatedAt", "accessToken", "chance", "observedAdmissionsPerMinute"}


@pytest.fixture
async def routed(settings: Settings, services: Services) -> AsyncIterator[httpx.AsyncClient]:
    """The same app on the same services, every request through Litestar's router."""
    app = create_app(settings, services=services, fast_lanes=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://admitone.test") as http:
        yield http


@pytest.fixture
def held_sends(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The paths whose progress answer the lane sent from the held copy, in order."""
    sent: list[str] = []
    original = fast_lane._send_progress

    async def noted(scope: Scope, receive: Receive, send: Send, body: bytes) -> None:
        sent.append(scope["path"])
        await original(scope, receive, send, body)

    monkeypatch.setattr(fast_lane, "_send_progress", noted)
    return sent


def _shape(response: httpx.Response) -> tuple[Any, ...]:
    """Status, header names in order, and the body with what varies per fan left out."""
    names = [k for k, _ in response.headers.multi_items()]
    kind = response.headers.get("content-type", "")
    if "json" not in kind:
        return response.status_code, names, response.content
    body = json.loads(response.content)
    stable = {k: v for k, v in body.items() if k not in _VARIABLE}
    return response.status_code, names, stable, sorted(body)


async def _room(client: httpx.AsyncClient, make_show: MakeShow) -> str:
    show = await make_show()
    await put_room(client, show.id)
    return str(show.id)


async def test_join_and_status_answer_as_the_routed_app_does(
    client: httpx.AsyncClient, routed: httpx.AsyncClient, make_show: MakeShow
) -> None:
    """Every answer a fan's join and status can get, through the lanes and through the router:
    the same status, headers, body fields and codes; one fan's place is the same in both."""
    show_id = await _room(client, make_show)
    queue = f"/api/v1/queue/{show_id}"
    first = await join(routed, show_id)
    again = await join(client, show_id, first.json()["token"])
    assert again.json()["ticketNumber"] == first.json()["ticketNumber"]
    assert _shape(again) == _shape(first)
    token = first.json()["token"]
    cases: list[tuple[str, str, dict[str, Any]]] = [
        ("POST", "/join", {}),
        ("GET", "/status", {"headers": {"X-Queue-Token": token}}),
        ("GET", "/status", {}),
        ("GET", "/status", {"headers": {"X-Queue-Token": "not.a.token"}}),
        ("GET", "/status?x=%00", {"headers": {"X-Queue-Token": token}}),
        ("POST", "/join", {"headers": {"X-PoW-Challenge": "c"}}),
        ("POST", "/join", {"content": "[" * 40 + "]" * 40,
                           "headers": {"Content-Type": "application/json"}}),
        ("POST", "/join", {"content": '{"name": "a\\u0000b"}',
                           "headers": {"Content-Type": "application/json"}}),
        ("POST", "/join?q=%00", {}),
        ("GET", "/status", {"headers": {"X-Queue-Token": token, "Host": "bad host!"}}),
        ("POST", "/join", {"headers": {"Host": "bad host!"}}),
        ("GET", "/progress", {"headers": {"Host": "bad host!"}}),
        ("GET", "/progress", {}),
        ("PUT", "/status", {}),
        ("DELETE", "/join", {}),
    ]
    for method, tail, options in cases:
        via_lane = await client.request(method, queue + tail, **options)
        via_router = await routed.request(method, queue + tail, **options)
        assert via_lane.status_code < 500, (method, tail, via_lane.text)
        assert _shape(via_lane) == _shape(via_router), (method, tail)
    bad_host = await client.post(queue + "/join", headers={"Host": "bad host!"})
    assert bad_host.status_code == 400, bad_host.text
    unknown = f"/api/v1/queue/{uuid.uuid4()}"
    for method, tail in (("POST", "/join"), ("GET", "/status"), ("GET", "/progress")):
        via_lane = await client.request(method, unknown + tail,
                                        headers={"X-Queue-Token": token})
        via_router = await routed.request(method, unknown + tail,
                                          headers={"X-Queue-Token": token})
        assert via_lane.status_code in {401, 404}, via_lane.text
        assert _shape(via_lane) == _shape(via_router), (method, tail)
        assert via_lane.json()["detail"] == via_router.json()["detail"]


async def test_a_fan_who_left_is_gone_on_both_ways(
    client: httpx.AsyncClient, routed: httpx.AsyncClient, make_show: MakeShow
) -> None:
    show_id = await _room(client, make_show)
    token = (await join(client, show_id)).json()["token"]
    left = await routed.delete(f"/api/v1/queue/{show_id}/leave", headers={"X-Queue-Token": token})
    assert left.status_code == 204
    via_lane = await client.get(f"/api/v1/queue/{show_id}/status",
                                headers={"X-Queue-Token": token})
    via_router = await routed.get(f"/api/v1/queue/{show_id}/status",
                                  headers={"X-Queue-Token": token})
    assert via_lane.status_code == 410, via_lane.text
    assert _shape(via_lane) == _shape(via_router)


async def test_the_lanes_count_and_log_as_the_router_does(
    client: httpx.AsyncClient, routed: httpx.AsyncClient, app: Litestar, make_show: MakeShow
) -> None:
    """/metrics counts a lane's answers under the route's template and status, problems
    included, as it counts the router's; each answer carries a request id of its own."""
    show_id = await _room(client, make_show)
    template = "/api/v1/queue/{show_id}/status"

    def counted(status: int) -> float:
        observability.flush_http()
        labels = {"method": "GET", "route": template, "status": str(status)}
        return REGISTRY.get_sample_value("admitone_http_requests_total", labels) or 0.0

    token = (await join(client, show_id)).json()["token"]
    ok, refused = counted(200), counted(401)
    answers = [await http.get(f"/api/v1/queue/{show_id}/status", headers=headers)
               for http in (client, routed)
               for headers in ({"X-Queue-Token": token}, {"X-Queue-Token": "x"})]
    assert [a.status_code for a in answers] == [200, 401, 200, 401]
    assert (counted(200), counted(401)) == (ok + 2, refused + 2)
    ids = {a.headers["x-request-id"] for a in answers}
    assert len(ids) == 4
    echoed = await client.get(f"/api/v1/queue/{show_id}/status",
                              headers={"X-Queue-Token": token, "X-Request-ID": "edge-7f3a.1"})
    assert echoed.headers["x-request-id"] == "edge-7f3a.1"


async def test_a_held_progress_answer_is_sent_as_the_whole_way_sends_it(
    client: httpx.AsyncClient, routed: httpx.AsyncClient, make_show: MakeShow,
    held_sends: list[str],
) -> None:
    """The first ask of a second fills the copy; the next ones get the same status, body and
    headers in the same order, with a request id of their own, and are counted as before."""
    show_id = await _room(client, make_show)
    for _ in range(2):
        assert (await join(client, show_id)).status_code == 200
    url = f"/api/v1/queue/{show_id}/progress"
    labels = {"method": "GET", "route": "/api/v1/queue/{show_id}/progress", "status": "200"}
    observability.flush_http()
    before = REGISTRY.get_sample_value("admitone_http_requests_total", labels) or 0.0
    whole = await client.get(url)
    held = await client.get(url)
    routed_answer = await routed.get(url)
    assert held_sends == [url]
    assert (whole.status_code, held.status_code) == (200, 200)
    assert held.content == whole.content == routed_answer.content
    assert b'"totalInQueue":2' in held.content

    def without_id(response: httpx.Response) -> list[tuple[str, str]]:
        return [(k, v) for k, v in response.headers.multi_items() if k != "x-request-id"]

    assert without_id(held) == without_id(whole) == without_id(routed_answer)
    assert [k for k, _ in held.headers.multi_items()] == [
        "cache-control", "content-type", "content-length", "x-request-id"]
    assert all(re.fullmatch(r"[0-9a-f]{32}", r.headers["x-request-id"]) for r in (whole, held))
    assert whole.headers["x-request-id"] != held.headers["x-request-id"]
    echoed = await client.get(url, headers={"X-Request-ID": "edge-7f3a.1"})
    replaced = await client.get(url, headers={"X-Request-ID": "no spaces allowed"})
    assert held_sends == [url] * 3
    assert echoed.headers["x-request-id"] == "edge-7f3a.1"
    assert re.fullmatch(r"[0-9a-f]{32}", replaced.headers["x-request-id"])
    observability.flush_http()
    after = REGISTRY.get_sample_value("admitone_http_requests_total", labels)
    assert after == before + 5


async def test_progress_the_copy_could_answer_otherwise_goes_the_whole_way(
    client: httpx.AsyncClient, app: Litestar, make_show: MakeShow, held_sends: list[str]
) -> None:
    """With a fresh copy held: a NUL in the query is still a 400, another spelling of the show
    id is canonicalised by the route, other methods and paths are the router's, an unknown room
    is a 404, and a mounted app is routed."""
    show_id = await _room(client, make_show)
    url = f"/api/v1/queue/{show_id}/progress"
    held = await client.get(url)
    assert (await client.get(url)).content == held.content
    assert held_sends == [url]

    nul = await client.get(url + "?x=%00")
    assert (nul.status_code, nul.json()["error"]) == (400, "VALIDATION_ERROR")
    upper = await client.get(f"/api/v1/queue/{show_id.upper()}/progress")
    assert (upper.status_code, upper.content) == (200, held.content)
    assert (await client.post(url)).status_code == 405
    unknown = await client.get(f"/api/v1/queue/{uuid.uuid4()}/progress")
    assert (unknown.status_code, unknown.json()["error"]) == (404, "WAITING_ROOM_NOT_FOUND")
    assert (await client.get(f"/api/v1/queue/{show_id}/x/progress")).status_code == 404
    mounted = httpx.AsyncClient(transport=httpx.ASGITransport(app=app, root_path="/tickets"),
                                base_url="http://admitone.test")
    async with mounted:
        await mounted.get("/tickets" + url)
    assert held_sends == [url]


async def test_before_its_services_are_open_the_lanes_answer_nothing(settings: Settings) -> None:
    """An app whose lifespan has not opened the services yet routes every request."""
    app = create_app(settings)
    assert isinstance(app, Gateway)
    assert app.lanes is not None
    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    async def receive() -> Any:
        return {"type": "http.request", "body": b"", "more_body": False}

    for method, tail in (("GET", "progress"), ("GET", "status"), ("POST", "join")):
        scope: Any = {"type": "http", "method": method, "query_string": b"", "root_path": "",
                      "path": f"/api/v1/queue/{uuid.uuid4()}/{tail}", "headers": []}
        assert await app.lanes.dispatch(scope, receive, send) is False
    assert sent == []
    assert create_app(settings, fast_lanes=False).lanes is None  # type: ignore[attr-defined]
