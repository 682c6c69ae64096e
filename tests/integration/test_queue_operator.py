"""Operators' waiting-room routes: set up, change live, stats, audit, revocation, introspection,
key rotation (CONTRACT.md "Operator" and tokens)."""

from __future__ import annotations

import asyncio
import json
import uuid

import httpx
import jwt
import pytest

from admitone.admission.signing_keys import rotate_keys
from admitone.runtime import Services
from tests.conftest import MakeShow, bearer
from tests.integration.queue_support import (
    BASE_ROOM,
    OPERATOR,
    Clock,
    admission_of,
    admit_one,
    join,
    patch_room,
    put_room,
    status,
    tick,
)


async def test_operator_routes_need_the_operator_token(
    client: httpx.AsyncClient, make_show: MakeShow
) -> None:
    """Without the operator token no room is set up, changed, read or revoked (401)."""
    show = await make_show()
    base = f"/api/v1/admin/shows/{show.id}"
    for method, path, body in [
        ("PUT", f"{base}/waiting-room", BASE_ROOM), ("PATCH", f"{base}/waiting-room", {}),
        ("GET", f"{base}/waiting-room/stats", None), ("POST", f"{base}/visitors/v1/revoke", None),
    ]:
        response = await client.request(method, path, json=body,
                                        headers={"Authorization": "Bearer nope-nope-nope-nope"})
        assert response.status_code == 401, (method, path)
    progress = await client.get(f"/api/v1/queue/{show.id}/progress")
    assert progress.status_code == 404  # nothing was set up


async def test_put_returns_the_room_and_bad_bodies_are_refused(
    client: httpx.AsyncClient, make_show: MakeShow
) -> None:
    """PUT answers the room; unknown fields, bad values, opensAt after startsAt and unknown shows
    are 4xx problems and write nothing."""
    show = await make_show()
    path = f"/api/v1/admin/shows/{show.id}/waiting-room"
    bad_bodies = [
        {**BASE_ROOM, "releaseRatePerMinute": 0}, {**BASE_ROOM, "queueMode": "LIFO"},
        {**BASE_ROOM, "surprise": 1}, {"enabled": True}, {**BASE_ROOM, "maxActive": "many"},
        {**BASE_ROOM, "opensAt": "2030-01-01T10:00:00"},  # no time zone
    ]
    for body in bad_bodies:
        response = await client.put(path, json=body, headers=OPERATOR)
        assert 400 <= response.status_code < 500, body
        assert response.headers["content-type"].startswith("application/problem+json")
    later = await client.put(path, headers=OPERATOR, json={
        **BASE_ROOM, "opensAt": "2030-01-01T10:00:00Z", "startsAt": "2030-01-01T09:00:00Z"})
    assert later.status_code == 422
    unknown = await client.put(f"/api/v1/admin/shows/{uuid.uuid4()}/waiting-room",
                               json=BASE_ROOM, headers=OPERATOR)
    assert unknown.status_code == 404
    missing = await client.get(path, headers=OPERATOR)
    assert missing.status_code == 404
    room = await put_room(client, show.id, maxActive=7)
    assert room["showId"] == show.id
    assert room["maxActive"] == 7
    assert room["paused"] is False
    assert room["queueMode"] == "FIFO"
    assert room["abandonGraceSeconds"] == 60
    assert (await client.get(path, headers=OPERATOR)).json() == room


async def test_patch_changes_only_what_it_names_and_is_audited(
    client: httpx.AsyncClient, services: Services, make_show: MakeShow
) -> None:
    """PATCH changes the named fields, keeps the rest, and the audit log says who and what."""
    show = await make_show()
    await put_room(client, show.id)
    room = await patch_room(client, show.id, releaseRatePerMinute=1200, paused=True)
    assert (room["releaseRatePerMinute"], room["paused"], room["maxActive"]) == (1200, True, 100)
    response = await client.patch(f"/api/v1/admin/shows/{show.id}/waiting-room",
                                  json={"maxActive": 5}, headers={**OPERATOR, "X-Operator": "asha"})
    assert response.status_code == 200
    rows = await services.pool.fetch(
        "SELECT actor, action, data FROM audit_log WHERE entity = 'waiting_room'"
        " AND entity_id = $1 ORDER BY id", show.id)
    assert [row["action"] for row in rows] == [
        "WAITING_ROOM_SET", "WAITING_ROOM_CHANGED", "WAITING_ROOM_CHANGED"]
    assert rows[2]["actor"].startswith("operator:asha@")
    last = json.loads(rows[2]["data"])
    assert last == {"changes": {"max_active": 5}, "before": {"max_active": 100}}
    no_room = await client.patch(f"/api/v1/admin/shows/{(await make_show()).id}/waiting-room",
                                 json={"paused": True}, headers=OPERATOR)
    assert no_room.status_code == 404


async def test_pause_and_rate_changes_take_effect_on_the_next_tick(
    client: httpx.AsyncClient, services: Services, make_show: MakeShow
) -> None:
    """A paused room admits nobody and its progress says PAUSED; a new rate is used by the very
    next tick (well within 2 s)."""
    show = await make_show()
    await put_room(client, show.id, releaseRatePerMinute=60)
    for _ in range(40):
        await join(client, show.id)
    clock = Clock.seconds_ago(2.1)
    await tick(services, show.id, clock)
    await patch_room(client, show.id, paused=True)
    clock.advance(1.05)
    assert (await tick(services, show.id, clock)).admitted == []
    progress = (await client.get(f"/api/v1/queue/{show.id}/progress")).json()
    assert progress["status"] == "PAUSED"
    await patch_room(client, show.id, paused=False, releaseRatePerMinute=1200)
    await tick(services, show.id, clock)  # resumes with an empty bucket: no burst
    clock.advance(1.05)
    assert 19 <= len((await tick(services, show.id, clock)).admitted) <= 21


async def test_stats_count_waiting_active_admitted_and_rates(
    client: httpx.AsyncClient, services: Services, make_show: MakeShow
) -> None:
    """Stats name waiting, active, admittedTotal, abandonedTotal, both rates and paused."""
    show = await make_show()
    await put_room(client, show.id, releaseRatePerMinute=120)
    for _ in range(5):
        await join(client, show.id)
    clock = Clock.seconds_ago(1.05)
    await tick(services, show.id, clock)
    clock.advance(1.05)
    await tick(services, show.id, clock)
    response = await client.get(f"/api/v1/admin/shows/{show.id}/waiting-room/stats",
                                headers=OPERATOR)
    stats = response.json()
    assert {key: stats[key] for key in ("waiting", "active", "admittedTotal", "abandonedTotal",
                                        "releaseRatePerMinute", "paused")} == {
        "waiting": 3, "active": 2, "admittedTotal": 2, "abandonedTotal": 0,
        "releaseRatePerMinute": 120, "paused": False}
    assert stats["observedAdmissionsPerMinute"] > 0


async def test_a_fan_that_stopped_polling_is_skipped_and_counted(
    client: httpx.AsyncClient, services: Services, make_show: MakeShow
) -> None:
    """A fan silent for longer than the grace is skipped at admission (abandonedTotal) and its
    turn goes to the next fan."""
    show = await make_show()
    await put_room(client, show.id, releaseRatePerMinute=60, abandonGraceSeconds=1)
    silent = (await join(client, show.id)).json()["token"]
    polling = (await join(client, show.id)).json()["token"]
    await tick(services, show.id)
    # Real time: the status call below stamps the polling fan with the server's own clock.
    await asyncio.sleep(2.1)
    assert (await status(client, show.id, polling)).json()["position"] == 2
    result = await tick(services, show.id)
    assert result.abandoned == 1
    assert len(result.admitted) == 1
    assert (await status(client, show.id, polling)).json()["status"] == "ADMITTED"
    assert (await status(client, show.id, silent)).status_code == 410
    stats = (await client.get(f"/api/v1/admin/shows/{show.id}/waiting-room/stats",
                              headers=OPERATOR)).json()
    assert stats["abandonedTotal"] == 1


async def test_revoking_a_visitor_stops_its_token_at_once(
    client: httpx.AsyncClient, services: Services, make_show: MakeShow
) -> None:
    """After revoke (204) the visitor's access token opens nothing, introspection says
    inactive, its slot is free, and the revocation is audited."""
    show = await make_show()
    await put_room(client, show.id)
    queue_token, access = await admit_one(client, services, show.id)
    visitor = jwt.decode(access, options={"verify_signature": False})["sub"]
    seats = f"/api/v1/shows/{show.id}/seats"
    assert (await client.get(seats, headers=bearer(access))).status_code == 200
    active = await client.post("/api/v1/tokens/introspect", json={"token": access})
    assert active.json() == {"active": True, "showId": show.id, "sub": visitor,
                             "exp": jwt.decode(access, options={"verify_signature": False})["exp"]}
    revoked = await client.post(f"/api/v1/admin/shows/{show.id}/visitors/{visitor}/revoke",
                                headers=OPERATOR)
    assert revoked.status_code == 204
    refused = await client.get(seats, headers=bearer(access))
    assert (refused.status_code, refused.json()["error"]) == (401, "TOKEN_INVALID")
    assert (await client.post("/api/v1/tokens/introspect", json={"token": access})).json() == {
        "active": False}
    assert (await status(client, show.id, queue_token)).status_code == 410
    stats = (await client.get(f"/api/v1/admin/shows/{show.id}/waiting-room/stats",
                              headers=OPERATOR)).json()
    assert stats["active"] == 0
    audit = await services.pool.fetchval(
        "SELECT count(*) FROM audit_log WHERE entity = 'visitor' AND action = 'VISITOR_REVOKED'"
        " AND entity_id = $1", f"{show.id}/{visitor}")
    assert audit == 1


@pytest.mark.parametrize("token", ["", "abc", "a.b.c", "x" * 4000])
async def test_introspection_of_garbage_is_inactive(client: httpx.AsyncClient, token: str) -> None:
    """Introspecting anything that is not a live access token answers active: false (200)."""
    response = await client.post("/api/v1/tokens/introspect", json={"token": token})
    assert response.status_code == 200
    assert response.json() == {"active": False}


async def test_introspection_without_a_token_is_a_bad_request(client: httpx.AsyncClient) -> None:
    """A body without ``token`` is refused (400)."""
    bad = await client.post("/api/v1/tokens/introspect", json={"nope": 1})
    assert bad.status_code == 400


async def test_rotated_keys_sign_new_tokens_and_old_ones_still_verify(
    client: httpx.AsyncClient, services: Services, make_show: MakeShow
) -> None:
    """After `admitone keys rotate` the running service signs with the new key, publishes both
    in the JWKS, and tokens signed before still open the booking core."""
    show = await make_show()
    await put_room(client, show.id)
    _, old_access = await admit_one(client, services, show.id)
    admission = admission_of(services)
    old_kid = services.tokens.keys.current.kid
    new_kid = rotate_keys(admission.keys_folder)
    try:
        assert await admission.reload_signing_keys() is True
        kids = [key["kid"] for key in (await client.get("/.well-known/jwks.json")).json()["keys"]]
        assert kids == [new_kid, old_kid]
        _, new_access = await admit_one(client, services, show.id)
        assert jwt.get_unverified_header(new_access)["kid"] == new_kid
        for token in (old_access, new_access):
            response = await client.get(f"/api/v1/shows/{show.id}/seats", headers=bearer(token))
            assert response.status_code == 200
    finally:
        assert await admission.reload_signing_keys() is False
