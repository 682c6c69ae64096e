"""What the waiting room tells the operator console as it works: a narrow, I/O-free interface.

The console's store lives in the booking core (``booking_core/live_stats.py``), which this
package may not import; ``runtime.open_services`` hands it in. Every call only buffers.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol


class RoomEventRecorder(Protocol):
    def count(self, show_id: str, name: str, amount: int = 1) -> None: ...

    def gauge(self, show_id: str, name: str, value: int) -> None: ...

    def observe(self, show_id: str, name: str, seconds: float) -> None: ...

    def visit(self, show_id: str, step: str, visitor_ids: Iterable[str]) -> None: ...


class NoRecorder:
    """Records nothing (a waiting room built without a console, as in some tests)."""

    def count(self, show_id: str, name: str, amount: int = 1) -> None:
        """Nothing to record."""

    def gauge(self, show_id: str, name: str, value: int) -> None:
        """Nothing to record."""

    def observe(self, show_id: str, name: str, seconds: float) -> None:
        """Nothing to record."""

    def visit(self, show_id: str, step: str, visitor_ids: Iterable[str]) -> None:
        """Nothing to record."""
