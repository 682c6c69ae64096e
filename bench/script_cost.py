"""Redis's own time per room script call (``INFO commandstats``), one client, no HTTP.

What a join and a status cost inside Redis, beside two floors of the same run: an EVALSHA of
``return 1`` (the price of a script call before it runs a line) and lib.lua with ``return 1``
(what defining the shared helpers costs, since every room script carries their text). With
``--against <tree>`` that checkout's join and status scripts run too, on the same room. The
variants run in turn, in blocks, the order flipped every round, so that the machine's drift
falls on all of them alike; each is reported as the median and the lowest block.

Run: ``PYTHONPATH=. python bench/script_cost.py [--against /tmp/base] [--redis URL]``
(default ``redis://127.0.0.1:6379/13``, flushed before and after).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

from redis.asyncio import Redis

from admitone.queue import keys
from admitone.queue.models import Place, WaitingRoom
from admitone.queue.store import JoinLimit, QueueStore

HERE = Path(__file__).resolve().parent.parent
PREFIX = "scriptcost"
ROUNDS = 10
BLOCK = 300  # calls per block


def script_text(tree: Path, name: str) -> str:
    """A room script as store.py registers it: lib.lua's text, then the script's."""
    folder = tree / "admitone" / "queue" / "scripts"
    return (folder / "lib.lua").read_text() + "\n" + (folder / f"{name}.lua").read_text()


async def evalsha_usec(redis: Redis) -> float:
    return float((await redis.info("commandstats"))["cmdstat_evalsha"]["usec"])


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/13")
    parser.add_argument("--against", type=Path, help="another checkout whose scripts run too")
    args = parser.parse_args()
    redis = Redis.from_url(args.redis)
    await redis.flushdb()
    trees = {"this tree": HERE} | ({f"{args.against}": args.against} if args.against else {})
    stores: dict[str, QueueStore] = {}
    for tag, tree in trees.items():
        store = QueueStore(redis, prefix=PREFIX)
        for name in ("join", "status"):  # this tree's store, that tree's script texts
            store._scripts[name] = redis.register_script(script_text(tree, name))
        stores[tag] = store
    show = str(uuid.uuid4())
    room = WaitingRoom(
        show_id=show, enabled=True, release_rate_per_minute=60, max_active=100,
        session_seconds=600, queue_mode="FIFO", opens_at=None, starts_at=None, paused=False,
        fail_open=False, abandon_grace_seconds=86_400, pow_difficulty_bits=0,
        updated_at=datetime.now(UTC),
    )
    await next(iter(stores.values())).sync(room, [])
    room_keys = [str(key) for key in keys.RoomKeys.of(PREFIX, show)][:7]
    floors = {
        "return 1": await redis.script_load("return 1"),
        "lib.lua + return 1": await redis.script_load(
            script_text(HERE, "status").split("-- status.lua")[0] + "\nreturn 1"),
    }
    limit = JoinLimit("10.0.0.1", 1e6, 1e6)  # as the HTTP route calls it: the bucket runs too
    places: list[Place] = []

    def floor(sha: str) -> Callable[[], Awaitable[object]]:
        return lambda: redis.evalsha(sha, 7, *room_keys, "", "visitor", "1", "epoch")

    def joiner(store: QueueStore) -> Callable[[], Awaitable[object]]:
        async def one() -> object:
            places.append(await store.join(show, limit=limit))
            return None
        return one

    def poller(store: QueueStore) -> Callable[[], Awaitable[object]]:
        turn = iter(range(1 << 62))

        async def one() -> Place:
            place = places[next(turn) % len(places)]
            return await store.status(show, place.visitor_id, place.ticket, place.epoch)
        return one

    stages = [
        {name: floor(sha) for name, sha in floors.items()},
        {f"join ({tag})": joiner(store) for tag, store in stores.items()},
        {f"status ({tag})": poller(store) for tag, store in stores.items()},
    ]
    print(f"Redis's own µs per EVALSHA, {ROUNDS} rounds of {BLOCK} calls per variant, "
          f"in turn (join adds a fan per call; status polls them in turn)")
    for variants in stages:
        blocks: dict[str, list[float]] = {name: [] for name in variants}
        for turn in range(ROUNDS):
            order = list(variants.items())
            for name, call in order if turn % 2 == 0 else reversed(order):
                before = await evalsha_usec(redis)
                for _ in range(BLOCK):
                    await call()
                blocks[name].append((await evalsha_usec(redis) - before) / BLOCK)
        for name, values in blocks.items():
            print(f"  {name:40} median {statistics.median(values):6.2f}   "
                  f"lowest block {min(values):6.2f}")
    await redis.flushdb()
    await redis.aclose()


if __name__ == "__main__":
    asyncio.run(main())
