"""Migrations: numbered ``.sql`` files applied in order, each in a transaction, and recorded.

Each package keeps the migrations of its own tables in its ``migrations/`` folder
(``admitone/booking_core/migrations/0001_schema.sql``, ``admitone/admission/migrations/…``).
The numbers are one sequence across all packages, so a later migration may rely on the tables
of an earlier one whichever package holds it, and a number is used once. A migration is
recorded in ``schema_migrations`` by its file name without ``.sql`` (``0001_schema``), so a
file may move between packages without being applied again.
"""

from __future__ import annotations

import importlib.resources
import re
from collections.abc import Iterable
from importlib.resources.abc import Traversable

import asyncpg
import structlog

from admitone.db.sql import sql_folder

log = structlog.get_logger(__name__)
sql = sql_folder("admitone.db")

# The packages that own tables, in no particular order: the file numbers decide the order.
MIGRATION_PACKAGES = ("admitone.booking_core", "admitone.admission")
_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")
# Any number unique to admitone ("admitone" in ASCII): only one process migrates at a time.
_MIGRATION_LOCK = 0x61646D69746F6E65


class MigrationNumberError(ValueError):
    """Two migration files share a number: their order would be a guess."""


def collect_migrations(folders: Iterable[Traversable]) -> list[tuple[str, str]]:
    """``(version, sql)`` of the migration files in ``folders``, in number order."""
    found: dict[str, tuple[str, str]] = {}
    for folder in folders:
        for entry in folder.iterdir():
            match = _NAME.match(entry.name)
            if match is None:
                continue
            number, version = match.group(1), entry.name.removesuffix(".sql")
            if number in found:
                raise MigrationNumberError(
                    f"migrations {found[number][0]} and {version} share the number {number}"
                )
            found[number] = (version, entry.read_text(encoding="utf-8"))
    return [found[number] for number in sorted(found)]


def available_migrations() -> list[tuple[str, str]]:
    """``(version, sql)`` of every migration shipped in admitone, oldest first."""
    return collect_migrations(
        importlib.resources.files(package) / "migrations" for package in MIGRATION_PACKAGES
    )


async def migrate(conn: asyncpg.Connection) -> list[str]:
    """Apply the migrations this database has not seen; return the versions applied."""
    await conn.execute(sql("create_migrations_table"))
    applied: list[str] = []
    await conn.execute("SELECT pg_advisory_lock($1)", _MIGRATION_LOCK)
    try:
        done = {row["version"] for row in await conn.fetch("SELECT version FROM schema_migrations")}
        for version, text in available_migrations():
            if version in done:
                continue
            async with conn.transaction():
                await conn.execute(text)
                await conn.execute("INSERT INTO schema_migrations (version) VALUES ($1)", version)
            log.info("migration_applied", version=version)
            applied.append(version)
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", _MIGRATION_LOCK)
    return applied
