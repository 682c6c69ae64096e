"""The queue page's explanations as plain data (gateway/queue/view.py): the room's rules in
its own numbers, the countdown to the sale, and the question before leaving."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from admitone.gateway.i18n import Locale
from admitone.gateway.queue.view import (
    PlaceNumbers,
    RoomFacts,
    build_view,
    countdown_target,
    countdown_text,
    eta_text,
    rules_for,
    span_text,
)
from admitone.gateway.shows import ShowInfo

EN = Locale("en", "en-IN")
HI = Locale("hi", "hi-IN")
NOW = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
SHOW = ShowInfo(id="s1", title="Sholay", show_time=NOW + timedelta(days=3),
                timezone="Asia/Kolkata", theater="Regal", city="Mumbai")
FIFO = RoomFacts(phase="OPEN", queue_mode="FIFO", grace_seconds=60, session_seconds=600)


def test_a_fifo_room_explains_order_grace_and_turn_in_its_numbers() -> None:
    """By arrival; away longer than the grace loses the place; a turn lasts the session."""
    english = rules_for(EN, FIFO)
    assert english == ["Places go in order of arrival.",
                       "Away for more than 1 minute when your turn comes? Your place passes "
                       "to the next person.",
                       "Once it's your turn, you have 10 minutes to choose seats and pay."]
    assert "10 मिनट" in rules_for(HI, FIFO)[2]


def test_a_random_pre_queue_room_says_the_order_was_drawn() -> None:
    """A pre-queue room's first rule names the random order."""
    assert "random order" in rules_for(EN, RoomFacts(queue_mode="RANDOM_PREQUEUE"))[0]


def test_an_unknown_room_explains_nothing_it_cannot_back() -> None:
    """Without the room's settings (Redis down, no room) the page states no rule."""
    assert rules_for(EN, RoomFacts()) == []


def test_spans_read_as_words() -> None:
    """45 s, 90 s, a minute, ten minutes, an hour and a half."""
    assert [span_text(EN, s) for s in (45, 90, 60, 600, 5400)] == [
        "45 seconds", "90 seconds", "1 minute", "10 minutes", "1 hr 30 min"]


def test_the_countdown_reads_as_a_clock_with_days() -> None:
    """Hours, minutes, seconds; whole days in words before them."""
    assert countdown_text(EN, 3 * 3600 + 14 * 60 + 5) == "03:14:05"
    assert countdown_text(EN, 2 * 86400 + 65) == "2 days 00:01:05"
    assert countdown_text(HI, 86400) == "1 दिन 00:00:00"
    assert countdown_text(EN, -5) == "00:00:00"


def test_the_page_counts_down_to_the_sale_or_the_opening_only_before_it() -> None:
    """The pre-queue counts to startsAt, a room not open yet to opensAt; past times not."""
    later = NOW + timedelta(hours=1)
    room = RoomFacts(phase="PREQUEUE", opens_at=later, starts_at=later)
    assert countdown_target("prequeue", room, NOW) == ("queue.countdown.sale", later)
    assert countdown_target("joining", room, NOW) == ("queue.countdown.sale", later)
    assert countdown_target("not_open", room, NOW) == ("queue.countdown.opens", later)
    assert countdown_target("waiting", room, NOW) == ("", None)
    assert countdown_target("prequeue", room, later + timedelta(seconds=1)) == ("", None)


def test_the_question_before_leaving_names_the_place_and_returns_in_time() -> None:
    """The confirm page names the position at stake and refreshes back to the queue page
    within half the room's grace (never sooner than 15 s)."""
    view = build_view(EN, SHOW, "confirm_leave", numbers=PlaceNumbers(position=7), room=FIFO,
                      now=NOW)
    assert "number 7 in the queue" in view.leave_question
    assert view.heading == "Leave the queue?"
    assert view.refresh_seconds == 30
    short = build_view(EN, SHOW, "confirm_leave", room=RoomFacts(grace_seconds=20), now=NOW)
    assert short.refresh_seconds == 15
    assert "number" not in short.leave_question


def test_the_show_time_and_the_scripts_dates_use_the_theaters_zone() -> None:
    """The header's time is the one format; the script gets the zone and its name."""
    view = build_view(EN, SHOW, "waiting", room=FIFO, now=NOW)
    assert view.show_time_text == "Fri 4 Dec, 11:30 IST"
    assert '"timeZone":"Asia/Kolkata"' in view.config_json
    assert '"330":"IST"' in view.config_json


def test_the_wait_shown_is_the_rooms_estimate_before_the_bare_rate() -> None:
    """The model's estimate (whose error the room publishes) wins over fans ahead / rate; the
    rate only stands in without one; a reason means no number at all."""
    modelled = PlaceNumbers(position=41, estimated_wait_seconds=1200, observed_per_minute=120)
    assert eta_text(EN, 40, modelled) == "about 20 minutes"
    rate_only = PlaceNumbers(position=41, observed_per_minute=4)
    assert eta_text(EN, 40, rate_only) == "about 10 minutes"
    paused = PlaceNumbers(position=41, estimated_wait_reason="PAUSED", observed_per_minute=4)
    assert eta_text(EN, 40, paused) == "none while the queue is paused"
    assert eta_text(HI, 40, paused) == "कतार रुकी होने तक कोई अनुमान नहीं"
    assert eta_text(EN, None, PlaceNumbers()) == "working it out…"
