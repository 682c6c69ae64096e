"""Amounts in a provider's minor unit (paise, cents), from the booking's amount and currency.

Razorpay and Stripe take integers in the currency's smallest unit. Most currencies have two
decimals; the exceptions follow ISO 4217 as both providers document them. An amount that does
not fit the currency's unit exactly is refused rather than rounded: money is never rounded here.
"""

from __future__ import annotations

from decimal import Decimal

# ISO 4217 currencies without minor units, and those with three decimals.
_ZERO_DECIMAL = frozenset({
    "BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA", "PYG", "RWF", "UGX", "VND", "VUV",
    "XAF", "XOF", "XPF",
})
_THREE_DECIMAL = frozenset({"BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"})


def minor_unit_exponent(currency: str) -> int:
    """Decimals of ``currency`` (``INR`` → 2, ``JPY`` → 0, ``KWD`` → 3)."""
    code = currency.strip().upper()
    if code in _ZERO_DECIMAL:
        return 0
    if code in _THREE_DECIMAL:
        return 3
    return 2


def to_minor_units(amount: Decimal, currency: str) -> int:
    """``Decimal("400.00"), "INR"`` → ``40000``; raises ValueError if it does not fit exactly."""
    scaled = amount.scaleb(minor_unit_exponent(currency))
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{amount} {currency} is not a whole number of minor units")
    return int(scaled)


def from_minor_units(value: int, currency: str) -> Decimal:
    """``40000, "INR"`` → ``Decimal("400.00")``."""
    exponent = minor_unit_exponent(currency)
    return Decimal(value).scaleb(-exponent).quantize(Decimal(1).scaleb(-exponent))
