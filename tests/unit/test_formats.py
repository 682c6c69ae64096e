"""The one date format of the pages (gateway/formats.py), and the script's copy of it
(static/js/lib/dates.js) giving the same strings for the same moments."""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from admitone.gateway import formats
from admitone.gateway.catalog.view import address_text
from admitone.gateway.i18n import Locale

EN = Locale("en", "en-IN")
HI = Locale("hi", "hi-IN")
NOW = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
DATES_JS = Path(formats.__file__).parent / "static" / "js" / "lib" / "dates.js"


def test_a_moment_reads_in_the_theaters_zone_with_the_zone_named() -> None:
    """14:00 UTC on 5 Dec is "Sat 5 Dec, 19:30 IST" in Kolkata, in both languages."""
    moment = datetime(2026, 12, 5, 14, 0, tzinfo=UTC)
    assert formats.date_time(EN, moment, "Asia/Kolkata", now=NOW) == "Sat 5 Dec, 19:30 IST"
    assert formats.date_time(HI, moment, "Asia/Kolkata", now=NOW) == "शनि 5 दिसंबर, 19:30 IST"


def test_another_years_date_carries_its_year() -> None:
    """A date in another year than today's names the year."""
    moment = datetime(2027, 1, 5, 14, 0, tzinfo=UTC)
    assert formats.date_time(EN, moment, "Asia/Kolkata", now=NOW) == "Tue 5 Jan 2027, 19:30 IST"


def test_zones_without_letters_are_named_by_their_offset() -> None:
    """Dubai's tzdata name is "+04": the page says "UTC+4"; Kathmandu "UTC+5:45"; London BST."""
    moment = datetime(2026, 7, 5, 14, 0, tzinfo=UTC)
    assert formats.clock(EN, moment, "Asia/Dubai") == "18:00 UTC+4"
    assert formats.clock(EN, moment, "Asia/Kathmandu") == "19:45 UTC+5:45"
    assert formats.clock(EN, moment, "Europe/London") == "15:00 BST"
    assert formats.clock(EN, moment, "No/Such_Zone") == "14:00 UTC"


def test_day_labels_are_today_tomorrow_or_the_short_date() -> None:
    """The day picker's labels use the same day format as the full dates."""
    today = date(2026, 12, 1)
    assert formats.day_label(EN, today, today) == "Today"
    assert formats.day_label(HI, today + timedelta(days=1), today) == "कल"
    assert formats.day_label(EN, date(2026, 12, 5), today) == "Sat 5 Dec"


def test_the_address_names_its_city_once() -> None:
    """An address that already names the city is left alone; one that does not gains it."""
    assert address_text("Colaba Causeway, Mumbai 400001", "Mumbai") == (
        "Colaba Causeway, Mumbai 400001")
    assert address_text("Colaba Causeway", "Mumbai") == "Colaba Causeway, Mumbai"
    assert address_text("Navi Mumbai Road 4", "Navi Mumbai") == "Navi Mumbai Road 4"
    assert address_text("MumbaiRoad 1", "Mumbai") == "MumbaiRoad 1, Mumbai"


CASES = [
    ("2026-12-05T14:00:00Z", "Asia/Kolkata"), ("2027-01-05T14:00:00Z", "Asia/Kolkata"),
    ("2026-12-05T23:59:00Z", "Asia/Kolkata"), ("2026-07-05T14:00:00Z", "Europe/London"),
    ("2026-12-05T14:00:00Z", "Europe/London"), ("2026-07-05T14:00:00Z", "Asia/Dubai"),
    ("2026-12-05T14:00:00Z", "Asia/Kathmandu"), ("2026-12-05T14:00:00Z", "UTC"),
]


@pytest.mark.parametrize("loc", [EN, HI], ids=["en", "hi"])
def test_the_script_prints_what_the_server_prints(loc: Locale) -> None:
    """dates.js, given formats.script_dates, gives the server's string for every case."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    expected, inputs = [], []
    for iso, zone_name in CASES:
        moment = datetime.fromisoformat(iso)
        expected.append(formats.date_time(loc, moment, zone_name, now=NOW))
        inputs.append([iso, formats.script_dates(loc, zone_name, now=NOW)])
    script = (f"import({json.dumps(DATES_JS.as_uri())}).then((m) => {{"
              f"const cases = {json.dumps(inputs)};"
              f"console.log(JSON.stringify(cases.map(([iso, d]) => "
              f"m.formatDateTime(iso, d, undefined, new Date({json.dumps(NOW.isoformat())})))));"
              f"}});")
    done = subprocess.run([node, "--input-type=module", "-e", script],  # noqa: S603 - node
                          capture_output=True, text=True, check=True, timeout=30)
    assert json.loads(done.stdout) == expected
