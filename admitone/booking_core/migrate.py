"""Migrations: numbered ``.sql`` files applied in order, each in a transaction, and recorded."""

from __future__ import annotations

import importlib.resources
import re

import asyncpg
import structlog

log = structlog.get_logger(__name__)

_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")
# Any number unique to admitone: only one process migrates at a time.
_MIGRATION_LOCK = 0x61646D69746F6E65


def available_migrations() -> list[tuple[str, str]]:
    """``(version, sql)`` of every migration shipped in the package, oldest first."""
    folder = importlib.resources.files("admitone.booking_core") / "migrations"
    found = []
    for entry in folder.iterdir():
        match = _NAME.match(entry.name)
        if match:
            found.append((entry.name.removesuffix(".sql"), entry.read_text(encoding="utf-8")))
    return sorted(found)


async def migrate(conn: asyncpg.Connection) -> list[str]:
    """Apply the migrations this database has not seen; return the versions applied."""
    await conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
    )
    applied: list[str] = []
    await conn.execute("SELECT pg_advisory_lock($1)", _MIGRATION_LOCK)
    try:
        done = {row["version"] for row in await conn.fetch("SELECT version FROM schema_migrations")}
        for version, sql in available_migrations():
            if version in done:
                continue
            async with conn.transaction():
                await conn.execute(sql)
                await conn.execute("INSERT INTO schema_migrations (version) VALUES ($1)", version)
            log.info("migration_applied", version=version)
            applied.append(version)
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", _MIGRATION_LOCK)
    return applied
