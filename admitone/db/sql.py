"""SQL kept as files beside the code that runs it: ``<package>/sql/<name>.sql``.

One statement per file, ``$1``-style parameters, named after the repository method that runs
it; a comment at the top says what the parameters are. Each file is read once per process::

    sql = sql_folder("admitone.booking_core")
    await conn.fetchrow(sql("lock_payment"), booking_id)
"""

from __future__ import annotations

import functools
import importlib.resources
from collections.abc import Callable


@functools.cache
def load_sql(package: str, name: str) -> str:
    """The text of ``sql/<name>.sql`` in ``package`` (a dotted name), read on first use."""
    path = importlib.resources.files(package) / "sql" / f"{name}.sql"
    return path.read_text(encoding="utf-8")


def sql_folder(package: str) -> Callable[[str], str]:
    """``name -> text`` for the ``sql/`` folder of ``package``."""
    return functools.partial(load_sql, package)
