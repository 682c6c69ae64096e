"""After Redis loses a room's state (a restart without persistence), maxActive still holds: the
active set is rebuilt from the sessions PostgreSQL recorded, before anyone else is admitted."""

from __future__ import annotations

import httpx

from admitone.queue import keys
from admitone.runtime import Services
from tests.conftest import MakeShow
from tests.integration.queue_support import (
    OPERATOR,
    Clock,
    admission_of,
    join,
    put_room,
    status,
    tick,
)


async def _lose_room_state(services: Services, show_id: str) -> None:
    """What a Redis restart without persistence does to one room (its keys only: the suite's
    Redis is shared by the other tests)."""
    pattern = f"{services.settings.redis_key_prefix}:{keys.PART}:{{show:{show_id}}}*"
    found = [key async for key in services.redis.scan_iter(match=pattern)]
    assert found
    await services.redis.delete(*found)


async def _admit(client: httpx.AsyncClient, services: Services, show_id: str, tokens: list[str],
                 clock: Clock) -> list[str]:
    """Tick on the test clock until the room admits nobody more; the access tokens of
    ``tokens``' fans now admitted."""
    for _ in range(4):
        await tick(services, show_id, clock)
        clock.advance(1.05)
    admitted = []
    for token in tokens:
        body = (await status(client, show_id, token)).json()
        if body["status"] == "ADMITTED":
            admitted.append(body["accessToken"])
    return admitted


async def test_max_active_holds_after_redis_loses_the_room(
    client: httpx.AsyncClient, services: Services, make_show: MakeShow
) -> None:
    """Two fans admitted (maxActive 2), Redis forgets the room: the two still count, a third
    fan waits instead of being let in, and the two still read as ADMITTED."""
    show = await make_show()
    await put_room(client, show.id, maxActive=2, releaseRatePerMinute=6000, sessionSeconds=600)
    tokens = [(await join(client, show.id)).json()["token"] for _ in range(3)]
    clock = Clock.seconds_ago(10)
    first = await _admit(client, services, show.id, tokens[:2], clock)
    assert len(first) == 2
    assert (await status(client, show.id, tokens[2])).json()["status"] == "WAITING"

    await _lose_room_state(services, show.id)
    late = (await join(client, show.id)).json()["token"]  # restores the room (sync.lua)
    again = await _admit(client, services, show.id, [*tokens, late], clock)
    assert len(again) == 2, "maxActive 2 was exceeded after Redis lost the room"
    for token in tokens[:2]:
        assert (await status(client, show.id, token)).json()["status"] == "ADMITTED"
    assert (await status(client, show.id, tokens[2])).json()["status"] == "WAITING"
    stats = (await client.get(f"/api/v1/admin/shows/{show.id}/waiting-room/stats",
                              headers=OPERATOR)).json()
    assert stats["active"] == 2


async def test_a_fan_who_left_or_was_revoked_is_not_put_back(
    client: httpx.AsyncClient, services: Services, make_show: MakeShow
) -> None:
    """Only live sessions come back: not a fan who left, nor a revoked one."""
    show = await make_show()
    await put_room(client, show.id, maxActive=3, releaseRatePerMinute=6000, sessionSeconds=600)
    tokens = [(await join(client, show.id)).json()["token"] for _ in range(3)]
    clock = Clock.seconds_ago(20)
    assert len(await _admit(client, services, show.id, tokens, clock)) == 3
    sessions = await admission_of(services).settings.repository.live_sessions(show.id)
    assert len(sessions) == 3
    left = await client.delete(f"/api/v1/queue/{show.id}/leave",
                               headers={"X-Queue-Token": tokens[0]})
    assert left.status_code in {200, 204}, left.text
    live = sorted(visitor for visitor, _ in
                  await admission_of(services).settings.repository.live_sessions(show.id))
    assert len(live) == 2  # the leaver's session is over in PostgreSQL too
    revoked, kept = live
    assert (await client.post(f"/api/v1/admin/shows/{show.id}/visitors/{revoked}/revoke",
                              headers=OPERATOR)).status_code == 204

    await _lose_room_state(services, show.id)
    await join(client, show.id)  # restores the room
    active_key = keys.active_key(services.settings.redis_key_prefix, show.id)
    active = {member.decode() if isinstance(member, bytes) else member
              for member in await services.redis.zrange(active_key, 0, -1)}
    assert active == {kept}
