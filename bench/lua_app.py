"""One Litestar endpoint doing one Redis Lua call, served like admitone: the yardstick between
the framework's ceiling and admitone's queue endpoints.

Run by ``bench/queue_bench.py`` as
``uvicorn lua_app:app --app-dir bench --workers N --loop uvloop --http httptools`` with
``BENCH_REDIS_URL`` naming the (scratch) Redis db. ``POST /lua`` runs one registered script
(``queue_redis_call.lua``: INCR a counter, ZADD a fresh member scored by it) by EVALSHA through
redis-py's asyncio client, with the same connection pool admitone builds
(``admitone.runtime.create_redis``).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import msgspec
from litestar import Litestar, get, post
from redis.asyncio import Redis
from redis.commands.core import AsyncScript

from admitone.runtime import create_redis

SCRIPT = (Path(__file__).parent / "queue_redis_call.lua").read_text()  # INCR + ZADD
KEYS = ["{bench:lua}:counter", "{bench:lua}:waiting"]


class Ticket(msgspec.Struct, frozen=True):
    """The endpoint's answer: the number the script gave out."""

    ticket: int


class _State:
    redis: Redis
    script: AsyncScript


state = _State()


@asynccontextmanager
async def lifespan(_: Litestar) -> AsyncIterator[None]:
    """One Redis client (pool) per worker; the script is registered once and called by SHA."""
    state.redis = create_redis(os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/12"))
    state.script = state.redis.register_script(SCRIPT)
    try:
        yield
    finally:
        await state.redis.aclose()


@post("/lua", status_code=200)
async def lua() -> Ticket:
    """One EVALSHA round trip (INCR + ZADD), answered as JSON."""
    number = await state.script(keys=KEYS, args=[secrets.token_urlsafe(9)])
    return Ticket(ticket=int(number))


@get("/ping", sync_to_thread=False)
def ping() -> Ticket:
    """Readiness for the bench's start-up wait (no Redis)."""
    return Ticket(ticket=0)


app = Litestar(route_handlers=[lua, ping], lifespan=[lifespan], debug=False)
