"""The alternatives a worker offers on a 409: fresh, never a seat it saw go, spread across the
racing buyers (admitone/booking_core/seat_offers.py)."""

from __future__ import annotations

import asyncio
import uuid

from admitone.booking_core import seat_offers
from admitone.booking_core.seat_offers import SeatOffers

SHOW = uuid.uuid4()
LAYOUT = {f"A{n}": (0, n, "REGULAR") for n in range(1, 21)}


class Hall:
    """The database's answers, counted: which seats are free, how often it was asked."""

    def __init__(self) -> None:
        self.free = set(LAYOUT)
        self.reads = 0
        self.now = 100.0

    async def layout(self, show: uuid.UUID) -> dict[str, tuple[int, int, str]]:
        assert show == SHOW
        await asyncio.sleep(0)  # a database answers later: other requests run meanwhile
        return LAYOUT

    async def free_ids(self, show: uuid.UUID) -> list[str]:
        self.reads += 1
        await asyncio.sleep(0)
        return sorted(self.free)

    def offers(self) -> SeatOffers:
        return SeatOffers(self.layout, self.free_ids, clock=lambda: self.now)


async def test_racing_losers_are_sent_to_different_seats() -> None:
    """Four buyers lose the same two seats at once: each is offered two seats no other was."""
    hall = Hall()
    hall.free -= {"A10", "A11"}
    offers = hall.offers()
    given = [await offers.suggest(SHOW, ["A10", "A11"], ["A10", "A11"]) for _ in range(4)]
    flat = [seat for offer in given for seat in offer]
    assert all(len(offer) == 2 for offer in given)
    assert len(flat) == len(set(flat)) == 8
    assert not set(flat) & {"A10", "A11"}


async def test_losers_arriving_at_once_share_one_view_and_get_different_seats() -> None:
    """Twelve conflicts at the same moment, before any view exists: one view is made and kept
    (not one per request, each forgetting what the others were offered)."""
    hall = Hall()
    hall.free -= {"A10"}
    offers = hall.offers()
    given = await asyncio.gather(*(offers.suggest(SHOW, ["A10"], ["A10"]) for _ in range(12)))
    flat = [seat for offer in given for seat in offer]
    assert len(flat) == len(set(flat)) == 12


async def test_never_offers_a_seat_seen_lost_or_locked_here() -> None:
    hall = Hall()
    offers = hall.offers()
    offers.taken(SHOW, [])  # an unknown show is a no-op before the first read
    await offers.suggest(SHOW, ["A1"], [])
    offers.taken(SHOW, ["A2", "A3", "A4"])
    offer = await offers.suggest(SHOW, ["A1"], ["A1", "A5"])
    assert offer
    assert not set(offer) & {"A1", "A2", "A3", "A4", "A5"}


async def test_rereads_the_free_seats_once_they_are_stale() -> None:
    """One read serves a burst of conflicts; after FRESH_SECONDS the next one reads again and
    sees seats sold meanwhile by other workers."""
    hall = Hall()
    offers = hall.offers()
    for _ in range(5):
        await offers.suggest(SHOW, ["A1"], ["A1"])
    assert hall.reads == 1
    hall.free = {"A1", "A20"}
    hall.now += seat_offers.FRESH_SECONDS + seat_offers.OFFER_SECONDS
    assert await offers.suggest(SHOW, ["A1"], ["A1"]) == ["A20"]
    assert hall.reads == 2


async def test_the_last_free_seats_are_offered_even_if_just_offered() -> None:
    hall = Hall()
    hall.free = {"A1", "A2"}
    offers = hall.offers()
    assert await offers.suggest(SHOW, ["A1"], ["A1"]) == ["A2"]
    assert await offers.suggest(SHOW, ["A1"], ["A1"]) == ["A2"]


async def test_a_seat_is_offered_again_once_its_offer_ends() -> None:
    """A9 is offered first (the nearer of two equally near, the lower number); while it is on
    offer the next loser gets A11; once A9's offer is over it is the nearest free seat not on
    offer again, though A11's offer still runs."""
    hall = Hall()
    hall.free -= {"A10"}
    offers = hall.offers()
    assert await offers.suggest(SHOW, ["A10"], ["A10"]) == ["A9"]
    hall.now += 1.0
    assert await offers.suggest(SHOW, ["A10"], ["A10"]) == ["A11"]
    hall.now += seat_offers.OFFER_SECONDS - 0.5  # A9's offer is over, A11's is not
    assert await offers.suggest(SHOW, ["A10"], ["A10"]) == ["A9"]
