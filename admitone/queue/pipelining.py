"""Auto-pipelining of the waiting room's script calls, as Lettuce does for Redis commands.

A worker answering many fans at once makes many EVALSHA calls in the same event-loop turn
(each request's task reaches its script call in the same turn). Sent one by one through
redis-py, each pays the whole client path on its own: a connection from the pool (a condition
and a lock), a readiness check of the socket, the retry and timeout machinery, one write and
one read, and its own wake-up. Here the calls of one turn are gathered and sent on ONE pooled
connection as one write; their replies are read in order and each call gets its own (its own
error too). Each script still runs on its own in Redis, atomically, in the order the calls were
made; nothing changes for a caller but the cost.

Only a single server's client (and Sentinel's master, a ``Redis`` too) is pipelined. A cluster
client routes each call to its slot's node and is left as it was (``RedisCluster`` has no one
connection pool to borrow from); so is anything that is not a plain ``Redis``.

Failures keep the unpipelined path's behaviour exactly: a call whose script Redis does not hold
(NOSCRIPT, after a Redis restart or a SCRIPT FLUSH), and every call of a batch whose connection
failed or timed out, is made again the ordinary way (``AsyncScript``: it loads the script, and
redis-py's own retries and errors apply, so "Redis is down" still reaches the waiting room as
the same ConnectionError or TimeoutError).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Sequence
from typing import Any

from redis.asyncio import Redis
from redis.commands.core import AsyncScript
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import NoScriptError, ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from admitone.redis_client import RedisClient

# One write of at most this many calls; more in one turn make several batches.
MAX_BATCH = 256

_Call = tuple[AsyncScript, Sequence[Any], Sequence[Any], "asyncio.Future[Any]"]


class ScriptPipeline:
    """Script calls of one event-loop turn, sent as one pipeline on one pooled connection."""

    def __init__(self, redis: Redis) -> None:
        self.redis = redis
        self._pending: list[_Call] = []
        self._tasks: set[asyncio.Task[None]] = set()  # batches in flight (kept referenced)
        self.batches = 0  # for tests and the benchmark: how many writes, for how many calls
        self.calls = 0

    def call(self, script: AsyncScript, keys: Sequence[Any], args: Sequence[Any]
             ) -> Awaitable[Any]:
        """Queue one EVALSHA of ``script``; its reply (or error) when the batch is read."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        if not self._pending:  # the first call of this turn: send the batch in the next one
            loop.call_soon(self._flush)
        self._pending.append((script, keys, args, future))
        return future

    def _flush(self) -> None:
        batch, self._pending = self._pending, []
        for start in range(0, len(batch), MAX_BATCH):
            task = asyncio.get_running_loop().create_task(
                self._send(batch[start:start + MAX_BATCH])
            )
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _send(self, batch: list[_Call]) -> None:
        self.batches += 1
        self.calls += len(batch)
        again: list[_Call] = []  # made the ordinary way: NOSCRIPT, or the connection failed
        try:
            await self._pipelined(batch, again)
        finally:
            for item in again:
                self._settle_later(item)

    async def _pipelined(self, batch: list[_Call], again: list[_Call]) -> None:
        pool = self.redis.connection_pool
        try:
            connection = await pool.get_connection()  # type: ignore[no-untyped-call]
        except (RedisConnectionError, RedisTimeoutError, OSError):
            again.extend(batch)
            return
        read = 0
        try:
            commands = [("EVALSHA", script.sha, len(keys), *keys, *args)
                        for script, keys, args, _ in batch]
            await connection.send_packed_command(connection.pack_commands(commands))
            for item in batch:
                try:
                    reply: Any = await connection.read_response()
                except NoScriptError:
                    again.append(item)
                    read += 1
                    continue
                except ResponseError as exc:
                    reply = exc
                read += 1
                future = item[3]
                if future.done():  # its caller was cancelled meanwhile
                    continue
                if isinstance(reply, ResponseError):
                    future.set_exception(reply)
                else:
                    future.set_result(reply)
        except (RedisConnectionError, RedisTimeoutError, OSError):
            await connection.disconnect()
            again.extend(batch[read:])
        except BaseException:
            await connection.disconnect()
            for item in batch[read:]:
                if not item[3].done():
                    item[3].cancel()
            raise
        finally:
            await pool.release(connection)

    def _settle_later(self, item: _Call) -> None:
        """Make one call the ordinary way (its own connection, redis-py's retries) and hand its
        outcome to the waiting caller."""
        script, keys, args, future = item
        if future.done():
            return
        task = asyncio.ensure_future(script(keys=list(keys), args=list(args)))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

        def settle(done: asyncio.Future[Any]) -> None:
            if future.done():
                if not done.cancelled():
                    done.exception()  # retrieved: nobody waits for it any more
                return
            if done.cancelled():
                future.cancel()
            elif done.exception() is not None:
                future.set_exception(done.exception())  # type: ignore[arg-type]
            else:
                future.set_result(done.result())

        task.add_done_callback(settle)


def script_pipeline(redis: RedisClient) -> ScriptPipeline | None:
    """A pipeline for ``redis``, or ``None`` where calls go one by one (a cluster client)."""
    return ScriptPipeline(redis) if isinstance(redis, Redis) else None
