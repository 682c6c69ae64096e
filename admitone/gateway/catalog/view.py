"""The browse pages as plain data (no I/O): the fan's filters, the pickers, a show's link.

Query values are read leniently: a bad date or an unknown city falls back to the default rather
than answering an error to a person.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from urllib.parse import urlencode

from litestar.datastructures import MultiDict

from admitone.booking_core.models import Movie, MovieSummary, ShowSummary
from admitone.gateway import formats, i18n
from admitone.gateway.shows import queue_path

DAYS_AHEAD = 14
MAX_QUERY_CHARS = 200
MAX_CITY_CHARS = 100
POSTER_COLOURS = 8
ANY_DAY = "any"


@dataclass(frozen=True)
class Filters:
    """What the fan asked for: ``city``/``day`` None mean all cities / any day."""

    city: str | None
    day: date | None
    q: str
    timezone: str
    today: date
    day_defaulted: bool = False  # no ``date`` asked for: today, or the next day with shows

    @property
    def day_value(self) -> str:
        return self.day.isoformat() if self.day else ANY_DAY

    def query(self, **changes: str) -> str:
        """These filters as a query string (for links), with ``changes`` applied."""
        values = {"city": self.city or "", "date": self.day_value, "q": self.q} | changes
        return urlencode({key: value for key, value in values.items() if value})


@dataclass(frozen=True)
class Option:
    value: str
    label: str
    selected: bool


@dataclass(frozen=True)
class ShowLink:
    """One show time on the movie page."""

    id: str
    href: str
    time_text: str
    time_iso: str
    day_text: str
    price_text: str
    screen: str
    queued: bool


@dataclass(frozen=True)
class TheaterBlock:
    id: str
    name: str
    address: str
    city: str
    shows: list[ShowLink]


def wanted_city(params: MultiDict[str]) -> str:
    return " ".join((params.get("city") or "").split())[:MAX_CITY_CHARS]


def _common_zone(cities: list[tuple[str, str]]) -> str:
    zones = [zone_name for _city, zone_name in cities]
    return max(set(zones), key=zones.count) if zones else formats.DEFAULT_TIMEZONE


def read_filters(params: MultiDict[str], cities: list[tuple[str, str]], *,
                 now: datetime | None = None) -> Filters:
    """The filters of a page request: a city as the catalog spells it (a city it does not know
    yet still filters, and finds nothing); no ``date`` means today in the city's time zone,
    ``date=any`` any day, a bad date today."""
    wanted = wanted_city(params)
    match = next(((city, zone) for city, zone in cities if city.lower() == wanted.lower()),
                 None)
    timezone = match[1] if match else _common_zone(cities)
    today = formats.today_in(timezone, now)
    raw_day = (params.get("date") or "").strip()
    day: date | None = today
    if raw_day == ANY_DAY:
        day = None
    elif raw_day:
        try:
            day = date.fromisoformat(raw_day)
        except ValueError:
            day = today
    query = " ".join((params.get("q") or "").split())[:MAX_QUERY_CHARS]
    return Filters(city=match[0] if match else (wanted or None), day=day, q=query,
                   timezone=timezone, today=today, day_defaulted=not raw_day)


def address_text(address: str, city: str) -> str:
    """The theater's address with its city, unless the address already names the city
    ("Colaba Causeway, Mumbai 400001" stays as it is; "Colaba Causeway" gains ", Mumbai")."""
    words = re.findall(r"\w+", address.casefold())
    wanted = re.findall(r"\w+", city.casefold())
    named = bool(wanted) and any(words[at:at + len(wanted)] == wanted
                                 for at in range(len(words) - len(wanted) + 1))
    if named or not city:
        return address
    return f"{address}, {city}" if address else city


def city_options(loc: i18n.Locale, cities: list[tuple[str, str]], chosen: str | None
                 ) -> list[Option]:
    names = [city for city, _zone in cities]
    if chosen is not None and chosen not in names:
        names = sorted([*names, chosen], key=str.lower)
    return [Option("", loc.t("browse.all_cities"), chosen is None),
            *(Option(city, city, city == chosen) for city in names)]


def day_options(loc: i18n.Locale, filters: Filters) -> list[Option]:
    """"Any day", then today and the next two weeks (and the chosen day if further out)."""
    days = [filters.today + timedelta(days=n) for n in range(DAYS_AHEAD)]
    if filters.day is not None and filters.day not in days:
        days.append(filters.day)
        days.sort()
    options = [Option(ANY_DAY, loc.t("browse.any_day"), filters.day is None)]
    options += [Option(day.isoformat(), formats.day_label(loc, day, filters.today),
                       day == filters.day) for day in days]
    return options


def poster_hue(movie_id: str) -> int:
    """One of eight poster colours, the same for a movie everywhere."""
    return sum(map(ord, movie_id)) % POSTER_COLOURS


def duration_text(loc: i18n.Locale, minutes: int) -> str:
    hours, rest = divmod(minutes, 60)
    if not hours:
        return loc.t("browse.duration_minutes", minutes=loc.number(rest))
    return loc.t("browse.duration", hours=loc.number(hours), minutes=loc.number(rest))


def movie_meta(loc: i18n.Locale, movie: MovieSummary | Movie) -> list[str]:
    return [movie.language, movie.genre, duration_text(loc, movie.duration_minutes)]


def rating_text(loc: i18n.Locale, rating: Decimal | None) -> str:
    return loc.t("browse.rating", rating=f"{rating.normalize():f}") if rating is not None else ""


def show_link(loc: i18n.Locale, show: ShowSummary, timezone: str, today: date,
              queued: bool) -> ShowLink:
    local_day = show.time.astimezone(formats.zone(timezone)).date()
    # Every show goes through its queue page: with no waiting room, joining admits at once and
    # the page moves on to the seats with an access token (the booking core's only door).
    return ShowLink(
        id=show.id, href=queue_path(show.id),
        time_text=formats.clock(loc, show.time, timezone), time_iso=show.time.isoformat(),
        day_text=formats.day_label(loc, local_day, today),
        price_text=loc.t("browse.price_from", price=formats.money(loc, show.price,
                                                                   show.currency)),
        screen=show.screen, queued=queued,
    )


