"""Page languages: ``Accept-Language`` negotiation, string lookup, numbers and dates per locale.

Strings live in ``gateway/locales/<language>.json`` as one flat object of dotted keys; a value
may hold ``{name}`` placeholders. Plural strings are two keys, ``<key>.one`` and ``<key>.other``.
Every page chooses its language the same way (:func:`locale_for`): a ``?lang=`` override, then
the ``lang`` cookie the switcher sets, then the caller's ``Accept-Language``, then English.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from importlib import resources
from typing import Any

from litestar.connection import ASGIConnection

SUPPORTED_LANGUAGES: tuple[str, ...] = ("en", "hi")
DEFAULT_LANGUAGE = "en"
# The region used for numbers and dates when the caller names none: admitone sells in India.
DEFAULT_REGION = "IN"
LANG_COOKIE = "lang"
LANG_QUERY = "lang"
# Enough for any real browser; a longer header is cut, never parsed in full.
_MAX_HEADER_CHARS = 512
_MAX_RANGES = 32
_RANGE = re.compile(r"^(?:\*|[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*)$")
_REGION = re.compile(r"^[A-Za-z]{2}$|^[0-9]{3}$")
_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")


@cache
def catalog(language: str) -> dict[str, Any]:
    """The strings of one language, loaded once from ``locales/<language>.json``."""
    if language not in SUPPORTED_LANGUAGES:
        raise KeyError(language)
    folder = resources.files("admitone.gateway").joinpath("locales")
    loaded: dict[str, Any] = json.loads(
        folder.joinpath(f"{language}.json").read_text(encoding="utf-8")
    )
    # Each area of the site may keep its strings in ``<language>.<area>.json`` beside it.
    for extra in sorted(folder.iterdir(), key=lambda entry: entry.name):
        if extra.name.startswith(f"{language}.") and extra.name.endswith(".json") and (
            extra.name != f"{language}.json"
        ):
            loaded.update(json.loads(extra.read_text(encoding="utf-8")))
    return loaded


def parse_accept_language(header: str | None) -> list[tuple[str, float]]:
    """Language ranges of an ``Accept-Language`` header, best first (RFC 9110 §12.5.4).

    Ranges with a bad syntax or a bad ``q`` are dropped; ``q=0`` ("not acceptable") is kept
    so that :func:`negotiate` can honour it. Equal weights keep the header's order.
    """
    if not header:
        return []
    ranges: list[tuple[str, float]] = []
    for part in header[:_MAX_HEADER_CHARS].split(",")[:_MAX_RANGES]:
        tag, *params = (piece.strip() for piece in part.split(";"))
        if not _RANGE.match(tag):
            continue
        weight = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    weight = float(value)
                except ValueError:
                    weight = -1.0
        if not 0.0 <= weight <= 1.0:
            continue
        ranges.append((tag.lower(), weight))
    ranges.sort(key=lambda item: item[1], reverse=True)
    return ranges


def _format_tag(language: str, region: str | None) -> str:
    return f"{language}-{(region or DEFAULT_REGION).upper()}"


def _region_of(tag: str) -> str | None:
    for subtag in tag.split("-")[1:]:
        if _REGION.match(subtag):
            return subtag
    return None


def negotiate(accept_language: str | None, override: str | None = None) -> Locale:
    """The page locale for a caller: ``override`` when it names a supported language, else the
    best supported language of ``accept_language``, else English.

    The region for number and date formats comes from the caller's own range for that language
    (``en-US`` groups 1,000,000; ``en-IN`` and Hindi group 10,00,000), else India.
    """
    ranges = parse_accept_language(accept_language)
    wanted = (override or "").strip().lower()
    if wanted in SUPPORTED_LANGUAGES:
        region = next((_region_of(tag) for tag, q in ranges
                       if q > 0 and tag.split("-")[0] == wanted and _region_of(tag)), None)
        return Locale(wanted, _format_tag(wanted, region))
    refused = {tag.split("-")[0] for tag, q in ranges if q == 0}
    for tag, weight in ranges:
        if weight == 0:
            continue
        language = tag.split("-")[0]
        if language == "*":
            fallback = next((lang for lang in SUPPORTED_LANGUAGES if lang not in refused),
                            DEFAULT_LANGUAGE)
            return Locale(fallback, _format_tag(fallback, None))
        if language in SUPPORTED_LANGUAGES:
            return Locale(language, _format_tag(language, _region_of(tag)))
    return Locale(DEFAULT_LANGUAGE, _format_tag(DEFAULT_LANGUAGE, None))


def locale_for(connection: ASGIConnection[Any, Any, Any, Any]) -> Locale:
    """The locale of a page request: ``?lang=``, the ``lang`` cookie, ``Accept-Language``."""
    override = connection.query_params.get(LANG_QUERY) or connection.cookies.get(LANG_COOKIE)
    return negotiate(connection.headers.get("accept-language"), override)


def group_digits(number: int, *, indian: bool) -> str:
    """``1234567`` as ``1,234,567`` or, in the Indian system, ``12,34,567``."""
    sign = "-" if number < 0 else ""
    digits = str(abs(number))
    if len(digits) <= 3:  # noqa: PLR2004 - the first group is always three digits
        return sign + digits
    head, tail = digits[:-3], digits[-3:]
    size = 2 if indian else 3
    groups: list[str] = []
    while head:
        groups.insert(0, head[-size:])
        head = head[:-size]
    return sign + ",".join([*groups, tail])


@dataclass(frozen=True)
class Locale:
    """A negotiated page locale: the language of the strings and the BCP 47 ``tag`` that numbers
    and dates are formatted for (also handed to the browser's ``Intl`` formatters)."""

    language: str
    tag: str

    @property
    def uses_indian_grouping(self) -> bool:
        return self.language == "hi" or self.tag.upper().endswith("-IN")

    def t(self, key: str, **params: object) -> str:
        """The string ``key`` with its ``{placeholders}`` filled; English if this language
        lacks it, the key itself if no language has it (a visible, harmless fallback)."""
        value = catalog(self.language).get(key)
        if not isinstance(value, str):
            value = catalog(DEFAULT_LANGUAGE).get(key)
        if not isinstance(value, str):
            return key
        return fill(value, params)

    def plural(self, key: str, count: int, **params: object) -> str:
        """``<key>.one`` or ``<key>.other`` by this language's plural rule, ``{n}`` formatted."""
        return self.t(f"{key}.{plural_category(self.language, count)}", n=self.number(count),
                      **params)

    def number(self, value: int) -> str:
        """A whole number with this locale's digit grouping."""
        return group_digits(value, indian=self.uses_indian_grouping)

    def strings(self, *prefixes: str) -> dict[str, str]:
        """Every string whose key starts with one of ``prefixes``, for a page's script."""
        return {
            key: value
            for language in (DEFAULT_LANGUAGE, self.language)
            for key, value in catalog(language).items()
            if isinstance(value, str) and key.startswith(prefixes)
        }

    def duration(self, seconds: float | None) -> str:
        """A wait as words: "less than a minute", "about 5 minutes", "about 1 hr 20 min"."""
        if seconds is None or seconds < 0:
            return self.t("eta.unknown")
        if seconds < 60:  # noqa: PLR2004 - a minute
            return self.t("eta.under_minute")
        minutes = round(seconds / 60)
        if minutes < 60:  # noqa: PLR2004 - an hour
            return self.plural("eta.minutes", minutes)
        return self.t("eta.hours_minutes", hours=self.number(minutes // 60),
                      minutes=self.number(minutes % 60))

    def datetime(self, moment: datetime, timezone: str | None = None) -> str:
        """A moment in the theater's zone, zone named: "Sat 5 Dec, 19:30 IST" in English.

        The one date format of the pages lives in ``gateway/formats.py``; this is a shortcut
        for the views that hold only a locale."""
        from admitone.gateway import formats  # noqa: PLC0415 - formats imports this module

        return formats.date_time(self, moment, timezone)


def plural_category(language: str, count: int) -> str:
    """CLDR cardinal category for whole numbers: Hindi treats 0 and 1 as "one"."""
    if language == "hi":
        return "one" if count in (0, 1) else "other"
    return "one" if count == 1 else "other"


def fill(template: str, params: dict[str, object]) -> str:
    """Replace ``{name}`` by ``params[name]``; unknown placeholders stay as written."""
    return _PLACEHOLDER.sub(lambda match: str(params.get(match.group(1), match.group(0))),
                            template)


__all__ = [
    "DEFAULT_LANGUAGE",
    "LANG_COOKIE",
    "SUPPORTED_LANGUAGES",
    "Locale",
    "catalog",
    "group_digits",
    "locale_for",
    "negotiate",
    "parse_accept_language",
]
