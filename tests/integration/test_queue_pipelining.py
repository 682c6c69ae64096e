"""Auto-pipelining of the room scripts (queue/pipelining.py): calls of one event-loop turn go as
one write, each gets its own reply or error, and a lost script or connection behaves as the
unpipelined call does."""

from __future__ import annotations

import asyncio
import secrets

import pytest
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError

from admitone.queue.pipelining import ScriptPipeline, script_pipeline
from admitone.redis_client import RedisClient, create_redis

ECHO = """
if ARGV[1] == 'boom' then return redis.error_reply('BOOM ' .. ARGV[1]) end
redis.call('RPUSH', KEYS[1], ARGV[1])
return {ARGV[1], redis.call('LLEN', KEYS[1])}
"""
KEY = "{pipelining-test}:calls"


def _pipeline(redis: RedisClient) -> ScriptPipeline:
    pipeline = script_pipeline(redis)
    if pipeline is None:
        pytest.skip("a cluster client is not pipelined")
    return pipeline


async def test_calls_of_one_turn_go_as_one_batch_in_call_order(redis: RedisClient) -> None:
    pipeline = _pipeline(redis)
    script = redis.register_script(ECHO)
    await script(keys=[KEY], args=["warm"])  # loaded: the batch finds it by SHA
    replies = await asyncio.gather(*(pipeline.call(script, [KEY], [f"v{i}"]) for i in range(50)))
    assert [(r[0].decode() if isinstance(r[0], bytes) else r[0]) for r in replies] == [
        f"v{i}" for i in range(50)]
    assert [int(r[1]) for r in replies] == list(range(2, 52))  # run in the order they were made
    assert (pipeline.batches, pipeline.calls) == (1, 50)


async def test_each_call_gets_its_own_error(redis: RedisClient) -> None:
    pipeline = _pipeline(redis)
    script = redis.register_script(ECHO)
    await script(keys=[KEY], args=["warm"])
    answers = await asyncio.gather(
        pipeline.call(script, [KEY], ["a"]), pipeline.call(script, [KEY], ["boom"]),
        pipeline.call(script, [KEY], ["b"]), return_exceptions=True,
    )
    assert isinstance(answers[1], ResponseError)
    assert "BOOM" in str(answers[1])
    assert [int(answers[0][1]), int(answers[2][1])] == [2, 3]  # type: ignore[index]


async def test_a_script_redis_lost_is_loaded_and_called_again(redis: RedisClient) -> None:
    pipeline = _pipeline(redis)
    # A script Redis has never seen (as after a restart): NOSCRIPT for every call of the batch.
    # Not SCRIPT FLUSH: that empties the cache of everyone sharing the server.
    script = redis.register_script(f"-- {secrets.token_hex(8)}\n{ECHO}")
    replies = await asyncio.gather(*(pipeline.call(script, [KEY], [f"v{i}"]) for i in range(5)))
    assert sorted(int(r[1]) for r in replies) == [1, 2, 3, 4, 5]  # each ran exactly once


async def test_redis_down_raises_the_same_error_as_one_call() -> None:
    down: Redis = create_redis("redis://127.0.0.1:1/0")  # type: ignore[assignment]
    try:
        pipeline = _pipeline(down)
        script = down.register_script(ECHO)
        with pytest.raises(RedisConnectionError):
            await script(keys=[KEY], args=["x"])
        answers = await asyncio.gather(*(pipeline.call(script, [KEY], ["x"]) for _ in range(3)),
                                       return_exceptions=True)
        assert all(isinstance(answer, RedisConnectionError) for answer in answers)
    finally:
        await down.aclose()


async def test_a_cancelled_caller_leaves_the_others_their_replies(redis: RedisClient) -> None:
    pipeline = _pipeline(redis)
    script = redis.register_script(ECHO)
    await script(keys=[KEY], args=["warm"])
    first = asyncio.ensure_future(pipeline.call(script, [KEY], ["a"]))
    second = pipeline.call(script, [KEY], ["b"])
    first.cancel()
    reply = await second
    assert int(reply[1]) == 3  # the cancelled call still ran: a sent script is not taken back


async def test_a_cluster_client_is_not_pipelined(redis: RedisClient) -> None:
    """Each call of a cluster goes to its slot's node one by one, as before."""
    assert (script_pipeline(redis) is None) == (not isinstance(redis, Redis))
