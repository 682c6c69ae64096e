"""The browse pages' day: with no day asked for and nothing today, the next day with shows,
said on the page; one date format, in the theater's zone with the zone named."""

from __future__ import annotations

import html
import re
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from admitone.gateway import formats
from admitone.runtime import Services
from tests.conftest import MakeShow


@pytest.fixture(autouse=True)
def no_language_cookie(client: httpx.AsyncClient) -> None:
    """Each test starts without the ``lang`` cookie another test's switch left in the jar."""
    client.cookies.clear()


def _text(response: httpx.Response) -> str:
    return html.unescape(response.text)


def _city() -> str:
    return f"Daypur {uuid.uuid4().hex[:6]}"


def _local_day(days: int) -> str:
    """The day `days` from now in the test theaters' zone."""
    return formats.today_in("UTC", datetime.now(UTC) + timedelta(days=days)).isoformat()


async def test_home_page_falls_back_to_the_next_day_with_shows_and_says_so(
    client: httpx.AsyncClient, make_show: MakeShow, services: Services
) -> None:
    """No show today in the city: the page lists the next day's movies, that day selected, and
    a notice names the day instead of "0 movies · Today"."""
    city = _city()
    show = await make_show(city=city, starts_in=timedelta(days=3))
    services.catalog.forget_cities()
    response = await client.get("/", params={"city": city})
    text = _text(response)
    assert response.status_code == 200
    assert f"/movies/{show.movie_id}" in text
    day = _local_day(3)
    assert f'<option value="{day}" selected>' in text
    assert 'id="day-notice"' in text
    assert "no shows today" in text
    assert "0 movies" not in text


async def test_a_chosen_day_without_shows_stays_chosen(
    client: httpx.AsyncClient, make_show: MakeShow, services: Services
) -> None:
    """A fan who picked today explicitly sees today (empty), not another day."""
    city = _city()
    await make_show(city=city, starts_in=timedelta(days=3))
    services.catalog.forget_cities()
    response = await client.get("/", params={"city": city, "date": _local_day(0)})
    assert "0 movies" in _text(response)
    assert 'id="day-notice"' not in response.text


async def test_movie_page_falls_back_to_the_movies_next_day(
    client: httpx.AsyncClient, make_show: MakeShow, services: Services
) -> None:
    """The movie's page with no day shows its next day with shows, and says so, in Hindi too."""
    city = _city()
    show = await make_show(city=city, starts_in=timedelta(days=4))
    services.catalog.forget_cities()
    english = _text(await client.get(f"/movies/{show.movie_id}", params={"city": city}))
    assert f"/shows/{show.id}/queue" in english
    assert 'id="day-notice"' in english
    hindi = _text(await client.get(f"/movies/{show.movie_id}",
                                   params={"city": city, "lang": "hi"}))
    assert "आज कोई शो नहीं है" in hindi
    assert f"/shows/{show.id}/queue" in hindi


async def test_movie_page_names_the_city_once_and_the_zone_of_each_time(
    client: httpx.AsyncClient, make_show: MakeShow, services: Services
) -> None:
    """The theater's address gains its city only when it lacks it; each time names the
    theater's zone (the test theaters keep the default, UTC)."""
    city = _city()
    show = await make_show(city=city, starts_in=timedelta(days=1))
    services.catalog.forget_cities()
    text = _text(await client.get(f"/movies/{show.movie_id}",
                                  params={"city": city, "date": "any"}))
    assert text.count(f"1 Test Road, {city}") == 1
    assert re.search(r">\d{2}:\d{2} UTC<", text)


async def test_queue_page_prints_the_show_time_in_the_one_format(
    client: httpx.AsyncClient, make_show: MakeShow
) -> None:
    """The queue page's show time is the formatter's, the theater's zone named."""
    show = await make_show(starts_in=timedelta(days=2))
    response = await client.get(f"/shows/{show.id}/queue")
    assert re.search(r">\w{3} \d{1,2} \w{3}(?: \d{4})?, \d{2}:\d{2} UTC<", _text(response))
