"""What one 409's alternatives cost a worker, by the size of the hall: CPU µs per
``SeatOffers.suggest`` (admitone/booking_core/seat_offers.py), in process, no I/O.

Run: ``PYTHONPATH=. python bench/offers_bench.py``; compare two trees by pointing PYTHONPATH
at each. Three states of each hall: every seat free and one wanted seat; half the seats sold
at random and two wanted seats anywhere (their offer is the pair nearest to both); 1 % of the
seats left, so that they are all on offer after the first few calls, and one wanted seat. Every
offer of a run stays offered (the run is shorter than ``OFFER_SECONDS``), as in a burst of
conflicts.
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid

from admitone.booking_core.seat_offers import SeatOffers

HALLS = [(25, 20), (50, 100), (100, 200)]  # rows x seats: 500, 5,000 and 20,000 seats
CALLS = 300


async def cost(layout: dict[str, tuple[int, int, str]], free: set[str], wanted: int) -> float:
    """CPU µs per suggest of ``wanted`` random seats, over ``CALLS`` calls on one view."""
    async def load_layout(_show: uuid.UUID) -> dict[str, tuple[int, int, str]]:
        return layout

    async def load_free(_show: uuid.UUID) -> list[str]:
        return sorted(free)

    offers, show, ids = SeatOffers(load_layout, load_free), uuid.uuid4(), list(layout)
    await offers.suggest(show, ids[:1], [])  # the view is built before the clock starts
    picks = [random.sample(ids, wanted) for _ in range(CALLS)]
    started = time.process_time()
    for seats in picks:
        await offers.suggest(show, seats, seats)
    return (time.process_time() - started) / CALLS * 1e6


async def main() -> None:
    random.seed(14)
    print(f"{'seats':>7}  {'all free, 1 wanted':>20}  {'half sold, 2 wanted':>20}"
          f"  {'1 % left, on offer':>20}")
    for rows, per_row in HALLS:
        layout = {f"R{r}-{n}": (r, n, "REGULAR")
                  for r in range(rows) for n in range(1, per_row + 1)}
        everything = set(layout)
        half = everything - set(random.sample(sorted(everything), len(everything) // 2))
        few = set(random.sample(sorted(everything), len(everything) // 100))
        print(f"{rows * per_row:>7,}  {await cost(layout, everything, 1):>17,.0f} µs"
              f"  {await cost(layout, half, 2):>17,.0f} µs"
              f"  {await cost(layout, few, 1):>17,.0f} µs")


if __name__ == "__main__":
    asyncio.run(main())
