"""One Redis client for the three ways admitone reaches Redis: a single server, a Redis Cluster,
or a master found through Sentinel, all named by ``ADMITONE_REDIS_URL``.

``redis://host:port/db`` (``rediss://`` for TLS, ``unix:///path``) is a single server.
``redis+cluster://[user:password@]host:port,host:port[?…]`` (``rediss+cluster://`` for TLS)
names some nodes of a Redis Cluster; the client learns the rest from them. A cluster has only
database 0, so the URL names none. Every key of one show carries the hash tag ``{show:<id>}``
(``queue/keys.py``, ``booking_core/keys.py``), so each room's Lua scripts run on one slot.
``redis+sentinel://[user:password@]host:port,host:port/<master name>[/db][?…]`` names the
Sentinels and the master they watch; the password is the master's, ``?sentinel_password=…``
the Sentinels' own. The client asks the Sentinels for the master on every new connection, so it
follows a failover.
"""

from __future__ import annotations

import asyncio
from typing import Any, NamedTuple, TypeAlias
from urllib.parse import parse_qs, unquote

from redis.asyncio import BlockingConnectionPool, ConnectionPool, Redis, RedisCluster
from redis.asyncio.cluster import ClusterNode
from redis.asyncio.connection import AbstractConnection
from redis.asyncio.sentinel import Sentinel
from redis.connection import HiredisRespSerializer
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisClusterException
from redis.utils import HIREDIS_AVAILABLE

RedisClient: TypeAlias = Redis | RedisCluster
"""What admitone's Redis code takes: a single server's client (also Sentinel's) or a cluster's."""

SCHEMES = ("redis", "rediss", "unix", "redis+cluster", "rediss+cluster", "redis+sentinel",
           "rediss+sentinel")
DEFAULT_PORT = {"cluster": 6379, "sentinel": 26379}
MAX_CONNECTIONS = 256
TIMEOUT_SECONDS = 2.0
# How long a cluster command waits for a free slot: longer than a single server's pool wait,
# because redis-py's cluster client spends about twice the CPU per command (slot lookup, node
# pools), so the same burst of fans drains more slowly (tests/integration/test_queue_admission).
CLUSTER_WAIT_SECONDS = 8.0
# How long a single server's command waits for a pooled connection. A worker accepts up to
# ADMITONE_LIMIT_CONCURRENCY requests at once, so an on-sale's first second can ask for many
# more than the pool's connections; each waits its turn (a join that waits is a fair join, a
# 503 sends the fan back to retry), while a Redis that is down still fails at connect and a
# hung one at the 2 s read limit.
POOL_WAIT_SECONDS = 5.0


class RedisUrl(NamedTuple):
    """A cluster or Sentinel URL taken apart (a single server's URL redis-py parses itself)."""

    kind: str  # "cluster" or "sentinel"
    tls: bool
    hosts: list[tuple[str, int]]
    username: str | None
    password: str | None
    master: str  # Sentinel's master name ("" for a cluster)
    db: int
    options: dict[str, str]


def parse_redis_url(url: str) -> RedisUrl | None:
    """A ``redis+cluster://`` or ``redis+sentinel://`` URL taken apart; None for other URLs.

    Raises ValueError for a malformed one (the message names what is wrong)."""
    scheme, sep, rest = url.partition("://")
    base, plus, kind = scheme.partition("+")
    if not sep or not plus:
        return None
    if base not in {"redis", "rediss"} or kind not in DEFAULT_PORT:
        raise ValueError(f"unknown Redis URL scheme {scheme}://")
    rest, _, query = rest.partition("?")
    netloc, _, path = rest.partition("/")
    username = password = None
    if "@" in netloc:
        userinfo, _, netloc = netloc.rpartition("@")
        user, _, secret = userinfo.partition(":")
        username, password = unquote(user) or None, unquote(secret) or None
    hosts = []
    for item in netloc.split(","):
        host, colon, port = item.strip().rpartition(":") if ":" in item else (item, "", "")
        host = host.strip("[]")
        if not host:
            raise ValueError(f"{scheme}:// needs host:port[,host:port…]")
        hosts.append((host, int(port) if colon else DEFAULT_PORT[kind]))
    parts = [unquote(part) for part in path.split("/") if part]
    master, db = "", 0
    if kind == "sentinel":
        if not parts or len(parts) > 2:  # noqa: PLR2004 - master name, then an optional db
            raise ValueError(f"{scheme}:// needs the master's name as its path: …/mymaster[/db]")
        master = parts[0]
        db = int(parts[1]) if len(parts) > 1 else 0
    elif parts:
        raise ValueError("a Redis Cluster has only database 0: name no path in the URL")
    options = {key: values[-1] for key, values in parse_qs(query).items()}
    return RedisUrl(kind, base == "rediss", hosts, username, password, master, db, options)


class WaitingRedisCluster(RedisCluster):
    """A cluster client whose commands wait (up to ``CLUSTER_WAIT_SECONDS``) for one of
    ``max_connections`` slots instead of failing at once: redis-py's cluster pools answer
    MaxConnectionsError the moment a node's connections are all busy, and a crowd joining one
    show lands on one node. Same behaviour as the single server's BlockingConnectionPool.

    A cluster none of whose nodes answers makes redis-py raise RedisClusterException (as it does
    for a programming error such as keys on two slots); when the client is left without a slot
    map, that is an unreachable Redis, raised as the ConnectionError the rest of admitone treats
    as "Redis is down" (fail closed or open, 503 with Retry-After)."""

    def __init__(self, *, max_connections: int, **kwargs: Any) -> None:
        super().__init__(max_connections=max_connections, **kwargs)
        self._in_flight = asyncio.Semaphore(max_connections)

    async def execute_command(self, *args: Any, **kwargs: Any) -> Any:
        try:
            async with asyncio.timeout(CLUSTER_WAIT_SECONDS):
                await self._in_flight.acquire()
        except TimeoutError:
            raise RedisConnectionError("no Redis connection came free in time") from None
        try:
            return await super().execute_command(*args, **kwargs)
        except RedisClusterException as exc:
            if self._initialize:  # redis-py's own flag: no slot map, no node reached
                raise RedisConnectionError(f"Redis Cluster unreachable: {exc}") from exc
            raise
        finally:
            self._in_flight.release()


def create_redis(url: str, *, max_connections: int = MAX_CONNECTIONS) -> RedisClient:
    """The client for ``url`` (any form above), with admitone's timeouts."""
    parsed = parse_redis_url(url)
    common: dict[str, Any] = {
        "socket_timeout": TIMEOUT_SECONDS,
        "socket_connect_timeout": TIMEOUT_SECONDS,
        "health_check_interval": 15,
    }
    if parsed is None:
        # A blocking pool: past ``max_connections`` in use a command waits (up to
        # POOL_WAIT_SECONDS) for one to come free instead of failing at once, so a burst of fans
        # is queued, not answered 503.
        pool = BlockingConnectionPool.from_url(
            url, max_connections=max_connections, timeout=POOL_WAIT_SECONDS,
            retry_on_timeout=False, **common,
        )
        packed_in_c(pool)
        return Redis.from_pool(pool)
    auth: dict[str, Any] = {"username": parsed.username, "password": parsed.password}
    if parsed.kind == "cluster":
        return WaitingRedisCluster(
            startup_nodes=[ClusterNode(host, port) for host, port in parsed.hosts],
            ssl=parsed.tls, max_connections=max_connections, **auth, **common,
        )
    sentinel = Sentinel(  # type: ignore[no-untyped-call]  # redis-py leaves __init__ unannotated
        parsed.hosts,
        sentinel_kwargs={
            "password": parsed.options.get("sentinel_password"),
            "username": parsed.options.get("sentinel_username"),
            "socket_timeout": TIMEOUT_SECONDS, "socket_connect_timeout": TIMEOUT_SECONDS,
            "ssl": parsed.tls,
        },
    )
    client: SentinelMaster = sentinel.master_for(
        parsed.master, db=parsed.db, ssl=parsed.tls, max_connections=max_connections,
        redis_class=SentinelMaster, **auth, **common,
    )
    client.sentinels = list(sentinel.sentinels)
    packed_in_c(client.connection_pool)
    return client


class _HiredisPacking:
    """Commands packed by hiredis in C, as redis-py's synchronous client packs them when hiredis
    is installed; its asyncio connections pack in Python (about 8 µs for one room script call
    of 13 arguments, 1-2 µs in C; the same bytes, the same DataError for what cannot be sent)."""

    _serializer = HiredisRespSerializer()

    def pack_command(self, *args: Any) -> list[bytes]:
        packed: list[bytes] = self._serializer.pack(*args)
        return packed


_PACKED: dict[type[AbstractConnection], type[AbstractConnection]] = {}


def _with_c_packing(connection_class: type[AbstractConnection]) -> type[AbstractConnection]:
    if issubclass(connection_class, _HiredisPacking):
        return connection_class
    packed = _PACKED.get(connection_class)
    if packed is None:
        packed = _PACKED[connection_class] = type(
            connection_class.__name__, (_HiredisPacking, connection_class), {})
    return packed


def packed_in_c(pool: ConnectionPool) -> None:
    """Make the connections ``pool`` opens from now on pack commands in C (when hiredis is
    there). The cluster client keeps redis-py's own: its nodes build their connections from a
    class they are given at discovery."""
    if HIREDIS_AVAILABLE:
        pool.connection_class = _with_c_packing(pool.connection_class)


class SentinelMaster(Redis):
    """The master a Sentinel names; closing it also closes the connections to the Sentinels
    that were asked for it (left open, they would outlive the client)."""

    sentinels: list[Redis]

    async def aclose(self, close_connection_pool: bool | None = None) -> None:
        await super().aclose(close_connection_pool)
        for sentinel in getattr(self, "sentinels", []):
            await sentinel.aclose()
