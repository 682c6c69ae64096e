"""Prices and dates as every page prints them: one formatter, so a time reads the same anywhere.

Pure functions of a :class:`~admitone.gateway.i18n.Locale`. Money is ``₹1,200`` (Indian digit
grouping for ``en-IN`` and Hindi, no paise when the sum is whole). A moment is always printed
in the theater's time zone with the zone named, on a 24-hour clock: ``Sat 5 Dec, 19:30 IST``
(the year only when it is not this year's), a day as ``Sat 5 Dec`` or "Today" / "Tomorrow".
``static/js/lib/dates.js`` prints the same from :func:`script_dates` for times a page's script
renders (tests/unit/test_formats.py holds both to the same strings).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, tzinfo
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from admitone.gateway.i18n import Locale, catalog

CURRENCY_SYMBOLS = {"INR": "₹", "USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥"}
DEFAULT_TIMEZONE = "Asia/Kolkata"
_CENT = Decimal("0.01")
_MONTHS_OF_ZONE_NAMES = 13  # a year of offsets (both sides of a DST change) for the script


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


def offset_name(offset: timedelta) -> str:
    """``UTC+5:30`` for a zone that has no letters for its offset (``UTC`` at zero)."""
    minutes = round(offset.total_seconds() / 60)
    if minutes == 0:
        return "UTC"
    sign = "+" if minutes > 0 else "-"
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours}" + (f":{rest:02d}" if rest else "")


def zone_name(local: datetime) -> str:
    """The zone's abbreviation at that moment (``IST``, ``BST``), else its offset (``UTC+4``)."""
    name = local.tzname() or ""
    if name.isalpha():
        return name
    return offset_name(local.utcoffset() or timedelta(0))


def _day_text(loc: Locale, day: date, this_year: int) -> str:
    strings = catalog(loc.language)
    parts = {"weekday": strings["date.weekdays"][day.weekday()], "day": str(day.day),
             "month": strings["date.months"][day.month - 1], "year": str(day.year)}
    return loc.t("date.day" if day.year == this_year else "date.day_year", **parts)


def short_date(loc: Locale, day: date, *, today: date | None = None) -> str:
    """``Sat 5 Dec`` (``Sat 5 Dec 2027`` when not in ``today``'s year) in the page's language."""
    return _day_text(loc, day, (today or datetime.now(UTC).date()).year)


def day_label(loc: Locale, day: date, today: date) -> str:
    """"Today", "Tomorrow" or the short date."""
    offset = (day - today).days
    if offset == 0:
        return loc.t("pages.today")
    if offset == 1:
        return loc.t("pages.tomorrow")
    return short_date(loc, day, today=today)


def clock(loc: Locale, moment: datetime, timezone: str | None) -> str:
    """The time of day in the theater's zone, zone named: ``19:30 IST``."""
    local = moment.astimezone(zone(timezone))
    return loc.t("date.time", time=f"{local.hour:02d}:{local.minute:02d}",
                 zone=zone_name(local))


def date_time(loc: Locale, moment: datetime, timezone: str | None, *,
              now: datetime | None = None) -> str:
    """A moment in the theater's zone, zone named: ``Sat 5 Dec, 19:30 IST``."""
    place = zone(timezone)
    local = moment.astimezone(place)
    this_year = (now or datetime.now(UTC)).astimezone(place).year
    return loc.t("date.format", date=_day_text(loc, local.date(), this_year),
                 time=clock(loc, moment, timezone))


def today_in(timezone: str | None, now: datetime | None = None) -> date:
    """The calendar day now in ``timezone``."""
    return (now or datetime.now(UTC)).astimezone(zone(timezone)).date()


def script_dates(loc: Locale, timezone: str | None, *,
                 now: datetime | None = None) -> dict[str, Any]:
    """What ``static/js/lib/dates.js`` needs to print a time as :func:`date_time` does: the
    page language's names and patterns, the theater's zone and the zone's name at each of its
    offsets over the next year (browsers name zones differently; this is the server's name)."""
    strings = catalog(loc.language)
    place = zone(timezone)
    start = now or datetime.now(UTC)
    names: dict[str, str] = {}
    for month in range(_MONTHS_OF_ZONE_NAMES):
        local = (start + timedelta(days=30 * month)).astimezone(place)
        names[str(round((local.utcoffset() or timedelta(0)).total_seconds() / 60))] = (
            zone_name(local))
    return {
        "timeZone": timezone if place is not UTC else "UTC",
        "zoneNames": names,
        "weekdays": strings["date.weekdays"],
        "months": strings["date.months"],
        "patterns": {key: loc.t(f"date.{key}")
                     for key in ("format", "time", "day", "day_year")},
    }
