"""Page languages: Accept-Language negotiation, string catalogs, numbers and durations."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from admitone.gateway import i18n


@pytest.mark.parametrize(
    ("header", "language", "tag"),
    [
        ("hi-IN,hi;q=0.9,en-US;q=0.8,en;q=0.7", "hi", "hi-IN"),
        ("en-US,en;q=0.9,hi-IN;q=0.8", "en", "en-US"),
        ("fr-FR,fr;q=0.9,hi-IN;q=0.8,en;q=0.5", "hi", "hi-IN"),
        ("en;q=0.5, hi-IN;q=0.9", "hi", "hi-IN"),
        ("en-GB;q=0.8, hi;q=0.8", "en", "en-GB"),
        ("HI", "hi", "hi-IN"),
        ("en", "en", "en-IN"),
        ("de-DE, *;q=0.1", "en", "en-IN"),
        ("hi;q=0, *", "en", "en-IN"),
        ("en;q=0, *", "hi", "hi-IN"),
        ("zh-Hant-TW, ja", "en", "en-IN"),
        ("", "en", "en-IN"),
        (None, "en", "en-IN"),
    ],
)
def test_negotiation_picks_the_best_supported_language(
    header: str | None, language: str, tag: str
) -> None:
    """The highest-weighted supported language wins; its region sets the number format."""
    loc = i18n.negotiate(header)
    assert (loc.language, loc.tag) == (language, tag)


@pytest.mark.parametrize(
    "header",
    ["hi;q=abc, en;q=0.2", "hi;q=2, en;q=0.2", "hi;q=-1,en;q=0.1", "<script>, en;q=0.1",
     "hi-" + "x" * 40 + ", en;q=0.1"],
)
def test_malformed_ranges_are_ignored(header: str) -> None:
    """A range with a bad weight or a bad tag is dropped, not trusted and not an error."""
    assert i18n.negotiate(header).language == "en"


def test_a_huge_header_is_cut_not_parsed_whole() -> None:
    """A header of thousands of ranges costs a bounded parse and still negotiates."""
    header = ",".join(["xx;q=0.1"] * 5000)
    assert len(i18n.parse_accept_language(header)) <= 32
    assert i18n.negotiate(header).language == "en"


def test_override_beats_accept_language_and_keeps_its_region() -> None:
    """``?lang=`` wins over the header; the header's region for that language still counts."""
    assert i18n.negotiate("en-US", "hi") == i18n.Locale("hi", "hi-IN")
    assert i18n.negotiate("hi-IN, en-US;q=0.5", "en") == i18n.Locale("en", "en-US")
    assert i18n.negotiate("hi-IN", "xx") == i18n.Locale("hi", "hi-IN")


def _placeholders(text: str) -> set[str]:
    return set(re.findall(r"\{([a-z_]+)\}", text))


def test_every_key_is_in_both_locales_with_the_same_placeholders() -> None:
    """No page string is missing in Hindi or English, and each takes the same parameters."""
    english, hindi = i18n.catalog("en"), i18n.catalog("hi")
    assert set(english) == set(hindi)
    for key, value in english.items():
        other = hindi[key]
        assert type(value) is type(other), key
        if isinstance(value, str):
            assert value.strip(), key
            assert other.strip(), key
            assert _placeholders(value) == _placeholders(other), key
        else:
            assert len(value) == len(other), key


def test_hindi_strings_are_translated() -> None:
    """Hindi page text is written in Devanagari, not left in English."""
    hindi = i18n.catalog("hi")
    for key in ("queue.heading.waiting", "queue.keep_open", "queue.position_label",
                "queue.announce.position", "eta.under_minute"):
        assert re.search("[\u0900-\u097f]", hindi[key]), key


def test_plural_keys_come_in_pairs() -> None:
    """Every ``.one`` string has its ``.other`` and back."""
    keys = set(i18n.catalog("en"))
    stems = {key.rsplit(".", 1)[0] for key in keys if key.endswith((".one", ".other"))}
    for stem in stems:
        assert {f"{stem}.one", f"{stem}.other"} <= keys


@pytest.mark.parametrize(
    ("number", "indian", "western"),
    [(0, "0", "0"), (999, "999", "999"), (1000, "1,000", "1,000"), (100000, "1,00,000", "100,000"),
     (12345678, "1,23,45,678", "12,345,678"), (-1234567, "-12,34,567", "-1,234,567")],
)
def test_digit_grouping(number: int, indian: str, western: str) -> None:
    """Indian grouping for hi and en-IN (1,00,000), thousands for other regions (100,000)."""
    assert i18n.Locale("hi", "hi-IN").number(number) == indian
    assert i18n.Locale("en", "en-IN").number(number) == indian
    assert i18n.Locale("en", "en-US").number(number) == western


def test_lookup_fills_placeholders_and_falls_back() -> None:
    """Placeholders are filled; a missing key shows itself instead of failing the page."""
    en = i18n.Locale("en", "en-IN")
    assert en.t("queue.page_title", title="Dune") == "Waiting room: Dune"
    assert en.t("no.such.key") == "no.such.key"
    assert en.t("queue.page_title") == "Waiting room: {title}"


def test_plurals_follow_each_language() -> None:
    """English says "1 person", Hindi treats 0 and 1 alike (CLDR)."""
    en, hi = i18n.Locale("en", "en-IN"), i18n.Locale("hi", "hi-IN")
    assert en.plural("queue.people_ahead", 1) == "1 person ahead of you"
    assert en.plural("queue.people_ahead", 100000) == "1,00,000 people ahead of you"
    assert hi.plural("queue.people_ahead", 1) == "आपसे आगे 1 व्यक्ति"
    assert hi.plural("queue.people_ahead", 2) == "आपसे आगे 2 लोग"
    assert i18n.plural_category("hi", 0) == "one"
    assert i18n.plural_category("en", 0) == "other"


@pytest.mark.parametrize(
    ("seconds", "english"),
    [(None, "working it out…"), (-5, "working it out…"), (0, "less than a minute"),
     (59, "less than a minute"), (60, "about 1 minute"), (150, "about 2 minutes"),
     (3599, "about 1 hr 0 min"), (3600, "about 1 hr 0 min"), (5000, "about 1 hr 23 min")],
)
def test_durations_in_words(seconds: float | None, english: str) -> None:
    """Waits read as words rounded to the minute, with hours past sixty minutes."""
    assert i18n.Locale("en", "en-IN").duration(seconds) == english


def test_show_time_is_local_to_the_theater() -> None:
    """A show time prints in the theater's zone, in the page language."""
    moment = datetime(2026, 3, 14, 14, 0, tzinfo=UTC)
    this_year = datetime.now(UTC).year == 2026  # another year is printed
    year = "" if this_year else " 2026"
    assert i18n.Locale("en", "en-IN").datetime(moment, "Asia/Kolkata") == (
        f"Sat 14 Mar{year}, 19:30 IST")
    assert i18n.Locale("hi", "hi-IN").datetime(moment, "Asia/Kolkata") == (
        f"शनि 14 मार्च{year}, 19:30 IST"
    )
    assert i18n.Locale("en", "en-IN").datetime(moment, "Not/AZone") == (
        f"Sat 14 Mar{year}, 14:00 UTC")
