"""Request and response structs of the booking core (camelCase JSON; the OpenAPI document at
``/schema/openapi.json`` is generated from them)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from admitone.emails import Email

SeatType = Annotated[
    str, Meta(pattern=r"^[A-Z][A-Z_]{0,19}$", description="e.g. REGULAR, PREMIUM, VIP")
]
SeatStatus = Literal["AVAILABLE", "LOCKED", "BOOKED"]
SeatId = Annotated[str, Meta(pattern=r"^[A-Z]{1,3}[1-9][0-9]{0,2}$", examples=["A1", "J20"])]
Currency = Annotated[str, Meta(pattern=r"^[A-Z]{3}$", examples=["INR"])]
RowName = Annotated[str, Meta(pattern=r"^[A-Z]{1,3}$")]
PaymentMethod = Literal["CARD", "UPI", "NETBANKING", "WALLET"]
ShortText = Annotated[str, Meta(min_length=1, max_length=255)]


_CENTS_DIGITS = 2


def _check_decimal(value: Decimal, name: str, *, low: Decimal, high: Decimal) -> None:
    """msgspec cannot bound a Decimal, so structs check theirs here (a ValueError is a 400)."""
    if not value.is_finite() or not low <= value <= high:
        raise ValueError(f"{name} must be from {low} to {high}")
    if value.as_tuple().exponent < -_CENTS_DIGITS:  # type: ignore[operator]  # finite: an int
        raise ValueError(f"{name} has more than two decimal places")


class Input(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, rename="camel"):
    """Base of request bodies: unknown fields are an error, not silently dropped."""


class Output(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    """Base of response bodies."""


# Catalog (operator) ---------------------------------------------------------


class MovieIn(Input, frozen=True):
    title: ShortText
    duration_minutes: Annotated[int, Meta(ge=1, le=1440)]
    language: Annotated[str, Meta(min_length=1, max_length=50)]
    genre: Annotated[str, Meta(min_length=1, max_length=100)]
    rating: Decimal | None = None
    release_date: date | None = None
    description: Annotated[str, Meta(max_length=5000)] | None = None
    poster_url: Annotated[str, Meta(max_length=500, pattern=r"^https?://")] | None = None

    def __post_init__(self) -> None:
        if self.rating is not None:
            _check_decimal(self.rating, "rating", low=Decimal(0), high=Decimal(10))


class Movie(Output, frozen=True):
    id: str
    title: str
    duration_minutes: int
    language: str
    genre: str
    rating: Decimal | None
    release_date: date | None
    description: str | None
    poster_url: str | None


class TheaterIn(Input, frozen=True):
    name: ShortText
    city: Annotated[str, Meta(min_length=1, max_length=100)]
    address: Annotated[str, Meta(min_length=1, max_length=1000)]
    timezone: Annotated[str, Meta(min_length=1, max_length=64)] = "UTC"


class Theater(Output, frozen=True):
    id: str
    name: str
    city: str
    address: str
    timezone: str


class RowIn(Input, frozen=True):
    name: RowName
    seats: Annotated[int, Meta(ge=1, le=200)]
    seat_type: SeatType = "REGULAR"
    price_multiplier: Decimal = Decimal("1.00")

    def __post_init__(self) -> None:
        _check_decimal(
            self.price_multiplier, "priceMultiplier", low=Decimal("0.01"), high=Decimal(99)
        )


class LayoutIn(Input, frozen=True):
    rows: Annotated[list[RowIn], Meta(min_length=1, max_length=100)]


class ScreenIn(Input, frozen=True):
    name: ShortText
    layout: LayoutIn


class Screen(Output, frozen=True):
    id: str
    theater_id: str
    name: str
    total_seats: int


class ShowIn(Input, frozen=True):
    movie_id: str
    screen_id: str
    show_time: datetime
    base_price: Decimal
    currency: Currency
    max_seats_per_visitor: Annotated[int, Meta(ge=1, le=100)] | None = None

    def __post_init__(self) -> None:
        _check_decimal(self.base_price, "basePrice", low=Decimal(0), high=Decimal("99999999.99"))


class Show(Output, frozen=True):
    id: str
    movie_id: str
    screen_id: str
    show_time: datetime
    base_price: Decimal
    currency: str
    status: str
    max_seats_per_visitor: int
    total_seats: int


# Browse (public) -------------------------------------------------------------


class ShowDetails(msgspec.Struct, frozen=True, kw_only=True):
    """A show's title, time and place, as pages, tickets and e-mails print them.

    ``CatalogService.show_details`` answers it from a cache of ``SHOW_DETAILS_SECONDS``: shows
    are not edited once created, so a crowd loading one show's pages costs one query a while.
    """

    id: str
    movie_id: str
    title: str
    show_time: datetime
    language: str
    duration_minutes: int
    theater: str
    city: str
    address: str
    timezone: str
    screen: str
    currency: str
    max_seats_per_visitor: int


class MovieSummary(Output, frozen=True):
    id: str
    title: str
    language: str
    genre: str
    rating: Decimal | None
    duration_minutes: int
    poster_url: str | None


class MovieList(Output, frozen=True):
    movies: list[MovieSummary]


class ShowSummary(Output, frozen=True):
    id: str
    time: datetime
    price: Decimal
    currency: str
    screen: str


class TheaterShows(Output, frozen=True):
    id: str
    name: str
    city: str
    address: str
    shows: list[ShowSummary]


class ShowList(Output, frozen=True):
    theaters: list[TheaterShows]


# Seat map and locks ----------------------------------------------------------


class Layout(Output, frozen=True):
    rows: int
    cols: int


class SeatView(Output, frozen=True):
    id: str
    row: str
    number: int
    seat_type: str
    status: SeatStatus
    price: Decimal


class SeatMap(Output, frozen=True):
    show_id: str
    currency: str
    layout: Layout
    seats: list[SeatView]


class LockIn(Input, frozen=True):
    show_id: str
    seat_ids: Annotated[list[SeatId], Meta(min_length=1, max_length=50)]


class LockedSeat(Output, frozen=True):
    id: str
    price: Decimal


class LockOut(Output, frozen=True):
    lock_id: str
    expires_at: datetime
    seats: list[LockedSeat]
    total_amount: Decimal
    currency: str


class ExtendOut(Output, frozen=True):
    expires_at: datetime


class ReleaseOut(Output, frozen=True):
    success: bool


# Checkout and bookings -------------------------------------------------------


class CheckoutIn(Input, frozen=True):
    lock_id: str
    payment_method: PaymentMethod
    email: Email
    # The payment instrument's fingerprint as the frontend's payment form knows it (a card
    # fingerprint, a UPI id): the seat limit of a show also counts seats per instrument.
    payment_instrument: Annotated[str, Meta(min_length=1, max_length=128)] | None = None


class CheckoutOut(Output, frozen=True):
    booking_id: str
    status: str
    payment_id: str
    payment_url: str
    amount: Decimal
    currency: str
    payment_expires_at: datetime
