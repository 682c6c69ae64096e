"""The browse, booking and help pages over HTTP: HTML in the fan's language, search, a movie's
shows and where they lead, friendly 404s for browsers, the cancellation preview."""

from __future__ import annotations

import html
import re
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import httpx
import pytest
from litestar.datastructures import MultiDict

from admitone.gateway import formats, i18n
from admitone.gateway.catalog.view import read_filters
from admitone.runtime import Services
from tests.conftest import MakeShow, bearer
from tests.integration.booking_support import confirmed_booking
from tests.integration.queue_support import put_room

HINDI = {"Accept-Language": "hi-IN,hi;q=0.9,en;q=0.5"}
BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


@pytest.fixture(autouse=True)
def no_language_cookie(client: httpx.AsyncClient) -> None:
    """Each test starts without the ``lang`` cookie another test's switch left in the jar."""
    client.cookies.clear()


def _is_html(response: httpx.Response) -> bool:
    return response.headers["content-type"].startswith("text/html")


def _lang(response: httpx.Response) -> str:
    found = re.search(r'<html lang="([a-z]+)"', response.text)
    assert found, response.text[:200]
    return found.group(1)


def _text(response: httpx.Response) -> str:
    return html.unescape(response.text)


def _day_of(show_time_from_now: timedelta) -> str:
    return (datetime.now(UTC) + show_time_from_now).date().isoformat()


# Each page in each language --------------------------------------------------------------


@pytest.mark.parametrize("path", ["/", "/my-booking", "/tickets", "/help/lock-expired",
                                  f"/bookings/{uuid.uuid4()}"])
async def test_pages_render_in_hindi_for_a_hindi_browser(client: httpx.AsyncClient,
                                                         path: str) -> None:
    """Every page answers 200 HTML in Hindi when the browser prefers Hindi."""
    response = await client.get(path, headers={**HINDI, **BROWSER})
    assert response.status_code == 200, response.text
    assert _is_html(response)
    assert _lang(response) == "hi"
    assert "फ़िल्में" in response.text  # the site navigation, in Hindi


@pytest.mark.parametrize("path", ["/", "/my-booking", "/tickets", "/help/payment-failed"])
async def test_pages_render_in_english_by_default(client: httpx.AsyncClient, path: str) -> None:
    """Without a language preference the pages are in English."""
    response = await client.get(path)
    assert response.status_code == 200
    assert _lang(response) == "en"
    assert "Find a booking" in response.text


async def test_language_switch_sets_the_cookie(client: httpx.AsyncClient) -> None:
    """``?lang=hi`` renders Hindi over an English Accept-Language and keeps it in a cookie."""
    response = await client.get("/?lang=hi", headers={"Accept-Language": "en-US"})
    assert _lang(response) == "hi"
    assert "lang=hi" in response.headers.get("set-cookie", "")


async def test_movie_page_renders_in_hindi(client: httpx.AsyncClient, make_show: MakeShow) -> None:
    """A movie's page is in Hindi too, prices with the rupee sign and Indian grouping."""
    show = await make_show(base_price="1200.00", starts_in=timedelta(days=2))
    response = await client.get(f"/movies/{show.movie_id}?date=any", headers=HINDI)
    assert response.status_code == 200
    assert _lang(response) == "hi"
    assert "₹1,200 से" in response.text


# Browse and search -------------------------------------------------------------------------


async def test_search_finds_a_movie_by_a_title_prefix(client: httpx.AsyncClient,
                                                      make_show: MakeShow) -> None:
    """A title prefix finds the movie (full-text, prefix match); other titles are left out."""
    wanted = await make_show(title=f"Zephyrine Nights {uuid.uuid4().hex[:4]}")
    other = await make_show(title=f"Quiet Harbour {uuid.uuid4().hex[:4]}")
    response = await client.get("/", params={"q": "zephyr", "date": "any"})
    assert response.status_code == 200
    assert f"/movies/{wanted.movie_id}" in response.text
    assert f"/movies/{other.movie_id}" not in response.text
    assert "Zephyrine Nights" in response.text


async def test_browse_shows_today_unless_a_day_is_chosen(client: httpx.AsyncClient,
                                                         make_show: MakeShow) -> None:
    """By default only today's movies are listed; choosing the show's day lists it."""
    later = timedelta(days=3)
    show = await make_show(title=f"Distant Day {uuid.uuid4().hex[:6]}", starts_in=later)
    today = await client.get("/", params={"q": "distant"})
    assert f"/movies/{show.movie_id}" not in today.text
    assert "Show every day" in today.text  # the empty state offers a way out
    that_day = await client.get("/", params={"q": "distant", "date": _day_of(later)})
    assert f"/movies/{show.movie_id}" in that_day.text


async def test_browse_filters_by_city(client: httpx.AsyncClient, make_show: MakeShow,
                                      services: Services) -> None:
    """A movie showing only in Pune is not listed for Mumbai, and is for Pune."""
    show = await make_show(city="Pune", title=f"Deccan Story {uuid.uuid4().hex[:6]}")
    services.catalog.forget_cities()  # the picker's cities cache predates Pune
    mumbai = await client.get("/", params={"city": "Mumbai", "date": "any", "q": "deccan"})
    pune = await client.get("/", params={"city": "pune", "date": "any", "q": "deccan"})
    assert f"/movies/{show.movie_id}" not in mumbai.text
    assert f"/movies/{show.movie_id}" in pune.text
    assert '<option value="Pune" selected>' in pune.text  # the city as the catalog spells it


async def test_browse_survives_bad_query_values(client: httpx.AsyncClient) -> None:
    """Nonsense filters fall back to the defaults: a page, never a 4xx or 500."""
    response = await client.get("/", params={"date": "31-02-2025", "city": "x" * 500,
                                             "q": "@@@ ''' <script>"})
    assert response.status_code == 200
    assert "<script>" not in response.text.split("</form>")[0].split('name="q"')[1][:200]


# A movie's shows -----------------------------------------------------------------------------


async def test_movie_page_lists_its_shows_by_theater(client: httpx.AsyncClient,
                                                     make_show: MakeShow) -> None:
    """The movie's page names the theater and links each show, time on a 24-hour clock with
    the theater's zone named."""
    show = await make_show(starts_in=timedelta(days=1))
    response = await client.get(f"/movies/{show.movie_id}", params={"date": "any"})
    assert response.status_code == 200
    text = _text(response)
    assert "Test Theater" in text
    assert f"/shows/{show.id}/" in text
    assert re.search(r"\b\d{2}:\d{2} UTC\b", text)  # the test theaters keep UTC
    assert "₹200" in text


async def test_every_show_links_to_its_queue_page(
    client: httpx.AsyncClient, make_show: MakeShow
) -> None:
    """Shows lead to their queue page, the one door to the booking core: with an enabled room
    the fan waits there (and the listing says so); without one, joining admits at once."""
    queued = await make_show(starts_in=timedelta(days=1))
    await put_room(client, queued.id, enabled=True)
    response = await client.get(f"/movies/{queued.movie_id}", params={"date": "any"})
    assert f'href="/shows/{queued.id}/queue"' in response.text
    assert "show-time__queue" in response.text
    plain = await make_show(starts_in=timedelta(days=1))
    response = await client.get(f"/movies/{plain.movie_id}", params={"date": "any"})
    assert f'href="/shows/{plain.id}/queue"' in response.text
    assert "show-time__queue" not in response.text


# Friendly 404s ---------------------------------------------------------------------------


@pytest.mark.parametrize("path", [f"/movies/{uuid.uuid4()}", "/movies/not-a-uuid",
                                  "/bookings/not-a-uuid", "/help/no-such-problem",
                                  "/no/such/page"])
async def test_unknown_pages_are_friendly_html_404s(client: httpx.AsyncClient, path: str) -> None:
    """A browser asking for something that does not exist gets a 404 page, not JSON."""
    response = await client.get(path, headers={**BROWSER, **HINDI})
    assert response.status_code == 404
    assert _is_html(response)
    assert _lang(response) == "hi"
    assert "यह पेज नहीं मिला" in response.text


async def test_unknown_routes_stay_json_for_api_callers(client: httpx.AsyncClient) -> None:
    """API paths, and callers that do not ask for HTML, still get problem+json 404s."""
    api = await client.get("/api/v1/no-such-thing", headers=BROWSER)
    assert api.status_code == 404
    assert api.headers["content-type"].startswith("application/problem+json")
    plain = await client.get("/no/such/page", headers={"Accept": "application/json"})
    assert plain.status_code == 404
    assert plain.json()["error"] == "NOT_FOUND"
    movie = await client.get(f"/api/v1/movies/{uuid.uuid4()}/shows", headers=BROWSER)
    assert movie.status_code == 404
    assert movie.headers["content-type"].startswith("application/problem+json")


# Failure pages ---------------------------------------------------------------------------


@pytest.mark.parametrize("problem", ["lock-expired", "payment-failed", "payment-pending",
                                     "sold-out", "queue-paused", "token-expired"])
async def test_failure_pages_say_what_happened_and_what_to_do(client: httpx.AsyncClient,
                                                              problem: str) -> None:
    """Each failure page renders in both languages with steps and a way forward."""
    show_id = str(uuid.uuid4())
    for headers in ({}, HINDI):
        response = await client.get(f"/help/{problem}", params={"show": show_id},
                                    headers=headers)
        assert response.status_code == 200
        assert '<ol class="problem__steps">' in response.text
        assert 'class="button button--primary"' in response.text
    english = await client.get(f"/help/{problem}", params={"show": show_id})
    assert "What you can do" in english.text


async def test_failure_pages_lead_back_to_the_show(client: httpx.AsyncClient) -> None:
    """With ``?show=`` the way forward is that show's seats or queue; a bad id is ignored."""
    show_id = str(uuid.uuid4())
    expired = await client.get("/help/lock-expired", params={"show": show_id})
    assert f'href="/shows/{show_id}/seats"' in expired.text
    token = await client.get("/help/token-expired", params={"show": show_id})
    assert f'href="/shows/{show_id}/queue"' in token.text
    bad = await client.get("/help/token-expired", params={"show": "../../admin"})
    assert "/shows/" not in bad.text
    assert 'href="/"' in bad.text


# Booking pages and the cancellation preview ------------------------------------------------


async def test_booking_page_is_a_shell_that_reveals_nothing(client: httpx.AsyncClient,
                                                            make_show: MakeShow,
                                                            services: Services,
                                                            access_token: Callable[..., str],
                                                            ) -> None:
    """The confirmation page renders for any booking id without a token and shows no data of
    the booking itself (the script reads it with the fan's token)."""
    show = await make_show(starts_in=timedelta(days=3))
    booking = await confirmed_booking(client, services, show, access_token)
    response = await client.get(f"/bookings/{booking.id}")
    assert response.status_code == 200
    assert booking.reference not in response.text
    assert f'data-booking-id="{booking.id}"' in response.text
    assert 'rel="manifest"' in response.text


async def test_service_worker_and_manifest_are_served(client: httpx.AsyncClient) -> None:
    """``/sw.js`` is JavaScript from the root (scope: every page); the manifest is served."""
    worker = await client.get("/sw.js")
    assert worker.status_code == 200
    assert worker.headers["content-type"].startswith("text/javascript")
    assert "keep-offline" in worker.text
    manifest = await client.get("/static/manifest.webmanifest")
    assert manifest.status_code == 200
    assert manifest.json()["start_url"] == "/tickets"


async def test_pages_link_static_files_under_the_folder_hash(client: httpx.AsyncClient) -> None:
    """Every script and sheet a page links lives under ``/static/<hash of the folder>/``, served
    with a year's immutable cache; a module an entry script imports (relative) resolves there too,
    so a deploy never mixes a new entry script with stale imports."""
    page = await client.get("/tickets")
    links = re.findall(r'(?:src|href)="(/static/[^"]+)"', page.text)
    assert links
    hashes = {link.split("/")[2] for link in links}
    assert len(hashes) == 1
    (folder_hash,) = hashes
    assert re.fullmatch(r"[0-9a-f]{12}", folder_hash)
    entry = next(link for link in links if link.endswith(".js"))
    script = await client.get(entry)
    assert script.status_code == 200
    cache = script.headers["cache-control"]
    assert "immutable" in cache
    assert "max-age=31536000" in cache
    imported = re.search(r'from "\./([\w-]+\.js)"', script.text)
    assert imported is not None
    module = await client.get(f"/static/{folder_hash}/js/{imported.group(1)}")
    assert module.status_code == 200
    assert "immutable" in module.headers["cache-control"]


@pytest.mark.parametrize(("starts_in", "allowed", "percent", "refund"), [
    (timedelta(days=3), True, 100, "400.00"),
    (timedelta(hours=10), True, 50, "200.00"),
    (timedelta(hours=1), False, 0, "0.00"),
])
async def test_cancellation_preview_follows_the_policy(
    client: httpx.AsyncClient, make_show: MakeShow, services: Services,
    access_token: Callable[..., str], starts_in: timedelta, allowed: bool, percent: int,
    refund: str,
) -> None:
    """The preview gives the policy's refund for the time left before the show."""
    show = await make_show(starts_in=starts_in)
    booking = await confirmed_booking(client, services, show, access_token)
    response = await client.get(f"/api/v1/bookings/{booking.id}/cancellation",
                                headers=bearer(booking.token))
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["allowed"], body["percent"], body["refundAmount"]) == (allowed, percent, refund)
    assert body["reason"] == ("ALLOWED" if allowed else "WINDOW_CLOSED")
    assert body["currency"] == "INR"


async def test_cancellation_preview_matches_the_refund_of_the_cancel(
    client: httpx.AsyncClient, make_show: MakeShow, services: Services,
    access_token: Callable[..., str],
) -> None:
    """What the preview promises is what cancelling with a booking token refunds; afterwards
    the preview says the booking is already cancelled."""
    show = await make_show(starts_in=timedelta(hours=10))
    booking = await confirmed_booking(client, services, show, access_token)
    found = await client.post("/api/v1/bookings/lookup",
                              json={"reference": booking.reference, "email": booking.email})
    token = found.json()["bookingToken"]
    preview = await client.get(f"/api/v1/bookings/{booking.id}/cancellation",
                               headers=bearer(token))
    cancel = await client.delete(f"/api/v1/bookings/{booking.id}", headers=bearer(token))
    assert cancel.status_code == 200, cancel.text
    assert cancel.json()["refundAmount"] == preview.json()["refundAmount"]
    after = await client.get(f"/api/v1/bookings/{booking.id}/cancellation", headers=bearer(token))
    assert (after.json()["allowed"], after.json()["reason"]) == (False, "ALREADY_CANCELLED")


async def test_cancellation_preview_is_only_for_the_booking_owner(
    client: httpx.AsyncClient, make_show: MakeShow, services: Services,
    access_token: Callable[..., str],
) -> None:
    """Another visitor gets 404 and no token gets 401, as for the booking itself."""
    show = await make_show()
    booking = await confirmed_booking(client, services, show, access_token)
    other = await client.get(f"/api/v1/bookings/{booking.id}/cancellation",
                             headers=bearer(access_token(show.id)))
    assert other.status_code == 404
    assert other.json()["error"] == "BOOKING_NOT_FOUND"
    anonymous = await client.get(f"/api/v1/bookings/{booking.id}/cancellation")
    assert anonymous.status_code == 401


# Formatting and filters (pure) ---------------------------------------------------------------


def test_prices_use_the_rupee_sign_and_the_locale_grouping() -> None:
    """₹1,200 in en-IN; ₹12,34,567.50 with Indian grouping; 1,234,567 for en-US."""
    en_in = i18n.negotiate("en-IN")
    assert formats.money(en_in, Decimal("1200.00"), "INR") == "₹1,200"
    assert formats.money(en_in, Decimal("1234567.5"), "INR") == "₹12,34,567.50"
    assert formats.money(i18n.negotiate("en-US"), Decimal("1234567"), "USD") == "$1,234,567"
    assert formats.money(en_in, Decimal("5"), "CHF") == "CHF 5"


def test_show_times_use_a_24_hour_clock_in_the_theater_zone_named() -> None:
    """19:30 in Kolkata is "19:30 IST" in both languages; an unknown zone is named UTC."""
    moment = datetime(2026, 3, 14, 14, 0, tzinfo=UTC)  # 19:30 IST
    assert formats.clock(i18n.negotiate("en-IN"), moment, "Asia/Kolkata") == "19:30 IST"
    assert formats.clock(i18n.negotiate("hi"), moment, "Asia/Kolkata") == "19:30 IST"
    assert formats.clock(i18n.negotiate("en"), moment, "No/Such_Zone") == "14:00 UTC"


def test_default_day_is_today_in_the_city_time_zone() -> None:
    """At 20:00 UTC it is already tomorrow in Kolkata: a Mumbai fan's default day is that."""
    now = datetime(2026, 3, 14, 20, 0, tzinfo=UTC)
    cities = [("London", "Europe/London"), ("Mumbai", "Asia/Kolkata")]
    mumbai = read_filters(MultiDict({"city": "mumbai"}), cities, now=now)
    london = read_filters(MultiDict({"city": "London"}), cities, now=now)
    assert (mumbai.city, mumbai.day) == ("Mumbai", date(2026, 3, 15))
    assert london.day == date(2026, 3, 14)
    anyday = read_filters(MultiDict({"date": "any", "city": " Atlantis "}), cities, now=now)
    assert (anyday.city, anyday.day) == ("Atlantis", None)
    everywhere = read_filters(MultiDict({"date": "2026-03-20"}), cities, now=now)
    assert (everywhere.city, everywhere.day) == (None, date(2026, 3, 20))


# My booking without JavaScript -----------------------------------------------------------------


async def test_lookup_form_shows_the_booking_and_its_refund(
    client: httpx.AsyncClient, make_show: MakeShow, services: Services,
    access_token: Callable[..., str],
) -> None:
    """Posting reference and e-mail renders the booking and the refund cancelling would give."""
    show = await make_show(starts_in=timedelta(days=3))
    booking = await confirmed_booking(client, services, show, access_token)
    response = await client.post("/my-booking", data={"reference": booking.reference.lower(),
                                                      "email": booking.email})
    assert response.status_code == 200, response.text
    text = _text(response)
    assert booking.reference in text
    assert "If you cancel now, you get back ₹400 (100% of ₹400)." in text
    assert 'action="/my-booking/cancel"' in text


async def test_lookup_form_explains_what_is_wrong(client: httpx.AsyncClient) -> None:
    """Missing fields are named (422); an unknown booking gets the not-found message (404)."""
    empty = await client.post("/my-booking", data={"reference": "", "email": "not-an-email"},
                              headers=HINDI)
    assert empty.status_code == 422
    assert 'aria-invalid="true"' in empty.text
    assert "अपना बुकिंग रेफ़रेंस लिखें।" in empty.text
    unknown = await client.post("/my-booking", data={"reference": "ZZZZZZZZZZ",
                                                     "email": "nobody@example.com"})
    assert unknown.status_code == 404
    assert "No booking matches that reference" in _text(unknown)


async def test_cancel_form_needs_the_confirmation_tick(
    client: httpx.AsyncClient, make_show: MakeShow, services: Services,
    access_token: Callable[..., str],
) -> None:
    """Without the tick nothing is cancelled; with it the booking is cancelled and the page
    says how much comes back."""
    show = await make_show(starts_in=timedelta(hours=10))
    booking = await confirmed_booking(client, services, show, access_token)
    form = {"reference": booking.reference, "email": booking.email}
    unticked = await client.post("/my-booking/cancel", data=form)
    assert unticked.status_code == 422
    after = await client.get(f"/api/v1/bookings/{booking.id}", headers=bearer(booking.token))
    assert after.json()["status"] == "CONFIRMED"
    ticked = await client.post("/my-booking/cancel", data={**form, "confirm": "yes"})
    assert ticked.status_code == 200, ticked.text
    assert "is cancelled. ₹200 is on its way back" in _text(ticked)
    after = await client.get(f"/api/v1/bookings/{booking.id}", headers=bearer(booking.token))
    assert after.json()["status"] == "CANCELLED"
