"""Leaving the queue without JavaScript takes two posts: the first asks (the place is kept and
named), the second, with ``confirm=yes``, leaves. Both are POST forms to the same route."""

from __future__ import annotations

import html
import re

import httpx

from admitone.gateway.queue.pages import leave_csrf
from tests.conftest import MakeShow
from tests.integration.queue_support import OPERATOR, put_room


async def _join_by_form(client: httpx.AsyncClient, show_id: str) -> None:
    joined = await client.post(f"/shows/{show_id}/queue", data={"lang": "en"})
    assert joined.status_code == 303, joined.text
    assert "queue_token" in client.cookies


def _csrf(client: httpx.AsyncClient) -> str:
    """The leave forms' hidden token, as the queue page writes it (a hash of the cookie)."""
    return leave_csrf(client.cookies["queue_token"])


async def _waiting(client: httpx.AsyncClient, show_id: str) -> int:
    stats = await client.get(f"/api/v1/admin/shows/{show_id}/waiting-room/stats",
                             headers=OPERATOR)
    assert stats.status_code == 200, stats.text
    waiting: int = stats.json()["waiting"]
    return waiting


async def test_the_first_leave_post_asks_and_keeps_the_place(
    client: httpx.AsyncClient, make_show: MakeShow
) -> None:
    """"Leave the queue" answers a page asking first, naming the place; nothing is left."""
    show = await make_show()
    await put_room(client, show.id, releaseRatePerMinute=1, paused=True)
    client.cookies.clear()
    await _join_by_form(client, show.id)
    before = await _waiting(client, show.id)
    asked = await client.post(f"/shows/{show.id}/queue/leave",
                              data={"lang": "en", "csrf": _csrf(client)})
    text = html.unescape(asked.text)
    assert asked.status_code == 200
    assert 'data-state="confirm_leave"' in text
    assert "number 1 in the queue" in text
    assert re.search(r'<form method="post" action="/shows/[^"]+/queue/leave"', text)
    assert 'name="confirm" value="yes"' in text
    assert "queue_token" in client.cookies  # the place is still held
    assert await _waiting(client, show.id) == before


async def test_the_confirming_post_leaves(
    client: httpx.AsyncClient, make_show: MakeShow
) -> None:
    """With ``confirm=yes`` the place is given up and its cookie cleared."""
    show = await make_show()
    await put_room(client, show.id, releaseRatePerMinute=1, paused=True)
    client.cookies.clear()
    await _join_by_form(client, show.id)
    before = await _waiting(client, show.id)
    left = await client.post(f"/shows/{show.id}/queue/leave",
                             data={"lang": "hi", "confirm": "yes", "csrf": _csrf(client)})
    assert left.status_code == 200
    assert 'data-state="left"' in left.text
    assert '<html lang="hi"' in left.text
    assert "queue_token" not in client.cookies
    assert await _waiting(client, show.id) == before - 1


async def test_leaving_without_a_place_needs_no_question(
    client: httpx.AsyncClient, make_show: MakeShow
) -> None:
    """A fan who holds no place is told they are out of the queue, not asked."""
    show = await make_show()
    await put_room(client, show.id)
    client.cookies.clear()
    response = await client.post(f"/shows/{show.id}/queue/leave", data={"lang": "en"})
    assert 'data-state="left"' in response.text
