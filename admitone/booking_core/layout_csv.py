"""A screen's seat layout from CSV (``row,seat,type,multiplier`` a line): pure parsing.

The operator console imports layouts this way; a bad file is refused whole with the first bad
line named, so nothing half-made is ever created.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

HEADER = ("row", "seat", "type", "multiplier")
MAX_SEATS = 20_000
_ROW = re.compile(r"^[A-Z]{1,3}$")
_TYPE = re.compile(r"^[A-Z][A-Z_]{0,19}$")
_LOW, _HIGH = Decimal("0.01"), Decimal(99)


@dataclass(frozen=True, slots=True)
class SeatSpec:
    """One seat of a layout: seat id = row + number (``A1``), as the JSON layouts make them."""

    row: str
    number: int
    seat_type: str
    multiplier: Decimal

    @property
    def seat_id(self) -> str:
        return f"{self.row}{self.number}"


class LayoutCsvError(ValueError):
    """A line of the CSV is wrong (``line`` counts from 1, as an editor does)."""

    def __init__(self, line: int, problem: str) -> None:
        super().__init__(f"Line {line}: {problem}")
        self.line = line
        self.problem = problem


def _seat(line: int, cells: list[str]) -> SeatSpec:
    if len(cells) != len(HEADER):
        raise LayoutCsvError(
            line, f"expected 4 values (row,seat,type,multiplier), got {len(cells)}")
    row, number_text, seat_type, multiplier_text = (cell.strip() for cell in cells)
    row, seat_type = row.upper(), seat_type.upper()
    if not _ROW.match(row):
        raise LayoutCsvError(line, f"row {row!r} must be 1 to 3 letters A-Z")
    if not number_text.isdigit() or not 1 <= int(number_text) <= 999:  # noqa: PLR2004
        raise LayoutCsvError(line, f"seat {number_text!r} must be a whole number from 1 to 999")
    if not _TYPE.match(seat_type):
        raise LayoutCsvError(line, f"type {seat_type!r} must be a word like REGULAR or VIP")
    try:
        multiplier = Decimal(multiplier_text)
    except InvalidOperation:
        raise LayoutCsvError(line, f"multiplier {multiplier_text!r} is not a number") from None
    if not multiplier.is_finite() or not _LOW <= multiplier <= _HIGH or (
        multiplier.as_tuple().exponent < -2  # type: ignore[operator]  # finite: an int  # noqa: PLR2004
    ):
        raise LayoutCsvError(line, f"multiplier {multiplier_text!r} must be 0.01 to 99, 2 decimals")
    return SeatSpec(row, int(number_text), seat_type, multiplier)


def parse_layout_csv(text: str) -> list[SeatSpec]:
    """Every seat of the CSV in file order; a header line ``row,seat,type,multiplier`` and blank
    lines are skipped. Raises LayoutCsvError naming the first bad line."""
    seats: list[SeatSpec] = []
    seen: dict[str, int] = {}
    for index, cells in enumerate(csv.reader(io.StringIO(text.lstrip("\ufeff"))), start=1):
        if not any(cell.strip() for cell in cells):
            continue
        if not seats and not seen and tuple(c.strip().lower() for c in cells) == HEADER:
            continue
        seat = _seat(index, cells)
        if seat.seat_id in seen:
            first = seen[seat.seat_id]
            raise LayoutCsvError(index, f"seat {seat.seat_id} is already on line {first}")
        seen[seat.seat_id] = index
        seats.append(seat)
        if len(seats) > MAX_SEATS:
            raise LayoutCsvError(index, f"a screen has at most {MAX_SEATS} seats")
    if not seats:
        raise LayoutCsvError(1, "the file has no seats")
    return seats
