"""QueueStore: the waiting room's Redis side. It only talks to Redis; every multi-step change
is one Lua script from ``scripts/``, registered once and called by SHA.

Memory is the budget at a million fans (aim: 250 bytes each). A fan costs one member of the
show's ``waiting`` sorted set (~96 bytes) and one field of the show's ``visitors`` hash holding
``"<ticket>,<lastSeen>,<joinedAt>,<waitAtJoin>,<lastWait>"`` (times to the hundredth of a
second, waits to the tenth: ~90 bytes; the last three, ~25 bytes, feed the admission log and
the ETA error histogram), with 12-character visitor ids: 235 bytes in all at 200,000 fans
(``bench/queue_memory.py``; 218 before the record kept the predictions). A hash per fan would
cost ~186 bytes on its own (a key of its own, with the show's tag in it, and a small hash
object), ~280 in all: over the budget.
"""

from __future__ import annotations

import asyncio
import functools
import importlib.resources
import random
import secrets
import time
from collections.abc import Callable
from typing import Any, NamedTuple

from admitone.queue import keys
from admitone.queue.models import (
    DrawnPrequeue,
    Place,
    Progress,
    RoomFigures,
    TickResult,
    WaitingRoom,
)
from admitone.queue.pipelining import script_pipeline
from admitone.redis_client import RedisClient

VISITOR_ID_BYTES = 9  # 72 random bits → 12 characters of base64url
# The admission log keeps this many ticks (about two hours at one tick a second); each entry
# holds the fans that tick let in, ~40 bytes each.
ADMISSION_LOG_TICKS = 7_200

_LIB = "lib.lua"
_ROOM_SCRIPTS = ("join", "status", "leave", "revoke", "admit", "progress")
_PLAIN_SCRIPTS = ("sync", "lease", "identity_code")


class RoomStateMissingError(Exception):
    """Redis holds no settings for the room (never mirrored, or Redis lost its state):
    mirror them from PostgreSQL and try again."""

    def __init__(self, show_id: str) -> None:
        super().__init__(f"no waiting-room settings in Redis for show {show_id}")
        self.show_id = show_id


class JoinRateLimitedError(Exception):
    """The client's join bucket is empty (join.lua took nothing and changed nothing)."""

    def __init__(self, show_id: str, retry_after_seconds: float) -> None:
        super().__init__(f"too many joins from one client to show {show_id}")
        self.retry_after_seconds = retry_after_seconds


class JoinLimit(NamedTuple):
    """The per-client join limit join.lua applies: ``client``'s bucket of the show refills at
    ``rate_per_second`` up to ``burst`` (admission/ratelimit.py's token bucket)."""

    client: str
    rate_per_second: float
    burst: float


class DrawSeedNeededError(Exception):
    """A new place in a random pre-queue needs its draw score: find the room's seed and join
    again with it."""

    def __init__(self, show_id: str) -> None:
        super().__init__(f"a pre-queue place in show {show_id} needs its draw score")
        self.show_id = show_id


@functools.lru_cache(maxsize=4096)
def _room_keys(prefix: str, show_id: str) -> keys.RoomKeys:
    """The room's seven keys, spelled once per show rather than on every fan's call."""
    return keys.RoomKeys.of(prefix, show_id)


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
        seats_left=int(reply[10]), seats_per_order=float(_text(reply[11])),
        buying_share=float(_text(reply[12])), active=int(reply[13]),
        predicted_wait_ms=_wait_ms(reply[14]),
    )


def _wait_ms(value: Any) -> float | None:
    text = _text(value)
    return float(text) * 1000 if text else None


def _progress(reply: list[Any]) -> Progress:
    return Progress(
        phase=_text(reply[0]),  # type: ignore[arg-type]  # lib.lua's phase() answers RoomPhase
        admitted_through=int(reply[1]), waiting=int(reply[2]), active=int(reply[3]),
        admitted_total=int(reply[4]), abandoned_total=int(reply[5]),
        observed_per_minute=float(_text(reply[6])), now_ms=int(reply[7]),
        merged_total=int(reply[8]),
    )


class QueueStore:
    """One show's queue, active set and counters in Redis.

    ``prefix`` starts every key (``queue/keys.py``): one deployment's rooms and lease.
    ``clock`` (unix ms) replaces Redis's TIME in every room script: tests drive time with it.
    ``rng`` draws the random pre-queue scores (a seeded one makes a shuffle reproducible).
    On a Redis Cluster every script's keys share one slot (the show's or the scheduler's hash
    tag), and redis-py loads a script on the node that answers NOSCRIPT, then retries by SHA.
    With ``auto_pipeline`` the room scripts called in one event-loop turn go to a single server
    as one pipeline (``queue/pipelining.py``); a cluster's go one by one.
    """

    def __init__(
        self, redis: RedisClient, *, prefix: str, clock: Callable[[], int] | None = None,
        rng: random.Random | None = None, auto_pipeline: bool = False,
    ) -> None:
        self.redis = redis
        # The room scripts of one event-loop turn as one pipeline (queue/pipelining.py).
        self.pipeline = script_pipeline(redis) if auto_pipeline else None
        self.prefix = prefix
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
        room_keys = [*_room_keys(self.prefix, show_id), *extra_keys]
        if self.pipeline is not None:
            reply = await self.pipeline.call(self._scripts[name], room_keys, [self._now(), *args])
        else:
            reply = await self._scripts[name](keys=room_keys, args=[self._now(), *args])
        if isinstance(reply, list) and reply and _text(reply[0]) == "NOCONFIG":
            raise RoomStateMissingError(show_id)
        return reply

    # Fans --------------------------------------------------------------------------------------

    async def join(
        self, show_id: str, *, visitor_id: str | None = None, token_visitor: str = "",
        token_ticket: int = 0, token_epoch: str = "", pow_challenge: str = "",
        pow_bits: int = 0, pow_ttl_ms: int = 0,
        prequeue_score: Callable[[str], float | None] | None = None, identity: str = "",
        limit: JoinLimit | None = None,
    ) -> Place:
        """Make a place (or keep the one a verified queue token names); see join.lua.

        A new fan in a random pre-queue enters at ``prequeue_score(visitor id)``, its score in
        the verifiable draw (``admission/draw.py``); without that function, at a score from
        ``rng``. Raises :class:`RoomStateMissingError` when the room's settings are not in
        Redis, and :class:`DrawSeedNeededError` when the function answered ``None`` (seed not
        known yet) and the place needs a draw score. With a verified ``identity`` the place is
        that identity's one place (join.lua merges a second one into the better).

        With ``limit`` the same script call first takes a token from the client's join bucket
        and raises :class:`JoinRateLimitedError` when there is none (one round trip for both).
        The script takes it before anything else (even when it answers NOCONFIG), so only the
        first script call of a join may pass ``limit``: a ``RETRY`` here does not take another,
        and the caller joins again without ``limit`` after NOCONFIG or NEEDSEED.
        """
        if limit is not None and (not limit.rate_per_second > 0 or not limit.burst >= 1):
            raise ValueError("need rate_per_second > 0 and burst >= 1")
        pow_key = keys.pow_key(self.prefix, show_id, pow_challenge or "none")
        bucket = keys.join_limit_key(self.prefix, show_id, limit.client) if limit else pow_key
        limit_args = (repr(float(limit.rate_per_second)), repr(float(limit.burst))) if limit \
            else ("", "")
        for _ in range(3):
            visitor = visitor_id or new_visitor_id()
            score = prequeue_score(visitor) if prequeue_score else self.rng.random()
            reply = await self._room(
                "join", show_id, visitor, token_visitor, token_ticket,
                token_epoch, "" if score is None else repr(score), pow_challenge, pow_bits,
                pow_ttl_ms, identity, *limit_args,
                extra_keys=(pow_key, keys.identities_key(self.prefix, show_id), bucket),
            )
            status = _text(reply[0])
            if status == "RATE_LIMITED":
                raise JoinRateLimitedError(show_id, int(reply[1]) / 1000)
            if status == "NEEDSEED":
                raise DrawSeedNeededError(show_id)
            if status != "RETRY":
                break
            visitor_id = None
            limit_args = ("", "")  # the bucket gave this join its token already
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
        key = keys.revoked_key(self.prefix, show_id)
        pairs = await self.redis.zrange(key, 0, -1, withscores=True)
        return {_text(pair[0]): int(pair[1]) for pair in pairs}

    async def is_revoked(self, show_id: str, visitor_id: str, now_ms: int) -> bool:
        until = await self.redis.zscore(keys.revoked_key(self.prefix, show_id), visitor_id)
        return until is not None and until > now_ms

    # The room ----------------------------------------------------------------------------------

    async def tick(
        self, show_id: str, fence: int, tick_ms: int, max_looked: int = 10_000
    ) -> TickResult | None:
        """One admission tick (admit.lua); ``None`` when ``fence`` is stale."""
        reply = await self._room("admit", show_id, fence, tick_ms, max_looked,
                                 ADMISSION_LOG_TICKS,
                                 extra_keys=(keys.admission_log_key(self.prefix, show_id),
                                             keys.eta_errors_key(self.prefix, show_id)))
        if _text(reply[0]) == "STALE":
            return None
        return TickResult(
            admitted=[_text(v) for v in reply[8:]], abandoned=int(reply[2]),
            active=int(reply[3]), waiting=int(reply[4]), phase=_text(reply[5]),
            config_version=_text(reply[6]), tickets_issued=int(reply[7]),
        )

    async def progress(self, show_id: str) -> Progress:
        return _progress(await self._room("progress", show_id))

    async def room_figures(self, show_ids: list[str]) -> dict[str, RoomFigures]:
        """Progress, rate and capacity of several rooms (read only; for ``/metrics`` at scrape
        time), asked side by side: on a Cluster the rooms live on different nodes. Rooms whose
        settings Redis does not hold are left out."""

        async def one(show: str) -> tuple[str, RoomFigures | None]:
            progress = await self._scripts["progress"](
                keys=list(keys.RoomKeys.of(self.prefix, show)), args=[self._now()]
            )
            if _text(progress[0]) == "NOCONFIG":
                return show, None
            rate, most = await self.redis.hmget(keys.config_key(self.prefix, show), "rate", "max")
            return show, RoomFigures(progress=_progress(progress),
                                     release_rate_per_minute=int(rate or 0),
                                     max_active=int(most or 0),
                                     eta_errors=await self.eta_errors(show))

        answers = await asyncio.gather(*(one(show) for show in show_ids))
        return {show: figures for show, figures in answers if figures is not None}

    async def eta_errors(self, show_id: str) -> dict[str, str]:
        """admit.lua's histogram of how far the waits predicted at join were off (read with
        ``admission/eta.py`` accuracy)."""
        fields = await self.redis.hgetall(keys.eta_errors_key(self.prefix, show_id))
        return {_text(name): _text(value) for name, value in fields.items()}

    async def sync(
        self, room: WaitingRoom, revoked: list[tuple[str, int]], ticket_floor: int = 0,
        sessions: list[tuple[str, int]] | None = None,
    ) -> str:
        """Mirror the room's settings (and its revocations) into Redis; the state's epoch. A new
        state's ticket counter starts at ``ticket_floor``, and its active set holds the live
        ``sessions`` (visitor, end in unix ms) PostgreSQL recorded (sync.lua)."""
        fields = room.mirror()
        live = sessions or []
        now = self.clock() if self.clock is not None else int(time.time() * 1000)
        args: list[str | int] = [
            secrets.token_urlsafe(6), ticket_floor, len(fields), len(live), now,
        ]
        for name, value in fields.items():
            args += [name, value]
        for visitor, ends_ms in live:
            args += [visitor, ends_ms]
        for visitor, until_ms in revoked:
            args += [visitor, until_ms]
        show = room.show_id
        epoch = await self._scripts["sync"](
            keys=[
                keys.config_key(self.prefix, show), keys.state_key(self.prefix, show),
                keys.revoked_key(self.prefix, show), keys.active_key(self.prefix, show),
                keys.visitors_key(self.prefix, show),
            ], args=args
        )
        return _text(epoch)

    async def session_ends(self, show_id: str, visitor_ids: list[str]) -> list[tuple[str, int]]:
        """(visitor, end of its session in unix ms) of those of ``visitor_ids`` who are admitted
        now: what the scheduler records in PostgreSQL right after a tick."""
        if not visitor_ids:
            return []
        scores = await self.redis.zmscore(keys.active_key(self.prefix, show_id), visitor_ids)
        return [(visitor, int(score)) for visitor, score in zip(visitor_ids, scores, strict=True)
                if score is not None]

    async def drawn_prequeue(self, show_id: str) -> DrawnPrequeue | None:
        """The pre-queue draw as the room recorded it at startsAt (lib.lua
        ``number_prequeue``), or ``None`` before it (or when Redis lost it)."""
        at, first, entries = await self.redis.hmget(
            keys.state_key(self.prefix, show_id), ["draw_at", "draw_first", "draw_entries"]
        )
        if at is None:
            return None
        packed = _text(entries or b"")
        width = 16
        return DrawnPrequeue(
            drawn_at_ms=int(at), first_ticket=int(first or 0),
            entries=[packed[i:i + width] for i in range(0, len(packed), width)],
        )

    # One place per person: e-mail codes ---------------------------------------------------------

    async def count_identity_code(self, show_id: str, identity: str, ttl_seconds: int) -> int:
        """Count one more code sent to ``identity`` within the window; the count so far."""
        tries = keys.identity_tries_key(self.prefix, show_id, identity)
        sent = await self.redis.hincrby(tries, "sent", 1)
        await self.redis.expire(tries, ttl_seconds)
        return int(sent)

    async def put_identity_code(
        self, show_id: str, identity: str, code_hash: str, ttl_seconds: int
    ) -> None:
        """Remember the newest code's keyed hash (an older code stops working)."""
        code_key = keys.identity_code_key(self.prefix, show_id, identity)
        await self.redis.set(code_key, code_hash, ex=ttl_seconds)
        await self.redis.hdel(keys.identity_tries_key(self.prefix, show_id, identity), "wrong")

    async def take_identity_code(
        self, show_id: str, identity: str, code_hash: str, max_wrong: int
    ) -> bool:
        """Whether ``code_hash`` is the live code (spent by this call); wrong tries count, and
        after ``max_wrong`` of them the code is spent too."""
        reply = await self._scripts["identity_code"](
            keys=[keys.identity_code_key(self.prefix, show_id, identity),
                  keys.identity_tries_key(self.prefix, show_id, identity)],
            args=[code_hash, max_wrong],
        )
        return bool(reply)

    async def admitted_total(self, show_id: str) -> int:
        """How many fans the room has admitted so far."""
        return int(await self.redis.hget(keys.state_key(self.prefix, show_id), "admitted") or 0)

    async def set_inventory(
        self, show_id: str, *, seats_left: int, seats_per_order: float, buying_share: float
    ) -> None:
        """Tell the room what is left behind it: with no seat left it admits nobody and tells
        every waiting fan (SOLDOUT, see lib.lua ``phase``) until seats come back."""
        await self.redis.hset(keys.state_key(self.prefix, show_id), mapping={
            "soldout": "1" if seats_left <= 0 else "0", "inv_left": seats_left,
            "inv_spo": f"{seats_per_order:.3f}", "inv_conv": f"{buying_share:.3f}",
        })

    async def config_version(self, show_id: str) -> str | None:
        value = await self.redis.hget(keys.config_key(self.prefix, show_id), "ver")
        return None if value is None else _text(value)

    # The scheduler lease -----------------------------------------------------------------------

    async def hold_lease(self, holder: str, ttl_ms: int) -> int:
        """Take or renew the scheduler lease: the fencing number while held, else 0."""
        lease = self._scripts["lease"]
        return int(await lease(keys=self._lease_keys(), args=[holder, ttl_ms, "hold"]))

    async def release_lease(self, holder: str) -> None:
        await self._scripts["lease"](keys=self._lease_keys(), args=[holder, 1, "release"])

    def _lease_keys(self) -> list[str]:
        return [keys.lease_key(self.prefix), keys.fence_key(self.prefix)]
