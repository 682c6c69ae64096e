"""The store edge translates "PostgreSQL went away mid-request" into DependencyUnavailableError
naming PostgreSQL — also when asyncpg says it as an InterfaceError (a connection closed under
an open transaction: found by tests/chaos/test_postgres_restart.py, where it was logged as an
unhandled bug)."""

from __future__ import annotations

import asyncpg
import pytest

from admitone.errors import DependencyUnavailableError
from admitone.outages import translates
from admitone.runtime import Services


@translates("PostgreSQL")
class _Repository:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def write_while_the_connection_dies(self) -> None:
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.execute("SELECT 1")
            conn.terminate()  # what a server crash does to it, seen from here

    async def misuse(self) -> None:
        async with self.pool.acquire() as conn:
            transaction = conn.transaction()
            await transaction.start()
            await transaction.start()  # a bug: InterfaceError, not an outage


async def test_a_connection_closed_mid_transaction_is_postgresql_unavailable(
    services: Services,
) -> None:
    with pytest.raises(DependencyUnavailableError) as raised:
        await _Repository(services.pool).write_while_the_connection_dies()
    assert raised.value.dependency == "PostgreSQL"
    assert isinstance(raised.value.__cause__, asyncpg.InterfaceError)


async def test_other_interface_errors_stay_bugs(services: Services) -> None:
    with pytest.raises(asyncpg.InterfaceError):
        await _Repository(services.pool).misuse()
