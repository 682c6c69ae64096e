"""Request and response structs of the booking routes: read, cancel, e-ticket, lookup.

``frozen=True`` is repeated on each struct: mypy does not carry a frozen base's setting across
modules and would call these non-frozen subclasses of a frozen struct.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from msgspec import Meta

from admitone.booking_core.models import Input, Output

BookingStatus = Literal["PENDING", "CONFIRMED", "REVIEW", "FAILED", "CANCELLED"]
PaymentStatus = Literal["INITIATED", "SUCCESS", "FAILED", "REFUNDED"]
RefundStatus = Literal["PENDING", "PROCESSED", "FAILED"]


class BookedSeat(Output, frozen=True):
    id: str
    price: Decimal


class BookingShow(Output, frozen=True):
    """Where and when: enough for a page, a ticket or an e-mail."""

    id: str
    title: str
    show_time: datetime
    theater: str
    city: str
    address: str
    screen: str
    # The theater's IANA time zone, so pages print the show time as the venue's clock shows it.
    timezone: str = "UTC"


class TicketLink(Output, frozen=True):
    url: str
    png_url: str


class RefundView(Output, frozen=True):
    id: str
    amount: Decimal
    status: RefundStatus


class BookingView(Output, frozen=True):
    """``GET /api/v1/bookings/{bookingId}``; ``ticket`` is null unless the booking is CONFIRMED."""

    id: str
    reference: str
    status: BookingStatus
    seats: list[BookedSeat]
    amount: Decimal
    currency: str
    show: BookingShow
    payment_status: PaymentStatus | None
    ticket: TicketLink | None
    refund: RefundView | None
    created_at: datetime
    confirmed_at: datetime | None
    cancelled_at: datetime | None
    # True once the confirmation with the ticket's link was handed to the mail server (SMTP);
    # false while it is on its way and when no mail server is set (it is only recorded).
    ticket_emailed: bool = False


class CancelOut(Output, frozen=True):
    """``DELETE /api/v1/bookings/{bookingId}``: the same answer however often it is asked."""

    refund_id: str
    refund_amount: Decimal
    currency: str
    status: BookingStatus
    refund_status: RefundStatus


class TicketOut(Output, frozen=True):
    """The e-ticket; ``qrPayload`` is a compact JWS a venue verifies offline with ``jwksUrl``."""

    booking_id: str
    reference: str
    show: BookingShow
    seats: list[str]
    qr_payload: str
    issued_at: datetime
    jwks_url: str
    # The QR payload's ``jti`` and ``exp``: what a venue's revoked list names, and the show's end.
    ticket_id: str
    expires_at: datetime
    # The show's signed list of revoked tickets a scanner caches (README, "Tickets at the door").
    revocation_list_url: str


class LookupIn(Input, frozen=True):
    reference: Annotated[str, Meta(min_length=1, max_length=32)]
    email: Annotated[str, Meta(min_length=3, max_length=320)]


class LookupOut(Output, frozen=True):
    booking_id: str
    booking_token: str
    expires_in: int
