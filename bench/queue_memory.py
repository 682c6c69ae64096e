"""Redis memory per waiting fan, and the time of one admission tick, at 1,000,000 fans.

Fills one show's queue through the join script itself (pipelined), reads ``INFO memory``
before and after, times admission ticks at that size, then deletes the show's keys.

    python bench/queue_memory.py --redis redis://127.0.0.1:6379/13 [--fans 1000000]

Aims (issue 3): at most 250 bytes per waiting fan, under 5 ms per tick. ``used_memory`` is the
whole server's, so other clients of the same Redis add noise; run it on a quiet one.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
import uuid
from datetime import UTC, datetime

from redis.asyncio import Redis

from admitone.queue import keys
from admitone.queue.models import WaitingRoom
from admitone.queue.store import QueueStore, new_visitor_id

BATCH = 5_000
PREFIX = "bench"  # the Redis key prefix of the benchmark's room


async def used_memory(redis: Redis) -> int:
    info = await redis.info("memory")
    return int(info["used_memory"])


async def fill(store: QueueStore, show_id: str, fans: int) -> float:
    """Join ``fans`` fans through join.lua, ``BATCH`` per pipeline; seconds taken."""
    script = store._scripts["join"]  # the benchmark drives the script itself
    # The last key is the join limit's bucket, unused without a limit (store.join passes the
    # PoW key then, as here).
    pow_key = keys.pow_key(PREFIX, show_id, "none")
    room_keys = [*keys.RoomKeys.of(PREFIX, show_id), pow_key,
                 keys.identities_key(PREFIX, show_id), pow_key]
    started = time.perf_counter()
    done = 0
    while done < fans:
        size = min(BATCH, fans - done)
        async with store.redis.pipeline(transaction=False) as pipe:
            for _ in range(size):
                await script(keys=room_keys, client=pipe, args=[
                    "", new_visitor_id(), "", 0, "", "0.5", "", 0, 0, "", "", ""])
            replies = await pipe.execute()
        if not all(reply[0] == b"WAITING" for reply in replies):
            raise RuntimeError(f"a join did not queue: {replies[:1]}")
        done += size
        if done % 100_000 == 0:
            print(f"  {done:>9,} fans queued", flush=True)
    return time.perf_counter() - started


async def run(url: str, fans: int, ticks: int) -> None:
    redis = Redis.from_url(url)
    show_id = str(uuid.uuid4())
    clock_ms = [int(time.time() * 1000)]
    store = QueueStore(redis, prefix=PREFIX, clock=lambda: clock_ms[0])
    room = WaitingRoom(
        show_id=show_id, enabled=True, release_rate_per_minute=6_000, max_active=10_000_000,
        session_seconds=600, queue_mode="FIFO", opens_at=None, starts_at=None, paused=False,
        fail_open=False, abandon_grace_seconds=86_400, pow_difficulty_bits=0,
        updated_at=datetime.now(UTC),
    )
    try:
        await store.sync(room, [])
        await store.tick(show_id, 1, 1000)  # creates the state the ticks below refill
        before = await used_memory(redis)
        seconds = await fill(store, show_id, fans)
        after = await used_memory(redis)
        waiting = await redis.zcard(keys.waiting_key(PREFIX, show_id))
        print(f"queued {waiting:,} fans in {seconds:.1f} s "
              f"({fans / seconds:,.0f} joins/s pipelined)")
        per_fan = (after - before) / fans
        print(f"used_memory: {before / 2**20:,.1f} MiB -> {after / 2**20:,.1f} MiB, "
              f"{per_fan:.1f} bytes per waiting fan (aim <= 250)")
        for name in ("waiting", "visitors"):
            key = getattr(keys.RoomKeys.of(PREFIX, show_id), name)
            usage = await redis.memory_usage(key) or 0
            print(f"  MEMORY USAGE {name}: {usage / fans:.1f} bytes per fan")
        durations = []
        for _ in range(ticks):
            clock_ms[0] += 1000
            started = time.perf_counter()
            result = await store.tick(show_id, 1, 1000)
            durations.append((time.perf_counter() - started) * 1000)
            if result is None or len(result.admitted) != 100:
                raise RuntimeError(f"the tick did not admit 100: {result}")
        print(f"admission tick (100 admitted of {waiting:,} waiting), round trip: "
              f"median {statistics.median(durations):.2f} ms, max {max(durations):.2f} ms "
              f"over {ticks} ticks (aim < 5 ms)")
    finally:
        await redis.unlink(*keys.RoomKeys.of(PREFIX, show_id),
                           keys.admission_log_key(PREFIX, show_id))
        await redis.aclose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/13")
    parser.add_argument("--fans", type=int, default=1_000_000)
    parser.add_argument("--ticks", type=int, default=20)
    args = parser.parse_args()
    asyncio.run(run(args.redis, args.fans, args.ticks))


if __name__ == "__main__":
    main()
