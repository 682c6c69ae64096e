"""The verifiable pre-queue lottery end to end: commitment published at set-up, the pre-queue
ordered by HMAC(seed, entry id) alone, seed and entries published after the draw, and
``admitone verify-draw`` catching any tampering."""

from __future__ import annotations

import hashlib
import io
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from redis.asyncio import Redis

from admitone import verify_draw
from admitone.admission.draw import draw_order, draw_score, entry_id
from admitone.queue import keys
from admitone.runtime import Services
from tests.conftest import MakeShow
from tests.integration.queue_support import join, patch_room, put_room, status, tick

FANS = 30


def _soon() -> str:
    return (datetime.now(UTC) + timedelta(hours=1)).isoformat()


async def _drawn_room(
    client: httpx.AsyncClient, make_show: MakeShow
) -> tuple[str, list[dict[str, Any]]]:
    """A RANDOM_PREQUEUE room with FANS fans in its pre-queue, then started (drawn)."""
    show = (await make_show()).id
    await put_room(client, show, queueMode="RANDOM_PREQUEUE", startsAt=_soon())
    fans = [(await join(client, show)).json() for _ in range(FANS)]
    await patch_room(client, show, startsAt=(datetime.now(UTC) - timedelta(seconds=1)).isoformat())
    return show, fans


async def _published(client: httpx.AsyncClient, show: str) -> dict[str, Any]:
    response = await client.get(f"/api/v1/queue/{show}/draw")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_the_commitment_is_published_before_the_draw_and_the_seed_is_not(
    client: httpx.AsyncClient, make_show: MakeShow
) -> None:
    """From set-up until startsAt the draw route shows only the seed's hash; pre-queue fans get
    their entry id and no number."""
    show = (await make_show()).id
    await put_room(client, show, queueMode="RANDOM_PREQUEUE", startsAt=_soon())
    before = await _published(client, show)
    assert before["status"] == "COMMITTED"
    assert len(before["commitment"]) == 64
    assert "seed" not in before
    assert "entries" not in before
    fan = (await join(client, show)).json()
    assert fan["status"] == "PREQUEUE"
    assert len(fan["entryId"]) == 16
    assert fan.get("ticketNumber") is None
    again = await put_room(client, show, queueMode="RANDOM_PREQUEUE", startsAt=_soon())
    assert again["queueMode"] == "RANDOM_PREQUEUE"
    assert (await _published(client, show))["commitment"] == before["commitment"]  # kept


async def test_the_drawn_order_is_the_seed_order_and_tickets_follow_it(
    client: httpx.AsyncClient, make_show: MakeShow, redis_url: str, services: Services
) -> None:
    """After startsAt the seed is revealed, it hashes to the commitment, and the pre-queue's
    tickets are exactly the order HMAC(seed, entry id) gives the fans' entry ids."""
    show, fans = await _drawn_room(client, make_show)
    first = (await status(client, show, fans[0]["token"])).json()  # the first call draws
    published = await _published(client, show)
    assert published["status"] == "DRAWN"
    seed = bytes.fromhex(published["seed"])
    assert hashlib.sha256(seed).hexdigest() == published["commitment"]
    entries = [fan["entryId"] for fan in fans]
    assert sorted(published["entries"]) == sorted(entries)
    assert published["entries"] == draw_order(seed, entries)
    scores = [draw_score(seed, entry) for entry in published["entries"]]
    assert scores == sorted(scores)
    for fan in fans:
        place = (await status(client, show, fan["token"])).json()
        index = published["entries"].index(fan["entryId"])
        assert place["ticketNumber"] == published["firstTicket"] + index
        assert place["entryId"] == fan["entryId"]
    assert first["status"] == "WAITING"
    redis = Redis.from_url(redis_url)
    try:  # the sorted set itself holds the fans in drawn order
        members = [m.decode() for m in await redis.zrange(keys.waiting_key(services.settings.redis_key_prefix, show), 0, -1)]
    finally:
        await redis.aclose()
    assert [entry_id(member) for member in members] == published["entries"]


async def test_the_draw_outlives_redis(
    client: httpx.AsyncClient, make_show: MakeShow, services: Services, redis_url: str
) -> None:
    """The scheduler keeps the draw in PostgreSQL right after it, so a Redis that forgets
    everything does not take the published draw with it."""
    show, fans = await _drawn_room(client, make_show)
    await tick(services, show)  # the scheduler's tick draws and keeps the draw
    redis = Redis.from_url(redis_url)
    try:
        await redis.flushdb()  # before anyone asked for the draw
    finally:
        await redis.aclose()
    published = await _published(client, show)
    assert published["status"] == "DRAWN"
    assert sorted(published["entries"]) == sorted(fan["entryId"] for fan in fans)


async def test_verify_draw_accepts_the_real_draw_and_catches_tampering(
    client: httpx.AsyncClient, make_show: MakeShow
) -> None:
    """``admitone verify-draw`` passes the published draw, finds a fan's own entry, and fails
    (exit 1) on a swapped order, another seed, a dropped entry or a changed commitment."""
    show, fans = await _drawn_room(client, make_show)
    await status(client, show, fans[0]["token"])
    published = await _published(client, show)

    def check(body: dict[str, Any], **options: Any) -> tuple[int, str]:
        transport = httpx.MockTransport(lambda _request: httpx.Response(200, json=body))
        out = io.StringIO()
        with httpx.Client(transport=transport, base_url="http://admitone.test") as http:
            code = verify_draw.run("http://admitone.test", show, client=http, out=out, **options)
        return code, out.getvalue()

    code, text = check(published, entry=fans[3]["entryId"], commitment=published["commitment"])
    assert code == 0, text
    assert "your entry" in text
    swapped = list(published["entries"])
    swapped[0], swapped[-1] = swapped[-1], swapped[0]
    assert check({**published, "entries": swapped})[0] == 1
    assert check({**published, "seed": "00" * 32})[0] == 1
    dropped = [e for e in published["entries"] if e != fans[3]["entryId"]]
    assert check({**published, "entries": dropped}, entry=fans[3]["entryId"])[0] == 1
    assert check(published, commitment="ab" * 32)[0] == 1
    assert check({**published, "status": "COMMITTED"})[0] == 3


async def test_fifo_rooms_have_no_draw(client: httpx.AsyncClient, make_show: MakeShow) -> None:
    """A FIFO room publishes no draw (404 problem) and its fans get no entry id."""
    show = (await make_show()).id
    await put_room(client, show)
    response = await client.get(f"/api/v1/queue/{show}/draw")
    assert response.status_code == 404
    assert response.json()["error"] == "DRAW_NOT_FOUND"
    assert "entryId" not in (await join(client, show)).json()
    assert (await client.get(f"/api/v1/queue/{uuid.uuid4()}/draw")).status_code == 404
    assert (await client.get("/api/v1/queue/not-a-show/draw")).status_code == 404


async def test_a_fan_in_an_undrawn_prequeue_is_told_why_there_is_no_wait(
    client: httpx.AsyncClient, make_show: MakeShow
) -> None:
    """Before the draw a random pre-queue fan has no number and no estimate, and the answer
    says the places are drawn at startsAt."""
    show = (await make_show()).id
    await put_room(client, show, queueMode="RANDOM_PREQUEUE", startsAt=_soon())
    fan = (await join(client, show)).json()
    assert fan.get("estimatedWaitSeconds") is None
    assert fan["estimatedWaitReason"] == "DRAW_PENDING"
