"""Suggesting nearby seats when the wanted ones are taken (the ``alternatives`` of a 409).

A pure function of the seat map: the nearest available seats of the same type, side by side in
one row when such a block exists, else the nearest single seats. Seats in ``avoid`` (just offered
to another buyer) are passed over while enough others are free, so racing buyers who lose the
same seat are sent to different ones instead of all to the next seat along.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SeatPlace:
    id: str
    row_index: int
    number: int
    seat_type: str
    available: bool


def _distance(row: float, col: float, seat: SeatPlace) -> float:
    # A row away is worse than a seat away: rows change the view more than a step sideways.
    return abs(seat.row_index - row) * 2.0 + abs(seat.number - col)


def suggest_alternatives(
    seats: Sequence[SeatPlace], wanted: Sequence[str], avoid: AbstractSet[str] = frozenset()
) -> list[str]:
    """Up to ``len(wanted)`` available seat ids near ``wanted``, never one of ``wanted``; seats
    in ``avoid`` only when too few others are free."""
    if avoid:
        keep = set(wanted)
        spared = [s for s in seats if s.id not in avoid or s.id in keep]
        found = suggest_alternatives(spared, wanted)
        if len(found) == len(wanted):
            return found
    count = len(wanted)
    by_id = {seat.id: seat for seat in seats}
    targets = [by_id[seat_id] for seat_id in wanted if seat_id in by_id]
    if count == 0 or not targets:
        return []
    seat_type = Counter(seat.seat_type for seat in targets).most_common(1)[0][0]
    row = sum(seat.row_index for seat in targets) / len(targets)
    col = sum(seat.number for seat in targets) / len(targets)
    wanted_ids = set(wanted)
    free = [s for s in seats if s.available and s.id not in wanted_ids]
    same_type = [s for s in free if s.seat_type == seat_type]

    block = _best_block(same_type, count, row, col)
    if block:
        return block
    pool = same_type if len(same_type) >= count else free
    nearest = sorted(pool, key=lambda s: (_distance(row, col, s), s.row_index, s.number))
    return [s.id for s in nearest[:count]]


def _best_block(seats: Sequence[SeatPlace], count: int, row: float, col: float) -> list[str]:
    """The nearest run of ``count`` adjacent seats in one row, or ``[]``."""
    rows: dict[int, list[SeatPlace]] = {}
    for seat in seats:
        rows.setdefault(seat.row_index, []).append(seat)
    best: tuple[tuple[float, float, int], list[str]] | None = None
    for row_seats in rows.values():
        row_seats.sort(key=lambda s: s.number)
        for start in range(len(row_seats) - count + 1):
            run = row_seats[start : start + count]
            if run[-1].number - run[0].number != count - 1:
                continue
            mid = (run[0].number + run[-1].number) / 2
            rows_away = abs(run[0].row_index - row)
            # Nearest first; on a tie, stay in the wanted row, then take the lower numbers.
            score = (rows_away * 2.0 + abs(mid - col), rows_away, run[0].number)
            if best is None or score < best[0]:
                best = (score, [s.id for s in run])
    return best[1] if best else []
