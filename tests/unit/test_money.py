"""Minor units: the booking's amount in paise or cents, exactly, never rounded."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from admitone.booking_core.payments.money import from_minor_units, to_minor_units


def test_amounts_in_the_currencys_minor_unit() -> None:
    """INR and USD have two decimals, JPY none, KWD three."""
    assert to_minor_units(Decimal("400.00"), "INR") == 40000
    assert to_minor_units(Decimal("12.34"), "usd") == 1234
    assert to_minor_units(Decimal("500"), "JPY") == 500
    assert to_minor_units(Decimal("1.234"), "KWD") == 1234
    assert from_minor_units(40000, "INR") == Decimal("400.00")


def test_an_amount_finer_than_the_unit_is_refused() -> None:
    """Half a paisa cannot be charged: it is an error, not a rounding."""
    with pytest.raises(ValueError, match="minor units"):
        to_minor_units(Decimal("1.005"), "INR")


@given(st.integers(min_value=0, max_value=10**12), st.sampled_from(["INR", "JPY", "KWD", "EUR"]))
def test_minor_units_round_trip(value: int, currency: str) -> None:
    """Converting a provider's integer to an amount and back gives the same integer."""
    assert to_minor_units(from_minor_units(value, currency), currency) == value
