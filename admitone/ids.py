"""Ids in paths and bodies are UUIDs: one rule for reading them.

Anything that is not a UUID is simply an unknown id, so a caller gets the same 404 for a
malformed id as for one that does not exist, never a 400 or a 500.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable


def uuid_or_none(value: object) -> uuid.UUID | None:
    """``value`` as a UUID (any spelling ``uuid.UUID`` reads), or None."""
    try:
        return uuid.UUID(value if isinstance(value, str) else str(value))
    except (ValueError, AttributeError, TypeError):
        return None


def canonical_id(value: str | None) -> str | None:
    """The canonical spelling of a UUID (lower case, hyphens), or None for anything else."""
    found = uuid_or_none(value) if value else None
    return str(found) if found is not None else None


def uuid_or_404(value: str, not_found: Callable[[], Exception]) -> uuid.UUID:
    """``value`` as a UUID; raises ``not_found()`` (an admitone NotFoundError) otherwise."""
    found = uuid_or_none(value)
    if found is None:
        raise not_found()
    return found
