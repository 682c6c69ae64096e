"""Prices, clock times and day names as the browse and booking pages print them.

Pure functions of a :class:`~admitone.gateway.i18n.Locale`: ``₹1,200`` (Indian digit grouping
for ``en-IN`` and Hindi, no paise when the sum is whole), ``7:30 pm`` (a 12-hour clock, as
en-IN and hi-IN write it), "Today" / "Tomorrow" / "Sat, 14 Mar".
"""

from __future__ import annotations

from datetime import UTC, date, datetime, tzinfo
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from admitone.gateway.i18n import Locale, catalog

CURRENCY_SYMBOLS = {"INR": "₹", "USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥"}
DEFAULT_TIMEZONE = "Asia/Kolkata"
_CENT = Decimal("0.01")
_NOON = 12


def zone(name: str | None) -> tzinfo:
    """The named IANA zone; UTC for an unknown or empty name (a page never fails on it)."""
    if not name:
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def money(loc: Locale, amount: Decimal, currency: str) -> str:
    """``₹1,200`` or ``₹1,200.50``: the symbol (else the code), grouped digits, paise if any."""
    value = amount.quantize(_CENT, rounding=ROUND_HALF_UP)
    sign = "-" if value < 0 else ""
    value = abs(value)
    whole = int(value)
    cents = int((value - whole) * 100)
    text = loc.number(whole) + (f".{cents:02d}" if cents else "")
    symbol = CURRENCY_SYMBOLS.get(currency)
    return f"{sign}{symbol}{text}" if symbol else f"{sign}{currency} {text}"


def clock(loc: Locale, moment: datetime, timezone: str | None) -> str:
    """The time of day on a 12-hour clock in the theater's zone: ``7:30 pm``."""
    local = moment.astimezone(zone(timezone))
    hour = local.hour % _NOON or _NOON
    period = loc.t("date.am") if local.hour < _NOON else loc.t("date.pm")
    return loc.t("pages.time", time=f"{hour}:{local.minute:02d}", period=period)


def short_date(loc: Locale, day: date) -> str:
    """``Sat, 14 Mar`` in the page's language."""
    strings = catalog(loc.language)
    return loc.t("pages.short_date", weekday=strings["date.weekdays"][day.weekday()],
                 day=str(day.day), month=strings["date.months"][day.month - 1])


def day_label(loc: Locale, day: date, today: date) -> str:
    """"Today", "Tomorrow" or the short date."""
    offset = (day - today).days
    if offset == 0:
        return loc.t("pages.today")
    if offset == 1:
        return loc.t("pages.tomorrow")
    return short_date(loc, day)


def today_in(timezone: str | None, now: datetime | None = None) -> date:
    """The calendar day now in ``timezone``."""
    return (now or datetime.now(UTC)).astimezone(zone(timezone)).date()
