"""Alternative seats: near, same type, side by side when possible, never a taken seat."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from admitone.booking_core.alternatives import SeatPlace, suggest_alternatives


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
