"""When PostgreSQL or Redis does not answer: the driver errors that say so, translated once.

The stores and repositories (``booking_core``, ``admission``) are the only code that talks to the
drivers, so they are where a driver's "not answering" becomes
:class:`~admitone.errors.DependencyUnavailableError` naming that dependency. Everything above
them (the HTTP layer above all) catches admitone's own errors only.

Which dependency failed is known from where the error came from, never guessed from its type:
an ``OSError`` out of a PostgreSQL repository is PostgreSQL's, out of a Redis store Redis's.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Awaitable, Callable
from typing import Any, Literal, TypeVar

import asyncpg
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from admitone.errors import DependencyUnavailableError

Dependency = Literal["PostgreSQL", "Redis"]

# The server cannot be reached, refuses connections for now, or a call timed out. (Errors of a
# statement, such as a unique violation, are not outages and pass through unchanged.)
POSTGRES_DOWN: tuple[type[Exception], ...] = (
    asyncpg.PostgresConnectionError,
    asyncpg.exceptions.CannotConnectNowError,
    asyncpg.exceptions.TooManyConnectionsError,
    # ADMITONE_DATABASE_STATEMENT_TIMEOUT_MS / _LOCK_TIMEOUT_MS ran out: busy, retry shortly.
    asyncpg.exceptions.QueryCanceledError,
    asyncpg.exceptions.LockNotAvailableError,
    OSError,  # refused or reset sockets; TimeoutError is one too
)
REDIS_DOWN: tuple[type[Exception], ...] = (RedisConnectionError, RedisTimeoutError, OSError)
_DOWN: dict[Dependency, tuple[type[Exception], ...]] = {
    "PostgreSQL": POSTGRES_DOWN, "Redis": REDIS_DOWN,
}

T = TypeVar("T")
C = TypeVar("C", bound=type)


# What asyncpg raises when a connection died under a statement or a transaction (a server
# crash or restart mid-request): an InterfaceError, which otherwise means a bug, so only this one.
_CLOSED_UNDER_US = "the underlying connection is closed"


def postgres_closed_under_us(exc: BaseException) -> bool:
    """Whether ``exc`` is asyncpg saying the connection died while in use."""
    return isinstance(exc, asyncpg.InterfaceError) and str(exc).endswith(_CLOSED_UNDER_US)


def _translating(
    method: Callable[..., Awaitable[T]], dependency: Dependency
) -> Callable[..., Awaitable[T]]:
    down = _DOWN[dependency]

    @functools.wraps(method)
    async def call(*args: Any, **kwargs: Any) -> T:
        try:
            return await method(*args, **kwargs)
        except down as exc:
            raise DependencyUnavailableError(dependency) from exc
        except asyncpg.InterfaceError as exc:
            if dependency == "PostgreSQL" and postgres_closed_under_us(exc):
                raise DependencyUnavailableError(dependency) from exc
            raise

    return call


def translates(dependency: Dependency) -> Callable[[C], C]:
    """Class decorator of a store or repository: each public coroutine method raises
    ``DependencyUnavailableError(dependency)`` when that dependency's driver says it is down.

    A ``try`` costs nothing until something is raised; the wrapper is one extra await.
    """

    def decorate(cls: C) -> C:
        for name, member in list(vars(cls).items()):
            if not name.startswith("_") and inspect.iscoroutinefunction(member):
                setattr(cls, name, _translating(member, dependency))
        return cls

    return decorate
