"""Alternative seats: near, same type, side by side when possible, never a taken seat."""

from __future__ import annotations

from collections import Counter
from collections.abc import Set as AbstractSet

from hypothesis import given, settings
from hypothesis import strategies as st

from admitone.booking_core.alternatives import FreeSeats, SeatPlace, suggest_alternatives


def hall(
    rows: int, cols: int, taken: set[str] = frozenset(), types: dict[int, str] | None = None
) -> list[SeatPlace]:  # type: ignore[assignment]
    names = "ABCDEFGHIJKLMNOP"
    return [
        SeatPlace(
            f"{names[r]}{c}", r, c, (types or {}).get(r, "REGULAR"), f"{names[r]}{c}" not in taken
        )
        for r in range(rows)
        for c in range(1, cols + 1)
    ]


def test_prefers_a_block_in_the_same_row() -> None:
    """Two wanted seats taken: the nearest two adjacent free seats of that row are offered."""
    seats = hall(3, 10, taken={"B5", "B6"})
    assert sorted(suggest_alternatives(seats, ["B5", "B6"])) == ["B7", "B8"] or sorted(
        suggest_alternatives(seats, ["B5", "B6"])
    ) == ["B3", "B4"]


def test_keeps_the_seat_type() -> None:
    """A premium seat's alternatives are premium while any are free."""
    seats = hall(3, 4, taken={"C2"}, types={2: "PREMIUM"})
    alternatives = suggest_alternatives(seats, ["C2"])
    assert alternatives[0][0] == "C"


def test_falls_back_to_single_seats_when_no_block_exists() -> None:
    """With no two adjacent free seats, the nearest singles are offered."""
    taken = {"A2", "A4", "B2", "B4", "A1"}
    seats = hall(2, 4, taken=taken)
    alternatives = suggest_alternatives(seats, ["A1", "A2"])
    assert len(alternatives) == 2
    assert not set(alternatives) & taken


def test_the_block_is_centred_on_the_wanted_seats() -> None:
    """Three wanted seats numbered 1, 3 and 4 centre on 2⅔: the block 2-4 is nearer than 1-3
    (its middle is ⅓ away, not ⅔), one row behind."""
    seats = hall(2, 10, taken={f"A{n}" for n in range(1, 11)})
    assert suggest_alternatives(seats, ["A1", "A3", "A4"]) == ["B2", "B3", "B4"]
    assert suggest_alternatives(seats, ["A1", "A2", "A4"]) == ["B1", "B2", "B3"]


@given(
    rows=st.integers(1, 6),
    cols=st.integers(1, 12),
    data=st.data(),
)
def test_never_offers_taken_or_wanted_seats(rows: int, cols: int, data: st.DataObject) -> None:
    """Whatever the hall, alternatives are free, distinct, not wanted, and at most as many as wanted."""
    ids = [f"{'ABCDEF'[r]}{c}" for r in range(rows) for c in range(1, cols + 1)]
    taken = set(data.draw(st.lists(st.sampled_from(ids), max_size=len(ids))))
    wanted = data.draw(st.lists(st.sampled_from(ids), min_size=1, max_size=4, unique=True))
    seats = hall(rows, cols, taken=taken)
    alternatives = suggest_alternatives(seats, wanted)
    assert len(alternatives) == len(set(alternatives)) <= len(wanted)
    assert not set(alternatives) & (taken | set(wanted))
    free = len(ids) - len(taken | set(wanted))
    assert len(alternatives) == min(len(wanted), free)


@given(rows=st.integers(1, 5), cols=st.integers(1, 10), data=st.data())
def test_avoided_seats_only_when_nothing_else_is_free(
    rows: int, cols: int, data: st.DataObject
) -> None:
    """Seats just offered to another buyer are passed over while enough others are free, and
    never cost a fan an offer when they are all that is left."""
    ids = [f"{'ABCDE'[r]}{c}" for r in range(rows) for c in range(1, cols + 1)]
    taken = set(data.draw(st.lists(st.sampled_from(ids), max_size=len(ids))))
    wanted = data.draw(st.lists(st.sampled_from(ids), min_size=1, max_size=4, unique=True))
    avoid = set(data.draw(st.lists(st.sampled_from(ids), max_size=len(ids))))
    seats = hall(rows, cols, taken=taken)
    offer = suggest_alternatives(seats, wanted, avoid=avoid)
    free = set(ids) - taken - set(wanted)
    assert not set(offer) & (taken | set(wanted))
    assert len(offer) == len(set(offer)) == min(len(wanted), len(free))
    if len(free - avoid) >= len(wanted):
        assert not set(offer) & avoid


# The definition the index must keep: every seat of the hall looked at, every window of every
# row scored (the implementation before FreeSeats, with the tie between two rows equally far
# away going to the lower row index, where it went to whichever row a set listed first).
def _distance(row: float, col: float, seat: SeatPlace) -> float:
    return abs(seat.row_index - row) * 2.0 + abs(seat.number - col)


def reference(seats: list[SeatPlace], wanted: list[str], avoid: AbstractSet[str]) -> list[str]:
    if avoid:
        keep = set(wanted)
        found = reference([s for s in seats if s.id not in avoid or s.id in keep], wanted, set())
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
    free = [s for s in seats if s.available and s.id not in set(wanted)]
    same_type = [s for s in free if s.seat_type == seat_type]
    rows: dict[int, list[SeatPlace]] = {}
    for seat in same_type:
        rows.setdefault(seat.row_index, []).append(seat)
    best: tuple[tuple[float, float, int, int], list[str]] | None = None
    for row_seats in rows.values():
        row_seats.sort(key=lambda s: s.number)
        for start in range(len(row_seats) - count + 1):
            run = row_seats[start : start + count]
            if run[-1].number - run[0].number != count - 1:
                continue
            mid = (run[0].number + run[-1].number) / 2
            rows_away = abs(run[0].row_index - row)
            score = (rows_away * 2.0 + abs(mid - col), rows_away, run[0].number, run[0].row_index)
            if best is None or score < best[0]:
                best = (score, [s.id for s in run])
    if best:
        return best[1]
    pool = same_type if len(same_type) >= count else free
    nearest = sorted(pool, key=lambda s: (_distance(row, col, s), s.row_index, s.number))
    return [s.id for s in nearest[:count]]


@st.composite
def halls(draw: st.DrawFn) -> list[SeatPlace]:
    """Rows of different lengths, numbered with gaps (aisles), of one or more seat types, with
    rows missing from the index order (a balcony starting at row 5); some seats taken."""
    places = []
    for row in sorted(draw(st.sets(st.integers(0, 14), min_size=1, max_size=8))):
        numbers = draw(st.sets(st.integers(1, 30), min_size=1, max_size=16))
        kind = draw(st.sampled_from(["REGULAR", "PREMIUM", "RECLINER"]))
        for number in sorted(numbers):
            free = draw(st.booleans())
            places.append(SeatPlace(f"R{row}S{number}", row, number, kind, free))
    return places


@given(halls(), st.data())
@settings(max_examples=400, deadline=None)
def test_the_index_answers_as_the_whole_hall_would(
    seats: list[SeatPlace], data: st.DataObject
) -> None:
    """Whatever the hall, the wanted seats and the seats to avoid, FreeSeats gives exactly the
    seats the definition gives, reading rows nearest first instead of every seat."""
    ids = [seat.id for seat in seats]
    wanted = data.draw(st.lists(st.sampled_from([*ids, "NOWHERE"]), min_size=1, max_size=6))
    avoid = set(data.draw(st.lists(st.sampled_from(ids), max_size=len(ids))))
    assert suggest_alternatives(seats, wanted, avoid) == reference(seats, wanted, avoid)


@given(halls(), st.data())
@settings(max_examples=300, deadline=None)
def test_the_index_follows_its_changes(seats: list[SeatPlace], data: st.DataObject) -> None:
    """Readings, seats seen taken, offers made and offers ended, in any order, leave the index
    answering for exactly the seats free now, with exactly the offers still running avoided."""
    layout = {s.id: (s.row_index, s.number, s.seat_type) for s in seats}
    ids = list(layout)
    index, free, offered, now = FreeSeats(layout), set[str](), dict[str, float](), 0.0
    for _ in range(data.draw(st.integers(1, 8))):
        step = data.draw(st.sampled_from(["reset", "taken", "offer", "time"]))
        if step == "reset":
            free = set(data.draw(st.lists(st.sampled_from([*ids, "GONE"]), max_size=len(ids))))
            index.reset(free)
            free &= set(ids)
        elif step == "taken":
            taken = data.draw(st.lists(st.sampled_from(ids), max_size=5))
            index.discard(taken)
            free -= set(taken)
        elif step == "offer":
            seats_offered = data.draw(st.lists(st.sampled_from(ids), max_size=5))
            index.offer(seats_offered, until=now + 2.0)
            offered.update(dict.fromkeys(seats_offered, now + 2.0))
        else:
            now += data.draw(st.sampled_from([0.5, 1.0, 2.0, 3.0]))
            index.forget_offers(now)
            offered = {seat: until for seat, until in offered.items() if until > now}
        wanted = data.draw(st.lists(st.sampled_from(ids), min_size=1, max_size=4))
        model = [SeatPlace(s.id, s.row_index, s.number, s.seat_type, s.id in free) for s in seats]
        assert index.suggest(wanted) == reference(model, wanted, set(offered))
        assert {seat for seat in ids if seat in index} == free
