"""Seat maps and seat locks, the booking core's hot path: each lock, extend and release is one
call of a seat function (migrations 0002 and 0027), and the seat map is served from a
short-lived cache."""

from __future__ import annotations

import time
import uuid
from collections import defaultdict
from decimal import Decimal

import msgspec
import structlog

from admitone import observability
from admitone.booking_core.catalog import parse_uuid
from admitone.booking_core.live_stats import LiveStats
from admitone.booking_core.models import (
    ExtendOut,
    Layout,
    LockedSeat,
    LockIn,
    LockOut,
    ReleaseOut,
    SeatMap,
    SeatView,
)
from admitone.booking_core.seat_events import SeatEvents
from admitone.booking_core.seat_offers import SeatOffers
from admitone.booking_core.seat_repository import SeatLockRepository
from admitone.errors import (
    ConflictError,
    InvalidRequestError,
    LockExpiredError,
    LockInCheckoutError,
    LockNotFoundError,
    NetworkSeatLimitError,
    SeatLimitError,
    SeatUnavailableError,
    ShowClosedError,
    ShowNotFoundError,
    UnknownSeatsError,
)
from admitone.ids import uuid_or_404

log = structlog.get_logger(__name__)
_encode = msgspec.json.Encoder(decimal_format="string").encode



class SeatService:
    """Seat map, lock, extend, release and the expiry sweep."""

    def __init__(
        self,
        repository: SeatLockRepository,
        events: SeatEvents,
        *,
        lock_seconds: int,
        max_seats_per_lock: int,
        max_hold_seconds: int | None = None,
        max_seats_per_network: int = 0,
        stats: LiveStats | None = None,
    ) -> None:
        self.repository = repository
        self.stats = stats
        self.events = events
        self.lock_seconds = lock_seconds
        self.max_seats_per_lock = max_seats_per_lock
        # A lock lives at most this long from its creation, however often it is extended.
        self.max_hold_seconds = max(lock_seconds, max_hold_seconds or lock_seconds)
        self.max_seats_per_network = max_seats_per_network
        self.offers = SeatOffers(repository.seat_layout, repository.free_seat_ids)

    async def seat_map_json(self, show_id: str, viewer: str | None = None) -> bytes:
        """The show's seat map as JSON bytes, from the short-lived cache when it is warm;
        ``viewer`` (the admitted visitor asking) is counted in the show's funnel."""
        show = parse_uuid(show_id, "show")
        body = await self.events.cached(str(show), lambda: self._load_seat_map(show))
        if viewer is not None and self.stats is not None:
            self.stats.visit(str(show), "seat_map_viewed", [viewer])
        return body

    async def seat_map(self, show_id: str) -> SeatMap:
        return msgspec.json.decode(await self.seat_map_json(show_id), type=SeatMap)

    async def _load_seat_map(self, show: uuid.UUID) -> bytes:
        show_row = await self.repository.show_row(show)
        if show_row is None:
            raise ShowNotFoundError(f"No show has the id {show}")
        rows = await self.repository.seat_rows(show)
        seats = [
            SeatView(
                id=row["seat_id"],
                row=row["row_name"],
                number=row["seat_number"],
                seat_type=row["seat_type"],
                status=row["status"],
                price=row["price"],
            )
            for row in rows
        ]
        cols = max((seat.number for seat in seats), default=0)
        rows_count = len({seat.row for seat in seats})
        return _encode(
            SeatMap(
                show_id=str(show),
                currency=show_row["currency"].strip(),
                layout=Layout(rows=rows_count, cols=cols),
                seats=seats,
            )
        )

    async def lock_seats(self, visitor_id: str, request: LockIn, network: str = "", *,
                         device: str = "") -> LockOut:
        """Lock every seat or none: a seat that is taken, unknown, over the visitor's limit,
        over the same limit for the browser's ``device`` cookie (``gateway/device.py``) or
        over the cap of the client's ``network`` (``policy.lock_network``) fails the whole
        request and holds nothing (``tests/integration/test_locks.py``)."""
        show = parse_uuid(request.show_id, "show")
        seat_ids = list(request.seat_ids)
        if len(set(seat_ids)) != len(seat_ids):
            raise InvalidRequestError("seatIds names a seat more than once")
        if len(seat_ids) > self.max_seats_per_lock:
            raise InvalidRequestError(
                f"A lock holds at most {self.max_seats_per_lock} seats",
                maxSeats=self.max_seats_per_lock,
            )
        lock_id = uuid.uuid4()
        started = time.perf_counter()
        result = await self.repository.lock(
            show, seat_ids, visitor_id, lock_id, self.lock_seconds,
            network=network, network_max=self.max_seats_per_network, device=device,
        )
        locked = result.outcome == "LOCKED"
        observability.count_lock(
            str(show), result.outcome.lower(), len(seat_ids) if locked else 0
        )
        self._record_lock(str(show), visitor_id, result.outcome, time.perf_counter() - started)
        if locked:
            assert result.expires_at is not None  # noqa: S101 - set for LOCKED
            self.offers.taken(show, seat_ids)
            await self.events.changed(str(show), "SEAT_LOCKED", seat_ids)
            seats = sorted(result.seats)
            currency = (result.currency or "").strip()
            return LockOut(
                lock_id=str(lock_id),
                expires_at=result.expires_at,
                seats=[LockedSeat(id=seat, price=price) for seat, price in seats],
                total_amount=sum((price for _, price in seats), Decimal("0.00")),
                currency=currency,
            )
        if result.outcome == "UNAVAILABLE":
            unavailable = [seat for seat, _ in result.seats]
            alternatives = await self.offers.suggest(show, seat_ids, unavailable)
            # Debug, not info: in an on-sale most attempts lose a race, and a line for each
            # drowned the log (admitone_seat_lock_attempts_total counts them).
            log.debug("seats_unavailable", show_id=str(show), seats=unavailable)
            raise SeatUnavailableError(unavailable, alternatives)
        if result.outcome == "UNKNOWN":
            raise UnknownSeatsError([seat for seat, _ in result.seats])
        if result.outcome == "LIMIT":
            raise SeatLimitError(result.max_held, result.held, len(seat_ids))
        if result.outcome == "DEVICE_LIMIT":
            log.info("device_seat_limit", show_id=str(show), held=result.held)
            raise SeatLimitError(result.max_held, result.held, len(seat_ids), by="device")
        if result.outcome == "NETWORK_LIMIT":
            log.info("network_lock_cap", show_id=str(show), network=network, held=result.held)
            raise NetworkSeatLimitError(result.max_held, result.held, len(seat_ids))
        if result.outcome == "SHOW_CLOSED":
            raise ShowClosedError("This show is no longer on sale")
        raise ShowNotFoundError(f"No show has the id {request.show_id}")

    def _record_lock(self, show: str, visitor_id: str, outcome: str, seconds: float) -> None:
        """For the operator console: locks by outcome, their time, the fan in the funnel."""
        if self.stats is None:
            return
        self.stats.observe(show, "lock", seconds)
        if outcome == "LOCKED":
            self.stats.count(show, "locks")
            self.stats.visit(show, "locked", [visitor_id])
        elif outcome == "UNAVAILABLE":
            self.stats.count(show, "lock_conflicts")

    async def extend_lock(self, visitor_id: str, lock_id: str) -> ExtendOut:
        lock = _lock_uuid(lock_id)
        outcome, expires_at = await self.repository.extend(
            lock, visitor_id, self.lock_seconds, self.max_hold_seconds
        )
        if outcome == "EXTENDED":
            assert expires_at is not None  # noqa: S101 - set for EXTENDED
            return ExtendOut(expires_at=expires_at)
        if outcome == "NOT_FOUND":
            raise LockNotFoundError(f"No lock {lock_id} is yours")
        if outcome == "CONVERTED":
            raise ConflictError("This lock has become a booking", lockId=lock_id)
        raise LockExpiredError(lock_id, expires_at)

    async def release_lock(self, visitor_id: str, lock_id: str) -> ReleaseOut:
        lock = _lock_uuid(lock_id)
        outcome, show_id, freed = await self.repository.release(lock, visitor_id)
        if outcome == "NOT_FOUND":
            raise LockNotFoundError(f"No lock {lock_id} is yours")
        if outcome == "IN_CHECKOUT":
            raise LockInCheckoutError(
                "These seats are being paid for; the payment must finish or fail first",
                lockId=lock_id,
            )
        if outcome == "CONVERTED":
            raise ConflictError("This lock has become a booking; cancel the booking instead")
        if show_id and freed:
            await self.events.changed(show_id, "SEAT_RELEASED", freed)
        return ReleaseOut(success=True)

    async def sweep_expired(self, limit: int = 1000) -> int:
        """Free expired locks and announce it; return how many seats were freed."""
        freed = await self.repository.sweep(limit)
        by_show: dict[str, list[str]] = defaultdict(list)
        for show_id, seat_id in freed:
            by_show[show_id].append(seat_id)
        for show_id, seats in by_show.items():
            observability.count_expired_seats(show_id, len(seats))
            await self.events.changed(show_id, "SEAT_RELEASED", seats)
        if freed:
            log.info("expired_locks_swept", seats=len(freed), shows=len(by_show))
        return len(freed)


def _lock_uuid(lock_id: str) -> uuid.UUID:
    return uuid_or_404(lock_id, lambda: LockNotFoundError(f"No lock has the id {lock_id[:64]!r}"))
