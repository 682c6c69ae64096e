"""The operator console's pure parts: sessions and form tokens, the seat-layout CSV, the live
view's arithmetic (quantiles, rate steps, the sliding minute), charts, funnel and audit rows."""

from __future__ import annotations

import math
import time
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from admitone.booking_core.backoffice import AuditEntry, ShowSales
from admitone.booking_core.layout_csv import LayoutCsvError, parse_layout_csv
from admitone.booking_core.live_stats import (
    LATENCY_BOUNDS_MS,
    MinuteFigures,
    latency_bucket,
    quantile_ms,
)
from admitone.gateway import i18n
from admitone.gateway.operator import session as sessions
from admitone.gateway.operator import view
from admitone.gateway.operator.charts import ChartText, bar_chart, line_path, nice_ceiling

EN = i18n.Locale("en", "en-IN")
TOKEN = "operator-token-for-unit-tests"


def test_a_session_reads_back_until_it_expires() -> None:
    """A signed session reads back as itself, and not after its expiry."""
    found = sessions.new_session("Asia/Kolkata", now=1_000_000)
    value = sessions.sign_session(TOKEN, found)
    assert sessions.read_session(TOKEN, value, now=1_000_001) == found
    assert sessions.read_session(TOKEN, value, now=found.exp) is None


@pytest.mark.parametrize("value", ["", "x", "a.b", "a.b.c", "%%%.%%%"])
def test_malformed_cookies_read_as_no_session(value: str) -> None:
    """Anything that is not a signed session is no session (never an exception)."""
    assert sessions.read_session(TOKEN, value) is None


def test_another_operator_token_invalidates_sessions_and_form_tokens() -> None:
    """Signatures are bound to the operator token: a rotated token refuses both."""
    found = sessions.new_session("UTC")
    form = sessions.form_token(TOKEN, found)
    assert sessions.form_token_valid(TOKEN, found, form)
    assert sessions.read_session("rotated", sessions.sign_session(TOKEN, found)) is None
    assert not sessions.form_token_valid("rotated", found, form)


def test_a_form_token_belongs_to_its_session() -> None:
    """A form token of one session is not valid in another."""
    one, two = sessions.new_session("UTC"), sessions.new_session("UTC")
    assert not sessions.form_token_valid(TOKEN, two, sessions.form_token(TOKEN, one))


def test_a_layout_csv_gives_its_seats_in_order() -> None:
    """Header and blank lines are skipped; rows and types are upper-cased."""
    seats = parse_layout_csv("row,seat,type,multiplier\n\na,1,regular,1\nB,12,VIP,2.50\n")
    assert [(s.seat_id, s.seat_type, s.multiplier) for s in seats] == [
        ("A1", "REGULAR", Decimal(1)), ("B12", "VIP", Decimal("2.50"))]


@pytest.mark.parametrize(("text", "line", "words"), [
    ("A,1,REGULAR,1.00\nA,1,VIP,2\n", 2, "already on line 1"),
    ("A,1,REGULAR\n", 1, "expected 4 values"),
    ("A,1,REGULAR,1\n1A,2,REGULAR,1\n", 2, "row"),
    ("A,0,REGULAR,1\n", 1, "seat"),
    ("A,1,REGULAR,abc\n", 1, "not a number"),
    ("A,1,REGULAR,100\n", 1, "0.01 to 99"),
    ("A,1,REG ULAR,1\n", 1, "type"),
    ("row,seat,type,multiplier\n", 1, "no seats"),
])
def test_a_bad_layout_csv_names_its_line(text: str, line: int, words: str) -> None:
    """The first bad line is named with what is wrong with it."""
    with pytest.raises(LayoutCsvError) as caught:
        parse_layout_csv(text)
    assert caught.value.line == line
    assert words in str(caught.value)
    assert str(caught.value).startswith(f"Line {line}:")


@given(st.lists(st.floats(min_value=0, max_value=20), min_size=1, max_size=200))
def test_bucketed_quantiles_are_the_bucket_of_the_true_quantile(seconds: list[float]) -> None:
    """p50 / p99 from the buckets are the upper bound of the bucket the exact quantile is in:
    never below it, off by at most one bucket's width."""
    buckets: dict[int, int] = {}
    for value in seconds:
        bucket = latency_bucket(value)
        buckets[bucket] = buckets.get(bucket, 0) + 1
    for q in (0.5, 0.99):
        exact = sorted(seconds)[math.ceil(q * len(seconds)) - 1]
        index = latency_bucket(exact)
        bound = (LATENCY_BOUNDS_MS[index] if index < len(LATENCY_BOUNDS_MS)
                 else LATENCY_BOUNDS_MS[-1] * 2)
        assert quantile_ms(buckets, q) == bound


def test_no_samples_have_no_quantile() -> None:
    """An empty histogram has no p50."""
    assert quantile_ms({}, 0.5) is None


@pytest.mark.parametrize(("rate", "step", "expected"), [
    (60, "-10%", 54), (60, "+10%", 66), (60, "x2", 120), (60, "/2", 30), (1, "/2", 1),
    (1, "-10%", 1), (3, "+10%", 4), (1, "x2", 2),
])
def test_rate_steps(rate: int, step: str, expected: int) -> None:
    """Quick steps scale the rate, always move a small one up, never go below 1."""
    assert view.stepped_rate(rate, step) == expected


def test_the_last_minute_blends_the_minute_before() -> None:
    """30 s into a minute, the last 60 s are this minute plus half of the one before."""
    minutes = [MinuteFigures(10, counters={"admitted": 100}),
               MinuteFigures(11, counters={"admitted": 20})]
    assert view._last_minute(minutes, "admitted", now=11 * 60 + 30) == 70


def test_nice_ceilings() -> None:
    """Chart tops are 1, 2 or 5 times a power of ten."""
    assert [nice_ceiling(v) for v in (0, 1, 3, 7, 60, 101, 600, 2500)] == [
        1, 1, 5, 10, 100, 200, 1000, 5000]


def test_a_line_runs_across_the_plot_from_left_to_right() -> None:
    """The first point is at the plot's left edge, the last at its right, 0 on the axis."""
    path = line_path([0, 5, 10], 10)
    assert path.startswith("M40.0 172.0")
    assert path.endswith("L410.0 12.0")


def test_the_admissions_chart_draws_the_rate_and_escapes_its_words() -> None:
    """Bars for counts, a dashed rate line naming its latest value, words escaped."""
    words = ChartText(title="<b>", description="a & b", x_start="30", x_middle="15",
                      x_end="now")
    svg = str(bar_chart("admissions", [0, 3, 9], words, target=[5, 5, 10]))
    assert 'data-chart="admissions"' in svg
    assert svg.count('class="chart__bar"') == 2
    assert 'data-series="rate" data-last="10"' in svg
    assert "&lt;b&gt;" in svg
    assert "a &amp; b" in svg


def test_the_live_view_has_every_contract_figure() -> None:
    """Without a room the crowd figures are zero; seats and sales come from the database."""
    sales = ShowSales(seats_available=18, seats_locked=1, seats_booked=1, bookings=1, pending=0,
                      revenue=Decimal("250"))
    live = view.live_view(EN, None, sales, [MinuteFigures(1)], now=time.time())
    for name in ("waiting", "active", "admittedLastMinute", "releaseRatePerMinute", "maxActive",
                 "abandoned", "seatsAvailable", "seatsLocked", "seatsBooked", "bookings",
                 "revenue"):
        assert name in live.metrics
    assert live.metrics["revenue"] == "250.00"
    assert set(live.charts) == {"queue", "admissions", "sales"}


def test_funnel_conversion_and_abandonment() -> None:
    """Each step converts from the one before; who stopped is the difference."""
    steps = view.funnel_steps(EN, {"joined": 10, "admitted": 8, "seat_map_viewed": 8,
                                   "locked": 4, "checkout": 4, "paid": 3, "confirmed": 3})
    assert [(s.step, s.visitors, s.conversion, s.abandoned) for s in steps[:4]] == [
        ("joined", 10, "", 0), ("admitted", 8, "80.0", 2), ("seat_map_viewed", 8, "100.0", 0),
        ("locked", 4, "50.0", 4)]
    assert view.funnel_csv(steps).splitlines()[1] == "joined,10,,0,"


def test_a_room_change_is_one_audit_row_per_field_in_the_operator_zone() -> None:
    """A patch of two fields is two rows with old → new; times are in the operator's zone."""
    entry = AuditEntry(id=1, at=datetime(2026, 12, 1, 18, 30, tzinfo=UTC), actor="operator:x",
                       entity="waiting_room", entity_id="s1", action="WAITING_ROOM_CHANGED",
                       data={"changes": {"release_rate_per_minute": 120, "paused": True},
                             "before": {"release_rate_per_minute": 60, "paused": False}})
    rows = view.audit_rows([entry], "Asia/Kolkata")
    assert [(r.field, r.old, r.new) for r in rows] == [
        ("releaseRatePerMinute", "60", "120"), ("paused", "false", "true")]
    assert rows[0].at == "2026-12-02 00:00:00 IST"


def test_local_times_read_and_write_in_the_operator_zone() -> None:
    """A datetime-local value is read in the operator's zone and written back the same."""
    moment = view.parse_local("2026-12-02T19:30", "Asia/Kolkata")
    assert moment == datetime(2026, 12, 2, 14, 0, tzinfo=UTC)
    assert view.local_input(moment, "Asia/Kolkata") == "2026-12-02T19:30"
    assert view.parse_local("", "UTC") is None
    with pytest.raises(ValueError):  # noqa: PT011 - fromisoformat's own error
        view.parse_local("tomorrow", "UTC")
