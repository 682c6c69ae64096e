"""Records of the waiting room: its settings, a visitor's place, a tick's outcome, the room's
progress. Plain data; ``store.py`` builds them from script replies."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Literal

import msgspec

QueueMode = Literal["FIFO", "RANDOM_PREQUEUE"]
# CLOSED: room switched off. NOTOPEN: before opensAt. PREQUEUE: before startsAt. PAUSED. OPEN.
# SOLDOUT: no seat is free nor held (the scheduler keeps the room's seat counts).
RoomPhase = Literal["CLOSED", "NOTOPEN", "PREQUEUE", "SOLDOUT", "PAUSED", "OPEN"]
PlaceStatus = Literal[
    "WAITING", "PREQUEUE", "SOLDOUT", "ADMITTED", "GONE", "CLOSED", "NOTOPEN", "POW_REQUIRED",
    "POW_REUSED", "IDENTITY_REQUIRED",
]


class WaitingRoom(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    """One show's waiting-room settings: kept in PostgreSQL, mirrored into Redis."""

    show_id: str
    enabled: bool
    release_rate_per_minute: int
    max_active: int
    session_seconds: int
    queue_mode: QueueMode
    opens_at: datetime | None
    starts_at: datetime | None
    paused: bool
    fail_open: bool
    abandon_grace_seconds: int
    pow_difficulty_bits: int
    updated_at: datetime
    identity_required: bool = False

    def mirror(self) -> dict[str, str]:
        """The fields of the Redis config hash (times in unix ms, 0 for none)."""
        return {
            "enabled": "1" if self.enabled else "0",
            "rate": str(self.release_rate_per_minute),
            "max": str(self.max_active),
            "session": str(self.session_seconds),
            "mode": self.queue_mode,
            "opens": str(_ms(self.opens_at)),
            "starts": str(_ms(self.starts_at)),
            "paused": "1" if self.paused else "0",
            "failopen": "1" if self.fail_open else "0",
            "grace": str(self.abandon_grace_seconds),
            "pow": str(self.pow_difficulty_bits),
            "idreq": "1" if self.identity_required else "0",
            "ver": self.version,
        }

    @property
    def version(self) -> str:
        """Changes with every settings change (the scheduler re-mirrors on a mismatch)."""
        return str((self.updated_at - _EPOCH) // timedelta(microseconds=1))

    def phase_at(self, now: datetime) -> RoomPhase:
        """The same rule as ``phase()`` in ``scripts/lib.lua``, for answers without Redis."""
        if not self.enabled:
            return "CLOSED"
        if self.opens_at is not None and now < self.opens_at:
            return "NOTOPEN"
        if self.starts_at is not None and now < self.starts_at:
            return "PREQUEUE"
        return "PAUSED" if self.paused else "OPEN"


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _ms(moment: datetime | None) -> int:
    return 0 if moment is None else int(moment.timestamp() * 1000)


class Place(msgspec.Struct, frozen=True, kw_only=True):
    """Where a visitor stands, as join.lua and status.lua answer."""

    status: PlaceStatus
    visitor_id: str
    ticket: int  # 0 while a random pre-queue has not been numbered yet
    position: int  # 1 = next; 0 when not waiting
    total: int
    observed_per_minute: float
    at_ms: int  # end of the session when ADMITTED; opensAt when NOTOPEN
    epoch: str
    phase: str
    release_rate_per_minute: int
    seats_left: int = -1  # free or held seats of the show; -1 while the room does not know
    seats_per_order: float = 0.0
    buying_share: float = 1.0  # of admitted fans, the share who bought so far
    active: int = 0  # admitted fans whose session runs
    # the wait the script predicted for a waiting fan (admission/eta.py), ms; None for none
    # (paused, sold out, not numbered yet, no rate)
    predicted_wait_ms: float | None = None


class TickResult(msgspec.Struct, frozen=True, kw_only=True):
    """What one admission tick did in one room."""

    admitted: list[str]
    abandoned: int
    active: int
    waiting: int
    phase: str
    config_version: str
    tickets_issued: int  # the room's ticket counter


class Progress(msgspec.Struct, frozen=True, kw_only=True):
    """The whole room at one moment (progress.lua)."""

    phase: RoomPhase
    admitted_through: int
    waiting: int
    active: int
    admitted_total: int
    abandoned_total: int
    observed_per_minute: float
    now_ms: int
    merged_total: int = 0


class DrawnPrequeue(msgspec.Struct, frozen=True, kw_only=True):
    """The pre-queue draw as Redis recorded it at startsAt: public entry ids in drawn order,
    the first of them holding ticket ``first_ticket``."""

    drawn_at_ms: int
    first_ticket: int
    entries: list[str]


class RoomFigures(msgspec.Struct, frozen=True, kw_only=True):
    """A room's progress with the rate and capacity it runs at (``/metrics`` at scrape time)."""

    progress: Progress
    release_rate_per_minute: int
    max_active: int
    eta_errors: dict[str, str] = {}  # admit.lua's ETA error histogram (admission/eta.py)
