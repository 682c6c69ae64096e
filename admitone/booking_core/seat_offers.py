"""Which seats to offer a fan whose lock lost a race (the ``alternatives`` of a 409).

During an on-sale most lock attempts conflict, and the losers of one race all ask at once. Two
things keep the offers worth taking:

* **Fresh.** The free seats are re-read from the primary at most every ``FRESH_SECONDS`` (one
  indexed read of seat ids, not the whole map), and between reads this worker drops the seats it
  has just seen locked or lost. A second-old snapshot offered every loser seats sold in that
  second, so each 409 bred more 409s.
* **Spread.** A seat offered to one buyer is passed over for the next ``OFFER_SECONDS`` while
  other seats are free, so racing buyers are sent to different seats, not all to the next one.

An offer is a suggestion, never a hold: the fan's next lock decides, as for any seat.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

from admitone.booking_core.alternatives import FreeSeats, Layout

FRESH_SECONDS = 0.25
OFFER_SECONDS = 2.0
MAX_SHOWS = 256


@dataclass(slots=True)
class _ShowView:
    free: FreeSeats  # the free seats, and which of them are on offer
    fresh_until: float = 0.0


class SeatOffers:
    """One worker's view of each hot show's free seats, for suggesting alternatives."""

    def __init__(
        self,
        load_layout: Callable[[uuid.UUID], Awaitable[Layout]],
        load_free: Callable[[uuid.UUID], Awaitable[list[str]]],
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._load_layout = load_layout
        self._load_free = load_free
        self._clock = clock
        self._views: dict[uuid.UUID, _ShowView] = {}

    async def suggest(self, show: uuid.UUID, wanted: list[str], lost: Iterable[str]) -> list[str]:
        """Up to ``len(wanted)`` seats near ``wanted`` that are free as far as this worker
        knows, other than those just offered to someone else while enough others are free."""
        now = self._clock()
        view = await self._view(show, now)
        view.free.discard(lost)
        view.free.forget_offers(now)
        offer = view.free.suggest(wanted)
        view.free.offer(offer, now + OFFER_SECONDS)
        return offer

    def taken(self, show: uuid.UUID, seats: Iterable[str]) -> None:
        """Seats this worker has just locked are no longer free to offer."""
        view = self._views.get(show)
        if view is not None:
            view.free.discard(seats)

    async def _view(self, show: uuid.UUID, now: float) -> _ShowView:
        """The show's one view. Losers of one race arrive together: whoever reads the layout
        or the free seats while others wait, all of them then share one view (and so one set
        of seats just offered), never one view each."""
        view = self._views.get(show)
        if view is None:
            layout = await self._load_layout(show)
            view = self._views.get(show)
            if view is None:
                if len(self._views) >= MAX_SHOWS:
                    self._views.clear()
                view = self._views.setdefault(show, _ShowView(FreeSeats(layout)))
        if view.fresh_until <= now:
            free = await self._load_free(show)
            if view.fresh_until <= now:  # nobody refreshed it while this read ran
                view.free.reset(free)
                view.fresh_until = now + FRESH_SECONDS
        return view
