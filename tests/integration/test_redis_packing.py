"""Commands packed in C (redis_client.packed_in_c): the same bytes as redis-py's own packing, the
same refusals, and every kind of argument admitone sends survives the trip to a real Redis."""

from __future__ import annotations

from typing import Any

import pytest
from redis.asyncio.connection import Connection, SSLConnection, UnixDomainSocketConnection
from redis.exceptions import DataError

from admitone.redis_client import create_redis

ARGUMENTS: list[tuple[Any, ...]] = [
    ("EVALSHA", "a" * 40, 7, *[f"{{show:3f2a}}:k{i}" for i in range(7)], "1796652997000",
     "IKwlIBppme8w", 0, "-5z0Jec0"),
    ("SET", "k", 0.1), ("SET", "k", 1 / 3), ("SET", "k", 1e-7), ("SET", "k", -2.5e300),
    ("SET", "k", 10**30), ("SET", "k", -1), ("SET", "é☃", "ü" * 100),
    ("SET", b"\x00\xff", b"\r\n$3\r\n"), ("SET", "k", bytearray(b"ab")),
    ("SET", "k", memoryview(b"cd")), ("SET", "k", ""), ("CONFIG GET", "maxmemory"),
    (b"CLIENT SETNAME", b"x"), ("SET", "k", "v" * 70_000),
]


def _python_packing(*args: Any) -> bytes:
    return b"".join(bytes(part) for part in Connection().pack_command(*args))


@pytest.mark.parametrize(("url", "kind"), [
    ("redis://127.0.0.1:6379/15", Connection),
    ("rediss://127.0.0.1:6379/15", SSLConnection),
    ("unix:///tmp/no-such.sock", UnixDomainSocketConnection),
])
async def test_every_single_server_url_keeps_its_connection_kind(url: str, kind: type) -> None:
    """TLS stays TLS and a socket path stays a socket path; only the packing changes."""
    client = create_redis(url)
    try:
        made = client.connection_pool.connection_class
        assert issubclass(made, kind)
        assert made.pack_command is not kind.pack_command
    finally:
        await client.aclose()


async def test_the_bytes_are_those_redis_py_packs() -> None:
    client = create_redis("redis://127.0.0.1:6379/15")
    try:
        connection = client.connection_pool.make_connection()
        for args in ARGUMENTS:
            packed = b"".join(connection.pack_command(*args))
            assert packed == _python_packing(*args), args
        many = [("SET", "a", 1), ("GET", "a"), ("INCRBYFLOAT", "a", 0.5)]
        assert b"".join(connection.pack_commands(many)) == b"".join(
            _python_packing(*args) for args in many)
        for bad in (True, None, {"a": 1}, [1]):
            with pytest.raises(DataError):
                connection.pack_command("SET", "k", bad)
            with pytest.raises(DataError):
                _python_packing("SET", "k", bad)
    finally:
        await client.aclose()


async def test_every_kind_of_argument_reaches_redis_intact(redis_url: str) -> None:
    client = create_redis(redis_url)
    values: list[Any] = [0.1, 1 / 3, 10**30, -1, "é☃" * 50, b"\x00\xff\r\n", "v" * 70_000]
    try:
        for number, value in enumerate(values):
            key = f"{{packing}}:{number}"
            await client.set(key, value, ex=30)
            expected = value if isinstance(value, bytes) else (
                repr(value) if isinstance(value, float) else str(value)).encode()
            assert await client.get(key) == expected
        echoed = await client.eval("return {KEYS[1], ARGV[1], ARGV[2]}", 1, "{packing}:k",
                                   0.25, "ü")
        assert echoed == [b"{packing}:k", b"0.25", "ü".encode()]
        async with client.pipeline(transaction=False) as pipe:
            pipe.incrbyfloat("{packing}:f", 0.5).incrbyfloat("{packing}:f", 0.25)
            pipe.expire("{packing}:f", 30)
            assert await pipe.execute() == [0.5, 0.75, True]
    finally:
        await client.delete(*[f"{{packing}}:{n}" for n in range(len(values))], "{packing}:f")
        await client.aclose()
