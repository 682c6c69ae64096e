"""Bookings after checkout: read, cancel by the policy, e-tickets, and lookup by reference.

Only the visitor who made a booking (the ``sub`` of an access token) or the holder of a booking
token naming it may see or cancel it; everyone else is told it does not exist (404), so
booking ids reveal nothing.
"""

from __future__ import annotations

import io
import uuid
from decimal import Decimal
from typing import Any

import asyncpg
import segno
import structlog

from admitone.booking_core.booking_models import (
    BookedSeat,
    BookingShow,
    BookingView,
    CancelOut,
    LookupOut,
    RefundView,
    TicketLink,
    TicketOut,
)
from admitone.booking_core.booking_repository import BookingRepository, Connection
from admitone.booking_core.catalog import CatalogService
from admitone.booking_core.policy import decide_refund
from admitone.booking_core.seat_events import SeatEvents
from admitone.booking_core.tickets import ticket_expiry, ticket_id
from admitone.booking_core.tokens import BookingTokenSigner, Caller, OneBookingCaller
from admitone.errors import BookingNotFoundError, BookingStateError, ConflictError
from admitone.ids import uuid_or_404
from admitone.outages import translates

log = structlog.get_logger(__name__)

_QR_SCALE = 6  # pixels per module: about 4 cm wide when printed, easy for a phone to read


def parse_booking_id(value: str) -> uuid.UUID:
    """A booking id from a path; anything that is not a UUID is simply not found."""
    return uuid_or_404(value, lambda: BookingNotFoundError("No such booking"))


def may_see(caller: Caller, booking_id: uuid.UUID, visitor_id: str) -> bool:
    """Whether the caller made the booking, or holds a booking token for it."""
    if isinstance(caller, OneBookingCaller):
        return caller.booking_id == str(booking_id) and caller.sub == visitor_id
    return caller.sub == visitor_id


@translates("PostgreSQL")
class BookingService:
    """GET, DELETE, ticket and lookup of bookings."""

    def __init__(
        self, pool: asyncpg.Pool, catalog: CatalogService, tokens: BookingTokenSigner,
        events: SeatEvents, *, base_url: str, booking_token_seconds: int,
    ) -> None:
        self.pool = pool
        self.repository = BookingRepository(pool)
        self.catalog = catalog
        self.tokens = tokens
        self.events = events
        self.base_url = base_url
        self.booking_token_seconds = booking_token_seconds

    async def _owned(self, booking_id: str, caller: Caller) -> asyncpg.Record:
        booking = parse_booking_id(booking_id)
        row = await self.repository.booking_view(booking)
        if row is None or not may_see(caller, booking, row["visitor_id"]):
            raise BookingNotFoundError("No such booking")
        return row

    async def _show(self, show_id: uuid.UUID) -> BookingShow:
        details = await self.catalog.show_details(str(show_id))
        return BookingShow(
            id=details.id, title=details.title, show_time=details.show_time,
            theater=details.theater, city=details.city, address=details.address,
            screen=details.screen, timezone=details.timezone,
        )

    def ticket_url(self, booking_id: str) -> str:
        return f"{self.base_url}/api/v1/bookings/{booking_id}/ticket"

    async def get(self, booking_id: str, caller: Caller) -> BookingView:
        """The booking as its owner sees it; ``ticket`` only once it is CONFIRMED."""
        row = await self._owned(booking_id, caller)
        url = self.ticket_url(str(row["id"]))
        refund = None
        if row["refund_id"] is not None:
            refund = RefundView(
                id=str(row["refund_id"]), amount=row["refund_amount"], status=row["refund_status"]
            )
        return BookingView(
            id=str(row["id"]), reference=row["reference"], status=row["status"],
            seats=[BookedSeat(id=seat, price=price)
                   for seat, price in zip(row["seat_ids"], row["seat_prices"], strict=True)],
            amount=row["amount"], currency=row["currency"], show=await self._show(row["show_id"]),
            payment_status=row["payment_status"],
            ticket=TicketLink(url=url, png_url=f"{url}?format=png")
            if row["status"] == "CONFIRMED" else None,
            refund=refund, created_at=row["created_at"], confirmed_at=row["confirmed_at"],
            cancelled_at=row["cancelled_at"], ticket_emailed=row["ticket_channel"] == "smtp",
        )

    async def cancel(self, booking_id: str, caller: Caller) -> CancelOut:
        """Cancel a CONFIRMED booking by the policy; asking again answers the same refund.

        One transaction in the lock order: payment, booking, seats by seat id. The seats are
        AVAILABLE at commit, a PENDING refund and the outbox rows that send it and tell the fan
        are written with them. A full refund marks the payment REFUNDED at once (as settlement
        does for seats lost); a half refund leaves it SUCCESS. Whether the money has gone back
        is the refund's own status, PENDING until the outbox worker has sent it.
        """
        owned = await self._owned(booking_id, caller)
        booking = owned["id"]
        async with self.pool.acquire() as conn, conn.transaction():
            payment = await self.repository.lock_payment(conn, booking)
            row = await self.repository.lock_booking(conn, booking)
            assert row is not None  # noqa: S101 - bookings are never deleted
            if row["status"] == "CANCELLED" and payment is not None:
                refund = await self.repository.refund_of_payment(conn, payment["id"])
                if refund is not None:
                    return CancelOut(
                        refund_id=str(refund["id"]), refund_amount=refund["amount"],
                        currency=row["currency"], status="CANCELLED",
                        refund_status=refund["status"],
                    )
            if row["status"] != "CONFIRMED" or payment is None or payment["status"] != "SUCCESS":
                raise BookingStateError(
                    f"A {row['status']} booking cannot be cancelled; only a CONFIRMED one can",
                    bookingStatus=row["status"],
                )
            if await self.repository.refund_of_payment(conn, payment["id"]) is not None:
                raise ConflictError("This booking's payment has been refunded already")
            now = row["now"]
            decision = decide_refund(row["show_time"], now, payment["amount"])
            await self.repository.lock_booked_seats(conn, row["show_id"], booking)
            freed = await self.repository.release_booked_seats(conn, row["show_id"], booking, now)
            await self.repository.cancel_booking(conn, booking, now)
            # Its ticket is void from this commit: on the show's revoked list (a new version).
            await self.repository.revoke_ticket(
                conn, row["show_id"], booking, uuid.UUID(ticket_id(booking)), "CANCELLED"
            )
            refund_id = await self.repository.insert_refund(
                conn, payment["id"], booking, decision.amount, "CANCELLATION"
            )
            refunded = decision.is_full and await self.repository.mark_payment_refunded(
                conn, payment["id"], now
            )
            await self._record_cancellation(
                conn, row, payment["id"], refund_id=refund_id, amount=decision.amount, freed=freed,
                full=decision.is_full, payment_refunded=refunded,
            )
        await self.events.changed(str(row["show_id"]), "SEAT_RELEASED", freed)
        log.info("booking_cancelled", booking_id=str(booking), refund_id=str(refund_id),
                 refund_amount=str(decision.amount), seats=len(freed))
        return CancelOut(
            refund_id=str(refund_id), refund_amount=decision.amount, currency=row["currency"],
            status="CANCELLED", refund_status="PENDING",
        )

    async def _record_cancellation(
        self, conn: Connection, row: asyncpg.Record, payment_id: uuid.UUID, *,
        refund_id: uuid.UUID, amount: Decimal, freed: list[str], full: bool,
        payment_refunded: bool,
    ) -> None:
        booking, show, visitor = str(row["id"]), str(row["show_id"]), row["visitor_id"]
        refund = {"refundId": str(refund_id), "paymentId": str(payment_id), "bookingId": booking,
                  "amount": amount, "currency": row["currency"]}
        await self.repository.add_outbox(conn, "booking.cancelled", {
            "bookingId": booking, "reference": row["reference"], "showId": show,
            "seatIds": freed, "refundId": str(refund_id), "refundAmount": amount,
            "currency": row["currency"],
        })
        await self.repository.add_outbox(conn, "refund.requested", refund)
        entries: list[tuple[str, str, str, dict[str, Any]]] = [
            ("booking", booking, "CANCELLED", {
                "refundId": str(refund_id), "refundAmount": amount, "fullRefund": full,
                "showTime": row["show_time"], "cancelledAt": row["now"]}),
            ("show", show, "SEATS_RELEASED", {"bookingId": booking, "seatIds": freed,
                                              "reason": "CANCELLATION"}),
            ("refund", str(refund_id), "REQUESTED", {**refund, "reason": "CANCELLATION"}),
        ]
        if payment_refunded:
            entries.append(("payment", str(payment_id), "REFUNDED",
                            {"refundId": str(refund_id), "reason": "CANCELLATION"}))
        await self.repository.add_audit(conn, visitor, entries)

    async def ticket(self, booking_id: str, caller: Caller) -> TicketOut:
        """The e-ticket of a CONFIRMED booking, its QR payload signed for offline checks: its
        ``jti`` is the ticket id the show's revoked list names, its ``exp`` the show's end."""
        row = await self._owned(booking_id, caller)
        if row["status"] != "CONFIRMED":
            raise BookingStateError(
                f"A {row['status']} booking has no ticket; only a CONFIRMED one has",
                bookingStatus=row["status"],
            )
        issued_at = row["now"]
        seats = list(row["seat_ids"])
        details = await self.catalog.show_details(str(row["show_id"]))
        expires_at = ticket_expiry(details.show_time, details.duration_minutes)
        tid = ticket_id(row["id"])
        payload = self.tokens.sign_ticket({
            "jti": tid, "reference": row["reference"], "bookingId": str(row["id"]),
            "showId": str(row["show_id"]), "seats": seats, "sub": row["visitor_id"],
            "iat": int(issued_at.timestamp()), "exp": int(expires_at.timestamp()),
        })
        return TicketOut(
            booking_id=str(row["id"]), reference=row["reference"],
            show=await self._show(row["show_id"]), seats=seats, qr_payload=payload,
            issued_at=issued_at.replace(microsecond=0),
            jwks_url=f"{self.base_url}/.well-known/jwks.json",
            ticket_id=tid, expires_at=expires_at.replace(microsecond=0),
            revocation_list_url=f"{self.base_url}/api/v1/shows/{row['show_id']}/revoked-tickets",
        )

    async def ticket_png(self, booking_id: str, caller: Caller) -> bytes:
        """The ticket's QR code (its signed payload) as a PNG image."""
        ticket = await self.ticket(booking_id, caller)
        out = io.BytesIO()
        segno.make(ticket.qr_payload, error="m", micro=False).save(
            out, kind="png", scale=_QR_SCALE, border=4
        )
        return out.getvalue()

    async def lookup(self, reference: str, email: str) -> LookupOut:
        """A short-lived booking token for the booking with this reference and e-mail.

        A wrong reference and a wrong e-mail get the same 404, so neither can be probed alone.
        """
        row = await self.repository.find_by_reference(reference.strip().upper(), email.strip())
        if row is None:
            log.info("booking_lookup_missed")
            raise BookingNotFoundError("No booking matches that reference and e-mail")
        token = self.tokens.issue_booking_token(
            booking_id=str(row["id"]), visitor_id=row["visitor_id"],
            ttl_seconds=self.booking_token_seconds, show_id=str(row["show_id"]),
        )
        log.info("booking_lookup_matched", booking_id=str(row["id"]))
        return LookupOut(
            booking_id=str(row["id"]), booking_token=token, expires_in=self.booking_token_seconds
        )
