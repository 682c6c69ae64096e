"""What the waiting room knows of the seats behind it, and what it tells a fan about them.

A queue that does not know the inventory keeps fans waiting for a show that sold out long ago.
The scheduler reads the show's seat counts from the booking core every tick and keeps them in
the room's Redis state; the room stops admitting at sell-out (no seat available and none
locked, so none can come back) and starts again by itself when seats return. Each waiting fan
is told how likely tickets are at their place, from the numbers alone (no I/O here).
"""

from __future__ import annotations

import math
from typing import Literal, Protocol

import msgspec

ChanceLevel = Literal["LIKELY", "UNCERTAIN", "UNLIKELY"]
# Before this many orders the seats per order are a guess: fans order this many on average.
PRIOR_SEATS_PER_ORDER = 2.0
PRIOR_WEIGHT_ORDERS = 5
# Before this many admitted fans the share who buy is a guess: everyone (the careful answer).
PRIOR_CONVERSION = 1.0
PRIOR_WEIGHT_ADMITTED = 20
# Demand below this share of the seats left is "likely", above the second "unlikely".
LIKELY_BELOW = 0.8
UNLIKELY_ABOVE = 1.25


class Inventory(msgspec.Struct, frozen=True, kw_only=True):
    """A show's seats as the booking core counts them (an expired lock counts as available)."""

    available: int
    locked: int
    booked: int
    orders: int  # confirmed bookings
    seats_ordered: int  # seats in those bookings

    @property
    def seats_left(self) -> int:
        """Seats a fan may still get: free now, or held and able to come back."""
        return self.available + self.locked

    @property
    def sold_out(self) -> bool:
        return self.seats_left == 0


class InventorySource(Protocol):
    """Where the room reads a show's inventory (the booking core, wired in ``runtime.py``)."""

    async def __call__(self, show_id: str) -> Inventory: ...


def seats_per_order(orders: int, seats_ordered: int) -> float:
    """Average seats per order so far, pulled towards the prior while orders are few."""
    return (seats_ordered + PRIOR_SEATS_PER_ORDER * PRIOR_WEIGHT_ORDERS) / (
        orders + PRIOR_WEIGHT_ORDERS
    )


def conversion(orders: int, admitted: int) -> float:
    """The share of admitted fans who buy, pulled towards the prior while admissions are few."""
    share = (orders + PRIOR_CONVERSION * PRIOR_WEIGHT_ADMITTED) / (admitted + PRIOR_WEIGHT_ADMITTED)
    return min(1.0, max(0.0, share))


class Chance(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    """How likely tickets are at a fan's place, with the numbers behind it."""

    level: ChanceLevel
    seats_left: int
    people_ahead: int  # waiting ahead of the fan, plus admitted fans still choosing
    expected_demand_ahead: int  # seats those people are expected to take


def ticket_chance(
    *, position: int, active: int, seats_left: int, per_order: float, buying_share: float
) -> Chance:
    """The chance for the fan at ``position`` (1 = next): the seats the people ahead are
    expected to take (each buys with ``buying_share``, ``per_order`` seats), against the
    seats left. Likely while the demand ahead plus the fan's own order stays well within the
    seats left; unlikely once it is well beyond them; uncertain between."""
    ahead = max(0, position - 1) + max(0, active)
    demand = ahead * buying_share * per_order
    own = max(1.0, per_order)
    if seats_left <= 0:
        level: ChanceLevel = "UNLIKELY"
    elif demand + own <= LIKELY_BELOW * seats_left:
        level = "LIKELY"
    elif demand >= UNLIKELY_ABOVE * seats_left:
        level = "UNLIKELY"
    else:
        level = "UNCERTAIN"
    return Chance(level=level, seats_left=max(0, seats_left), people_ahead=ahead,
                  expected_demand_ahead=math.ceil(demand))
