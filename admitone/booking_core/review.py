"""Bookings held for fraud review (``booking_core/fraud.py``): how settlement holds one, and
how an operator approves or rejects it.

A checkout marked ``review`` whose payment succeeds becomes REVIEW, not CONFIRMED: the payment
is SUCCESS, the seats are BOOKED for the booking and ``booking_seats.held`` (the unique index
that forbids a double sale covers it), the lock is CONVERTED, and no ticket exists. Then:

- approve: REVIEW → CONFIRMED, the ``booking.confirmed`` outbox row (the fan's e-mail) as a
  confirmation from settlement writes it;
- reject: REVIEW → CANCELLED, the seats AVAILABLE again, the payment REFUNDED with a full
  refund (reason ``REVIEW_REJECTED``) that the outbox worker sends, and a
  ``booking.cancelled`` row that tells the fan.

Both run in one transaction in the lock order every writer follows (payments → bookings →
show_seats by seat_id → seat_locks); deciding a booking already decided the same way answers
its state again, the other way is refused (409 ``BOOKING_STATE``).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

import asyncpg
import msgspec
import structlog

from admitone.booking_core.booking_repository import BookingRepository, Connection
from admitone.booking_core.seat_events import SeatEvents
from admitone.db.sql import sql_folder
from admitone.errors import BookingNotFoundError, BookingStateError
from admitone.ids import uuid_or_none
from admitone.outages import translates

sql = sql_folder("admitone.booking_core")
log = structlog.get_logger(__name__)
Decision = Literal["approve", "reject"]
REVIEW_PAGE = 200


async def hold_for_review(
    conn: Connection, booking: Mapping[str, Any], lock_seats: Sequence[str], now: datetime
) -> list[str]:
    """Settlement's CONFIRM for a booking marked for review: REVIEW, seats BOOKED and held,
    lock CONVERTED (the caller holds payment, booking, seats and lock; ``lock_seats`` is the
    lock's ``seat_ids``). The booked seat ids."""
    await conn.execute(sql("review_hold"), booking["id"], now)
    rows = await conn.fetch(
        sql("settlement_book_seats"), booking["show_id"], booking["lock_id"], booking["id"], now,
        list(lock_seats),
    )
    await conn.execute(sql("hold_booking_seats"), booking["id"])
    await conn.execute(sql("mark_lock"), booking["lock_id"], "CONVERTED", now)
    log.warning("booking_held_for_review", booking_id=str(booking["id"]))
    return sorted(row["seat_id"] for row in rows)


class ReviewReason(msgspec.Struct, frozen=True, rename="camel"):
    signal: str
    points: int
    detail: str


class ReviewItem(msgspec.Struct, frozen=True, rename="camel"):
    """A booking held for review, as the operator API and the console show it."""

    booking_id: str
    reference: str
    show_id: str
    title: str
    show_time: datetime
    email: str
    seat_ids: list[str]
    amount: Decimal
    currency: str
    payment_method: str | None
    risk_score: int
    reasons: list[ReviewReason]
    created_at: datetime


class ReviewOut(msgspec.Struct, frozen=True, rename="camel"):
    """What deciding a review did: the booking's status now, and the refund of a rejection."""

    booking_id: str
    status: str
    refund_id: str | None = None
    refund_amount: Decimal | None = None


@dataclass(frozen=True, slots=True)
class _Decided:
    out: ReviewOut
    show_id: str
    freed: list[str]


@translates("PostgreSQL")
class ReviewService:
    """The operator's side of fraud review."""

    def __init__(self, pool: asyncpg.Pool, events: SeatEvents) -> None:
        self.pool = pool
        self.events = events
        self.repository = BookingRepository(pool)

    async def reviews(
        self, show_id: str | None = None, limit: int = REVIEW_PAGE
    ) -> list[ReviewItem]:
        """Bookings held for review, oldest first (one show's, or every show's)."""
        show = uuid_or_none(show_id) if show_id else None
        if show_id and show is None:
            return []
        return await self._items(show, limit, None)

    async def review(self, booking_id: str) -> ReviewItem | None:
        """One booking held for review; None when it is not (or not a booking)."""
        booking = uuid_or_none(booking_id)
        found = await self._items(None, 1, booking) if booking else []
        return found[0] if found else None

    async def _items(
        self, show: uuid.UUID | None, limit: int, booking: uuid.UUID | None
    ) -> list[ReviewItem]:
        rows = await self.pool.fetch(sql("review_list"), show, limit, booking)
        return [
            ReviewItem(
                booking_id=str(r["id"]), reference=r["reference"], show_id=str(r["show_id"]),
                title=r["title"], show_time=r["show_time"], email=r["email"],
                seat_ids=list(r["seat_ids"] or []), amount=r["amount"], currency=r["currency"],
                payment_method=r["payment_method"], risk_score=r["risk_score"],
                reasons=msgspec.json.decode(r["risk_reasons"], type=list[ReviewReason]),
                created_at=r["created_at"],
            )
            for r in rows
        ]

    async def decide(self, booking_id: str, decision: Decision, actor: str) -> ReviewOut:
        """Approve or reject a booking held for review (see the module's docstring)."""
        booking = uuid_or_none(booking_id)
        if booking is None:
            raise BookingNotFoundError(f"No booking has the id {booking_id[:64]!r}")
        async with self.pool.acquire() as conn, conn.transaction():
            payment = await self.repository.lock_payment(conn, booking)
            row = await conn.fetchrow(sql("review_lock_booking"), booking)
            if row is None:
                raise BookingNotFoundError(f"No booking has the id {booking_id[:64]!r}")
            decided = await self._decide(conn, row, payment, decision, actor)
        if decided.freed:
            await self.events.changed(decided.show_id, "SEAT_RELEASED", decided.freed)
        log.info("booking_reviewed", booking_id=str(booking), decision=decision,
                 status=decided.out.status, actor=actor)
        return decided.out

    async def _decide(
        self, conn: Connection, row: asyncpg.Record, payment: asyncpg.Record | None,
        decision: Decision, actor: str,
    ) -> _Decided:
        bid, show = row["id"], row["show_id"]
        wanted = "CONFIRMED" if decision == "approve" else "CANCELLED"
        if row["status"] != "REVIEW" or payment is None:
            if row["status"] == wanted and await _was_reviewed(conn, bid):
                return _Decided(ReviewOut(booking_id=str(bid), status=wanted), str(show), [])
            raise BookingStateError(
                f"A {row['status']} booking is not held for review", bookingStatus=row["status"]
            )
        now = row["now"]
        seats = await self.repository.lock_booked_seats(conn, show, bid)
        ids = {"bookingId": str(bid), "showId": str(show), "paymentId": str(payment["id"])}
        await conn.execute(sql("review_decide"), bid, now, wanted, actor)
        if decision == "approve":
            await self.repository.add_outbox(conn, "booking.confirmed", {
                **ids, "visitorId": row["visitor_id"], "reference": row["reference"],
                "seatIds": seats, "amount": row["amount"], "currency": row["currency"],
            })
            await self.repository.add_audit(conn, actor, [
                ("booking", str(bid), "CONFIRMED", {**ids, "review": "APPROVED"}),
            ])
            return _Decided(ReviewOut(booking_id=str(bid), status=wanted), str(show), [])
        freed = await self.repository.release_booked_seats(conn, show, bid, now)
        refund = await self.repository.insert_refund(
            conn, payment["id"], bid, payment["amount"], "REVIEW_REJECTED"
        )
        await self.repository.mark_payment_refunded(conn, payment["id"], now)
        refund_fields = {"refundId": str(refund), "amount": payment["amount"],
                         "currency": row["currency"]}
        await self.repository.add_outbox(conn, "refund.requested", {**ids, **refund_fields})
        await self.repository.add_outbox(conn, "booking.cancelled", {
            **ids, "reference": row["reference"], "seatIds": freed, "refundId": str(refund),
            "refundAmount": payment["amount"], "currency": row["currency"],
        })
        entries: list[tuple[str, str, str, dict[str, Any]]] = [
            ("booking", str(bid), "CANCELLED", {**ids, "review": "REJECTED"}),
            ("show", str(show), "SEATS_RELEASED", {"bookingId": str(bid), "seatIds": freed,
                                                   "reason": "REVIEW_REJECTED"}),
            ("refund", str(refund), "REQUESTED", {**ids, **refund_fields,
                                                  "reason": "REVIEW_REJECTED"}),
            ("payment", str(payment["id"]), "REFUNDED", {"refundId": str(refund),
                                                         "reason": "REVIEW_REJECTED"}),
        ]
        await self.repository.add_audit(conn, actor, entries)
        out = ReviewOut(booking_id=str(bid), status=wanted, refund_id=str(refund),
                        refund_amount=payment["amount"])
        return _Decided(out, str(show), freed)


async def _was_reviewed(conn: Connection, booking: uuid.UUID) -> bool:
    reviewed = await conn.fetchval("SELECT reviewed_at IS NOT NULL FROM bookings WHERE id = $1",
                                   booking)
    return bool(reviewed)
