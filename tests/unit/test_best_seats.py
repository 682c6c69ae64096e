"""The best-available choice of the no-JavaScript seat form (``gateway/seats/view.py``)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from admitone.gateway.seats.view import FreeSeat, HeldForForm, best_seats, held_from, held_query


def hall(rows: int, cols: int, taken: frozenset[str] = frozenset()) -> list[FreeSeat]:
    return [FreeSeat(f"{chr(65 + r)}{n}", r, n, "REGULAR")
            for r in range(rows) for n in range(1, cols + 1) if f"{chr(65 + r)}{n}" not in taken]


def test_an_empty_hall_gives_a_block_in_the_middle_three_fifths_back() -> None:
    """Ten rows of twenty: two seats side by side in the middle of row F (the row nearest
    three fifths back, index 5.4)."""
    assert best_seats(hall(10, 20), 2, 10, 20) == ["F10", "F11"]


def test_a_block_is_never_split_by_a_taken_seat() -> None:
    """A taken seat inside a run makes the run no block: the nearest singles instead."""
    chosen = best_seats(hall(1, 5, frozenset({"A3"})), 3, 1, 5)
    assert chosen == ["A2", "A4", "A1"]


def test_without_a_block_the_nearest_single_seats_are_given() -> None:
    """No two side by side: the two free seats nearest the middle."""
    free = [FreeSeat("A1", 0, 1, "REGULAR"), FreeSeat("A3", 0, 3, "REGULAR"),
            FreeSeat("A5", 0, 5, "REGULAR")]
    assert best_seats(free, 2, 1, 5) == ["A3", "A1"]


@given(st.integers(1, 6), st.integers(1, 12), st.integers(1, 8),
       st.sets(st.tuples(st.integers(0, 5), st.integers(1, 12))))
def test_the_choice_is_free_distinct_and_never_too_many(
    rows: int, cols: int, count: int, taken: set[tuple[int, int]],
) -> None:
    """Whatever is taken: only free seats, each once, at most ``count``, exactly ``count`` when
    that many are free."""
    free = [s for s in hall(rows, cols) if (s.row_index, s.number) not in taken]
    chosen = best_seats(free, count, rows, cols)
    ids = {s.id for s in free}
    assert len(chosen) == len(set(chosen)) == min(count, len(free))
    assert set(chosen) <= ids


def test_the_hold_survives_the_address_and_bad_values_are_refused() -> None:
    """The checkout address carries the hold; a malformed one is no hold at all."""
    from datetime import UTC, datetime
    from decimal import Decimal
    from urllib.parse import parse_qsl

    held = HeldForForm("0b7c1f5e-6f7a-4c1e-9d36-0c8f3f6a1b2c", ("A1", "A2"), Decimal("400.00"),
                       "INR", datetime(2026, 1, 1, 12, tzinfo=UTC))
    values = dict(parse_qsl(held_query(held)))
    assert held_from(values) == held
    for name, bad in [("lock", "nope"), ("seats", "A1,<b>"), ("total", "NaN"),
                      ("currency", "rupees"), ("until", "2026-01-01T12:00")]:
        assert held_from({**values, name: bad}) is None, name
