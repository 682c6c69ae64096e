"""Suggesting nearby seats when the wanted ones are taken (the ``alternatives`` of a 409).

The nearest free seats of the same type, side by side in one row when such a block exists,
else the nearest single seats. Seats in ``avoid`` (just offered to another buyer) are passed
over while enough others are free, so racing buyers who lose the same seat are sent to
different ones instead of all to the next seat along.

"Nearest" is one measure throughout: a row away counts twice a seat away (rows change the view
more than a step sideways), from the wanted seats' mean row and mean seat number. Ties go to the
nearer row, then the lower seat number, then the lower row index, so one hall always gets one
answer.

:class:`FreeSeats` keeps a show's free seats by type and row, and apart from them those not on
offer, and reads only the rows nearest the wanted seats: it stops at the first row too far away
to hold a nearer answer, so a conflict costs the same in a hall of 500 seats as in one of 20,000,
and as much when every free seat is on offer as when none is (bench/README.md, "Conflicts").
"""

from __future__ import annotations

import bisect
import math
from collections import Counter, deque
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

# A show's seats: seat id -> (row index, seat number, seat type), fixed once the show exists.
Layout = Mapping[str, tuple[int, int, str]]
_ANY = None  # the index key of free seats of every type


@dataclass(frozen=True, slots=True)
class SeatPlace:
    id: str
    row_index: int
    number: int
    seat_type: str
    available: bool


class _Index:
    """A set of seats, and their numbers by seat type (and ``_ANY``) and row, ascending, with
    counts by key."""

    def __init__(self, layout: Layout, keys: Iterable[str | None]) -> None:
        self._layout = layout
        self.seats: set[str] = set()
        self.rows: dict[str | None, dict[int, list[int]]] = {key: {} for key in keys}
        self.counts: Counter[str | None] = Counter()

    def add(self, seat: str) -> None:
        row, number, seat_type = self._layout[seat]
        for key in (seat_type, _ANY):
            bisect.insort(self.rows[key].setdefault(row, []), number)
            self.counts[key] += 1
        self.seats.add(seat)

    def remove(self, seat: str) -> None:
        row, number, seat_type = self._layout[seat]
        for key in (seat_type, _ANY):
            numbers = self.rows[key][row]
            del numbers[bisect.bisect_left(numbers, number)]
            self.counts[key] -= 1
        self.seats.discard(seat)


@dataclass(frozen=True, slots=True)
class _Wish:
    """One search: ``count`` seats around row ``row`` and seat number ``col``, none of them in
    ``wanted``, in ``index`` (the free seats, or those of them not on offer)."""

    count: int
    row: float
    col: float
    wanted: set[str]
    wanted_rows: set[int]
    index: _Index


def suggest_alternatives(
    seats: Sequence[SeatPlace], wanted: Sequence[str], avoid: Collection[str] = frozenset()
) -> list[str]:
    """Up to ``len(wanted)`` available seat ids near ``wanted``, never one of ``wanted``; seats
    in ``avoid`` only when too few others are free."""
    free = FreeSeats({seat.id: (seat.row_index, seat.number, seat.seat_type) for seat in seats})
    free.reset(seat.id for seat in seats if seat.available)
    free.offer(avoid, until=math.inf)
    return free.suggest(wanted)


class FreeSeats:
    """The free seats of one show, indexed by seat type and row for nearest-seat searches, and
    the seats on offer to a buyer (``offer``) until their time is over (``forget_offers``).

    Changes are seat by seat (``discard``) or a whole new reading (``reset``, which applies
    only the difference); ``suggest`` answers what :func:`suggest_alternatives` would for the
    same seats, with the seats on offer as ``avoid``."""

    def __init__(self, layout: Layout) -> None:
        self._layout = layout
        self._ids: dict[int, dict[int, str]] = {}  # row index -> seat number -> seat id
        rows_of: dict[str | None, set[int]] = {_ANY: set()}
        for seat, (row, number, seat_type) in layout.items():
            self._ids.setdefault(row, {})[number] = seat
            rows_of.setdefault(seat_type, set()).add(row)
            rows_of[_ANY].add(row)
        # seat type (or _ANY) -> the row indices holding seats of it, ascending: fixed.
        self._row_order = {key: sorted(rows) for key, rows in rows_of.items()}
        self._all = _Index(layout, rows_of)  # the free seats
        self._spare = _Index(layout, rows_of)  # the free seats not on offer
        self._offered: dict[str, float] = {}  # seat -> on offer until
        self._offers: deque[tuple[float, str]] = deque()  # (until, seat), in the order made

    def __contains__(self, seat: object) -> bool:
        return seat in self._all.seats

    def reset(self, free: Iterable[str]) -> None:
        """The free seats are now ``free`` (ids outside the layout are ignored)."""
        now = {seat for seat in free if seat in self._layout}
        for seat in self._all.seats - now:
            self._remove(seat)
        for seat in now - self._all.seats:
            self._add(seat)

    def discard(self, seats: Iterable[str]) -> None:
        """These seats are no longer free (those not free already are ignored)."""
        for seat in seats:
            if seat in self._all.seats:
                self._remove(seat)

    def offer(self, seats: Iterable[str], until: float) -> None:
        """These seats are on offer to a buyer until ``until``: others are offered other seats
        while enough are free. Offers must be made in the order of their ends."""
        for seat in seats:
            if seat not in self._layout:
                continue
            if seat in self._spare.seats:
                self._spare.remove(seat)
            self._offered[seat] = until
            self._offers.append((until, seat))

    def forget_offers(self, now: float) -> None:
        """The offers that ended by ``now`` are over: the oldest first, so a burst of conflicts
        costs each only the offers that ended since the last."""
        while self._offers and self._offers[0][0] <= now:
            until, seat = self._offers.popleft()
            if self._offered.get(seat) == until:  # not offered again since
                del self._offered[seat]
                if seat in self._all.seats:
                    self._spare.add(seat)

    def suggest(self, wanted: Sequence[str]) -> list[str]:
        """Up to ``len(wanted)`` free seats near ``wanted``, never one of ``wanted``; seats on
        offer only when too few others are free."""
        targets = [self._layout[seat] for seat in wanted if seat in self._layout]
        if not wanted or not targets:
            return []
        count = len(wanted)
        seat_type = Counter(kind for _row, _number, kind in targets).most_common(1)[0][0]
        row = sum(place[0] for place in targets) / len(targets)
        col = sum(place[1] for place in targets) / len(targets)
        wanted_ids, wanted_rows = set(wanted), {place[0] for place in targets}
        spare = self._spare.counts[_ANY] - len(wanted_ids & self._spare.seats)
        if self._offered and spare >= count:  # else the seats not on offer are too few
            found = self._search(seat_type, _Wish(count, row, col, wanted_ids, wanted_rows,
                                                  self._spare))
            if len(found) == count:
                return found
        return self._search(seat_type, _Wish(count, row, col, wanted_ids, wanted_rows,
                                             self._all))

    def _search(self, seat_type: str, wish: _Wish) -> list[str]:
        """A block of seats of ``seat_type``, else the nearest singles: of that type while
        enough are free, else of any type."""
        block = self._block(seat_type, wish)
        if block:
            return block
        usable = wish.index.counts[seat_type] - sum(
            1 for seat in wish.wanted & wish.index.seats if self._layout[seat][2] == seat_type)
        return self._nearest(seat_type if usable >= wish.count else _ANY, wish)

    def _block(self, seat_type: str, wish: _Wish) -> list[str]:
        """The nearest run of ``wish.count`` adjacent free seats in one row, or ``[]``."""
        count, row, col = wish.count, wish.row, wish.col
        best: tuple[float, float, int, int] | None = None  # distance, rows away, first, row
        ideal = col - (count - 1) / 2  # the first seat number of a run centred on col
        # A run's nearest window starts at one of the two whole numbers around ``ideal``
        # (|mid - col| is |first - ideal|), clamped into the run: two tries, not every window.
        near = math.floor(ideal)
        for index in self._outward(seat_type, row):
            away = abs(index - row)
            if best is not None and away * 2.0 > best[0]:
                break  # every seat of this row and beyond is farther than the best block
            numbers = self._usable(seat_type, index, wish)
            start = 0
            while start < len(numbers):
                end = start
                while end + 1 < len(numbers) and numbers[end + 1] == numbers[end] + 1:
                    end += 1
                low, high = numbers[start], numbers[end] - count + 1  # first seats that fit
                start = end + 1
                if high < low:
                    continue
                for first in (min(max(near, low), high), min(max(near + 1, low), high)):
                    mid = (first + (first + count - 1)) / 2
                    score = (away * 2.0 + abs(mid - col), away, first, index)
                    if best is None or score < best:
                        best = score
        if best is None:
            return []
        seats = self._ids[best[3]]
        return [seats[number] for number in range(best[2], best[2] + count)]

    def _nearest(self, key: str | None, wish: _Wish) -> list[str]:
        """The ``wish.count`` nearest free seats (of type ``key``; any when it is ``_ANY``)."""
        count, row, col = wish.count, wish.row, wish.col
        found: list[tuple[float, int, int]] = []  # distance, row index, seat number
        for index in self._outward(key, row):
            away = abs(index - row)
            if len(found) >= count and away * 2.0 > found[-1][0]:
                break
            numbers = self._usable(key, index, wish)
            right = bisect.bisect_left(numbers, col)
            left = right - 1
            for _ in range(count):  # this row's nearest, nearer first, the lower on a tie
                if left >= 0 and (right >= len(numbers)
                                  or col - numbers[left] <= numbers[right] - col):
                    number, left = numbers[left], left - 1
                elif right < len(numbers):
                    number, right = numbers[right], right + 1
                else:
                    break
                found.append((away * 2.0 + abs(number - col), index, number))
            found.sort()
            del found[count:]
        return [self._ids[index][number] for _distance, index, number in found]

    def _outward(self, key: str | None, row: float) -> Iterator[int]:
        """The row indices holding seats of ``key``, nearest to ``row`` first."""
        order = self._row_order.get(key, [])
        above = bisect.bisect_left(order, row)
        below = above - 1
        while below >= 0 or above < len(order):
            if above >= len(order) or (below >= 0 and row - order[below] <= order[above] - row):
                yield order[below]
                below -= 1
            else:
                yield order[above]
                above += 1

    def _usable(self, key: str | None, index: int, wish: _Wish) -> list[int]:
        """The seat numbers of row ``index`` (of type ``key``) in the wish's index, wanted
        seats left out."""
        numbers = wish.index.rows[key].get(index, [])
        if index not in wish.wanted_rows:
            return numbers
        seats, wanted = self._ids[index], wish.wanted
        return [n for n in numbers if seats[n] not in wanted]

    def _add(self, seat: str) -> None:
        self._all.add(seat)
        if seat not in self._offered:
            self._spare.add(seat)

    def _remove(self, seat: str) -> None:
        self._all.remove(seat)
        if seat in self._spare.seats:
            self._spare.remove(seat)
