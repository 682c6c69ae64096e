"""A small in-process cache whose entries live a fixed time: what a crowd reads at once.

Not shared between processes and never the truth: an entry is at most ``seconds`` old, and the
cache forgets everything when it holds ``max_entries`` (a bound, not an eviction policy).
"""

from __future__ import annotations

import time
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class TtlCache(Generic[K, V]):
    def __init__(self, seconds: float, max_entries: int = 2048) -> None:
        self.seconds = seconds
        self.max_entries = max_entries
        self._entries: dict[K, tuple[float, V]] = {}

    def get(self, key: K, *, younger_than: float | None = None) -> V | None:
        """The entry if it is fresher than ``seconds`` (or ``younger_than``), else None."""
        found = self._entries.get(key)
        limit = self.seconds if younger_than is None else min(self.seconds, younger_than)
        if found is None or time.monotonic() - found[0] >= limit:
            return None
        return found[1]

    def put(self, key: K, value: V) -> V:
        if len(self._entries) >= self.max_entries:
            self._entries.clear()
        self._entries[key] = (time.monotonic(), value)
        return value

    def clear(self) -> None:
        self._entries.clear()
