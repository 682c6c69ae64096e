"""Seat events are batched, and a change recorded while a batch is on the wire is not lost."""

from __future__ import annotations

import asyncio

import msgspec
from redis.asyncio import Redis

from admitone.booking_core.keys import seat_channel
from admitone.booking_core.seat_events import SeatEvents


async def test_changes_made_during_a_flush_are_sent_too(redis_server_url: str) -> None:
    """Two hundred changes from concurrent requests all reach subscribers, in a few batches."""
    redis = Redis.from_url(redis_server_url)
    events = SeatEvents(redis, cache_seconds=1.0, prefix="unit")
    listener = redis.pubsub()
    await listener.subscribe(seat_channel("unit", "batch-show"))
    await listener.get_message(timeout=1)
    try:

        async def change(n: int) -> None:
            await asyncio.sleep(n * 0.0005)  # spread over several batch periods
            await events.changed("batch-show", "SEAT_LOCKED", [f"A{n}"])

        await asyncio.gather(*(change(n) for n in range(1, 201)))
        seen: set[str] = set()
        for _ in range(400):
            message = await listener.get_message(ignore_subscribe_messages=True, timeout=0.5)
            if message is None:
                break
            seen.update(msgspec.json.decode(message["data"])["seatIds"])
            if len(seen) == 200:
                break
        assert seen == {f"A{n}" for n in range(1, 201)}
    finally:
        await events.aclose()
        await listener.aclose()
        await redis.aclose()


async def test_a_change_recorded_as_a_batch_goes_out_is_sent_without_another_change(
    redis_server_url: str,
) -> None:
    """The last change of a rush, recorded while the flush task is still sending the batch
    before it, reaches subscribers although no later change comes to start a new flush."""
    redis = Redis.from_url(redis_server_url)
    events = SeatEvents(redis, cache_seconds=1.0, prefix="unit")
    listener = redis.pubsub()
    await listener.subscribe(seat_channel("unit", "late-show"))
    await listener.get_message(timeout=1)
    send_batch = events.flush
    batches = 0

    async def flush_then_a_late_change() -> None:
        nonlocal batches
        batches += 1
        await send_batch()
        if batches == 1:  # the flush task has not finished: this change must not wait
            await events.changed("late-show", "SEAT_RELEASED", ["LATE"])

    events.flush = flush_then_a_late_change  # type: ignore[method-assign]
    try:
        await events.changed("late-show", "SEAT_LOCKED", ["FIRST"])
        seen: list[str] = []
        for _ in range(10):
            message = await listener.get_message(ignore_subscribe_messages=True, timeout=0.3)
            if message:
                seen += msgspec.json.decode(message["data"])["seatIds"]
            if seen == ["FIRST", "LATE"]:
                break
        assert seen == ["FIRST", "LATE"]
    finally:
        events.flush = send_batch  # type: ignore[method-assign]
        await events.aclose()
        await listener.aclose()
        await redis.aclose()
