"""SQL statements kept as files in ``booking_core/sql/``, one statement per file."""

from __future__ import annotations

import functools
import importlib.resources


@functools.cache
def sql(name: str) -> str:
    """The text of ``sql/<name>.sql``."""
    path = importlib.resources.files("admitone.booking_core") / "sql" / f"{name}.sql"
    return path.read_text(encoding="utf-8")
