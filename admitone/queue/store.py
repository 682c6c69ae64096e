"""QueueStore: the waiting room's Redis side. It only talks to Redis; every multi-step change
is one Lua script from ``scripts/``, registered once and called by SHA.

Memory is the budget at a million fans (aim: 250 bytes each). A fan costs one member of the
show's ``waiting`` sorted set (~96 bytes) and one field of the show's ``visitors`` hash holding
``"<ticket>,<lastSeen>,<joinedAt>,<predictedWait>"`` (~80 bytes; the last two, ~15 bytes, feed
the admission log that ``loadtests/check.py`` reads), with 12-character visitor ids: about 200
bytes in all (``bench/queue_memory.py``). A hash per fan would cost ~186 bytes on its own (a key
of its own, with the show's tag in it, and a small hash object), ~280 in all: over the budget.
"""

from __future__ import annotations

import importlib.resources
import random
import secrets
from collections.abc import Callable
from typing import Any

from redis.asyncio import Redis

from admitone.queue import keys
from admitone.queue.models import Place, Progress, TickResult, WaitingRoom

VISITOR_ID_BYTES = 9  # 72 random bits → 12 characters of base64url
# The admission log keeps this many ticks (about two hours at one tick a second); each entry
# holds the fans that tick let in, ~40 bytes each.
ADMISSION_LOG_TICKS = 7_200

_LIB = "lib.lua"
_ROOM_SCRIPTS = ("join", "status", "leave", "revoke", "admit", "progress")
_PLAIN_SCRIPTS = ("sync", "lease")


class RoomStateMissingError(Exception):
    """Redis holds no settings for the room (never mirrored, or Redis lost its state):
    mirror them from PostgreSQL and try again."""

    def __init__(self, show_id: str) -> None:
        super().__init__(f"no waiting-room settings in Redis for show {show_id}")
        self.show_id = show_id


def _script_text(name: str) -> str:
    folder = importlib.resources.files("admitone.queue") / "scripts"
    text = (folder / f"{name}.lua").read_text(encoding="utf-8")
    if name in _ROOM_SCRIPTS:
        return (folder / _LIB).read_text(encoding="utf-8") + "\n" + text
    return text


def new_visitor_id() -> str:
    """A short random visitor id (memory counts at a million fans)."""
    return secrets.token_urlsafe(VISITOR_ID_BYTES)


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _place(reply: list[Any]) -> Place:
    status = _text(reply[0])
    return Place(
        status=status,  # type: ignore[arg-type]  # the scripts answer only PlaceStatus values here
        visitor_id=_text(reply[1]), ticket=int(reply[2]), position=int(reply[3]),
        total=int(reply[4]), observed_per_minute=float(_text(reply[5])), at_ms=int(reply[6]),
        epoch=_text(reply[7]), phase=_text(reply[8]), release_rate_per_minute=int(reply[9]),
    )


class QueueStore:
    """One show's queue, active set and counters in Redis.

    ``clock`` (unix ms) replaces Redis's TIME in every room script: tests drive time with it.
    ``rng`` draws the random pre-queue scores (a seeded one makes a shuffle reproducible).
    """

    def __init__(
        self, redis: Redis, *, clock: Callable[[], int] | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.redis = redis
        self.clock = clock
        self.rng = rng or random.SystemRandom()
        self._scripts = {
            name: redis.register_script(_script_text(name))
            for name in (*_ROOM_SCRIPTS, *_PLAIN_SCRIPTS)
        }

    def _now(self) -> str:
        return "" if self.clock is None else str(self.clock())

    async def _room(
        self, name: str, show_id: str, *args: Any, extra_keys: tuple[str, ...] = ()
    ) -> Any:
        reply = await self._scripts[name](
            keys=[*keys.RoomKeys.of(show_id), *extra_keys], args=[self._now(), *args]
        )
        if isinstance(reply, list) and reply and _text(reply[0]) == "NOCONFIG":
            raise RoomStateMissingError(show_id)
        return reply

    # Fans --------------------------------------------------------------------------------------

    async def join(
        self, show_id: str, *, visitor_id: str | None = None, token_visitor: str = "",
        token_ticket: int = 0, token_epoch: str = "", pow_challenge: str = "",
        pow_bits: int = 0, pow_ttl_ms: int = 0,
    ) -> Place:
        """Make a place (or keep the one a verified queue token names); see join.lua.

        Raises :class:`RoomStateMissingError` when the room's settings are not in Redis.
        """
        pow_key = keys.pow_key(show_id, pow_challenge or "none")
        for _ in range(3):
            reply = await self._room(
                "join", show_id, visitor_id or new_visitor_id(), token_visitor, token_ticket,
                token_epoch, repr(self.rng.random()), pow_challenge, pow_bits, pow_ttl_ms,
                extra_keys=(pow_key,),
            )
            if _text(reply[0]) != "RETRY":
                break
            visitor_id = None
        return _place(reply)

    async def status(self, show_id: str, visitor_id: str, ticket: int, epoch: str) -> Place:
        """Where the visitor stands (and keep its place alive); see status.lua."""
        return _place(await self._room("status", show_id, visitor_id, ticket, epoch))

    async def leave(self, show_id: str, visitor_id: str) -> bool:
        """Take the visitor out at once (waiting or admitted); whether it was in."""
        return bool(await self._room("leave", show_id, visitor_id))

    async def revoke(self, show_id: str, visitor_id: str, until_ms: int) -> bool:
        """Revoke the visitor's tokens until ``until_ms`` and take it out of the room."""
        return bool(await self._room("revoke", show_id, visitor_id, until_ms))

    async def revoked(self, show_id: str) -> dict[str, int]:
        """Every revoked visitor of the show with the time (unix ms) its revocation ends."""
        pairs = await self.redis.zrange(keys.revoked_key(show_id), 0, -1, withscores=True)
        return {_text(pair[0]): int(pair[1]) for pair in pairs}

    async def is_revoked(self, show_id: str, visitor_id: str, now_ms: int) -> bool:
        until = await self.redis.zscore(keys.revoked_key(show_id), visitor_id)
        return until is not None and until > now_ms

    # The room ----------------------------------------------------------------------------------

    async def tick(
        self, show_id: str, fence: int, tick_ms: int, max_looked: int = 10_000
    ) -> TickResult | None:
        """One admission tick (admit.lua); ``None`` when ``fence`` is stale."""
        reply = await self._room("admit", show_id, fence, tick_ms, max_looked,
                                 ADMISSION_LOG_TICKS,
                                 extra_keys=(keys.admission_log_key(show_id),))
        if _text(reply[0]) == "STALE":
            return None
        return TickResult(
            admitted=[_text(v) for v in reply[8:]], abandoned=int(reply[2]),
            active=int(reply[3]), waiting=int(reply[4]), phase=_text(reply[5]),
            config_version=_text(reply[6]), tickets_issued=int(reply[7]),
        )

    async def progress(self, show_id: str) -> Progress:
        reply = await self._room("progress", show_id)
        return Progress(
            phase=_text(reply[0]),  # type: ignore[arg-type]  # lib.lua's phase() answers RoomPhase
            admitted_through=int(reply[1]), waiting=int(reply[2]), active=int(reply[3]),
            admitted_total=int(reply[4]), abandoned_total=int(reply[5]),
            observed_per_minute=float(_text(reply[6])), now_ms=int(reply[7]),
        )

    async def sync(
        self, room: WaitingRoom, revoked: list[tuple[str, int]], ticket_floor: int = 0
    ) -> str:
        """Mirror the room's settings (and its revocations) into Redis; the state's epoch. A new
        state's ticket counter starts at ``ticket_floor``."""
        fields = room.mirror()
        args: list[str | int] = [secrets.token_urlsafe(6), ticket_floor, len(fields)]
        for name, value in fields.items():
            args += [name, value]
        for visitor, until_ms in revoked:
            args += [visitor, until_ms]
        show = room.show_id
        epoch = await self._scripts["sync"](
            keys=[keys.config_key(show), keys.state_key(show), keys.revoked_key(show)], args=args
        )
        return _text(epoch)

    async def config_version(self, show_id: str) -> str | None:
        value = await self.redis.hget(keys.config_key(show_id), "ver")
        return None if value is None else _text(value)

    # The scheduler lease -----------------------------------------------------------------------

    async def hold_lease(self, holder: str, ttl_ms: int) -> int:
        """Take or renew the scheduler lease: the fencing number while held, else 0."""
        return int(await self._scripts["lease"](
            keys=[keys.lease_key(), keys.fence_key()], args=[holder, ttl_ms, "hold"]
        ))

    async def release_lease(self, holder: str) -> None:
        await self._scripts["lease"](
            keys=[keys.lease_key(), keys.fence_key()], args=[holder, 1, "release"]
        )
