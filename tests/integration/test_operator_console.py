"""The operator console from outside (CONTRACT.md "Operator console"): sign-in and sessions,
form tokens, set-up forms, controls and their audit, the operator seat map."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from litestar import Litestar
from redis.asyncio import Redis

from admitone.gateway.operator import session as sessions
from admitone.runtime import Services
from tests.conftest import OPERATOR_TOKEN, MakeShow, bearer, seat_states
from tests.integration.console_support import console_client, form_token, post_form, sign_in
from tests.integration.queue_support import put_room

SHOW = "00000000-0000-4000-8000-000000000001"
PAGES = ["/admin", "/admin/audit", f"/admin/audit?show={SHOW}", "/admin/movies/new",
         "/admin/theaters/new", "/admin/screens/new", "/admin/shows/new", f"/admin/shows/{SHOW}",
         f"/admin/shows/{SHOW}/live", f"/admin/shows/{SHOW}/waiting-room",
         f"/admin/shows/{SHOW}/seats", f"/admin/shows/{SHOW}/funnel",
         f"/admin/shows/{SHOW}/funnel.csv"]
FORMS = ["/admin/logout", "/admin/movies/new", "/admin/theaters/new", "/admin/screens/new",
         "/admin/shows/new", f"/admin/shows/{SHOW}/waiting-room",
         *(f"/admin/shows/{SHOW}/controls/{c}" for c in ("rate", "maxActive", "pause", "resume",
                                                         "end")),
         f"/admin/shows/{SHOW}/locks/{uuid.uuid4()}/release"]


async def room_rate(client: httpx.AsyncClient, show_id: str, operator: dict[str, str]) -> int:
    response = await client.get(f"/api/v1/admin/shows/{show_id}/waiting-room", headers=operator)
    rate: int = response.json()["releaseRatePerMinute"]
    return rate


# Sessions --------------------------------------------------------------------------------


@pytest.mark.parametrize("path", PAGES)
async def test_every_page_redirects_to_sign_in_without_a_session(app: Litestar, path: str
                                                                 ) -> None:
    """Without the session cookie every console page answers 303 to /admin/login."""
    async with console_client(app) as http:
        response = await http.get(path)
    assert response.status_code == 303
    assert response.headers["location"] == "/admin/login"


@pytest.mark.parametrize("path", FORMS)
async def test_every_form_redirects_to_sign_in_without_a_session(app: Litestar, path: str
                                                                 ) -> None:
    """Without the session cookie every console form post answers 303 to /admin/login."""
    async with console_client(app) as http:
        response = await http.post(path, data={"csrfToken": "x.y", "confirmed": "yes"})
    assert response.status_code == 303
    assert response.headers["location"] == "/admin/login"


async def test_a_wrong_token_shows_the_form_again_with_an_error(app: Litestar) -> None:
    """A wrong operator token sets no cookie and answers the sign-in form with an error."""
    async with console_client(app) as http:
        response = await http.post("/admin/login", data={"token": "not-it"})
        assert response.status_code == 401
        assert 'name="token"' in response.text
        assert 'role="alert"' in response.text
        assert sessions.SESSION_COOKIE not in response.cookies
        assert (await http.get("/admin")).status_code == 303


async def test_sign_in_attempts_are_limited_per_address(app: Litestar) -> None:
    """After a burst of attempts from one address, even the right token waits (429), so the
    token cannot be guessed quickly."""
    async with console_client(app) as http:
        answers = [(await http.post("/admin/login", data={"token": f"guess-{n}"})).status_code
                   for n in range(10)]
        assert answers == [401] * 10
        late = await http.post("/admin/login", data={"token": OPERATOR_TOKEN})
    assert late.status_code == 429
    assert "Too many" in late.text
    assert sessions.SESSION_COOKIE not in late.cookies


async def test_sign_in_sets_an_http_only_strict_cookie(app: Litestar) -> None:
    """The operator token gives an HttpOnly, SameSite=Strict session cookie and 303 to /admin,
    after which the console's pages answer."""
    async with console_client(app) as http:
        response = await sign_in(http)
        assert response.headers["location"] == "/admin"
        cookie = response.headers["set-cookie"].lower()
        assert "httponly" in cookie
        assert "samesite=strict" in cookie
        assert "path=/admin" in cookie
        assert "secure" not in cookie  # plain http here; https sets Secure
        page = await http.get("/admin")
        assert page.status_code == 200
        assert 'name="csrfToken"' in page.text


async def test_https_sign_in_marks_the_cookie_secure(app: Litestar) -> None:
    """Behind a TLS proxy (X-Forwarded-Proto: https) the session cookie is Secure."""
    async with console_client(app) as http:
        response = await http.post("/admin/login", data={"token": OPERATOR_TOKEN},
                                   headers={"X-Forwarded-Proto": "https"})
    assert "secure" in response.headers["set-cookie"].lower()


def _cookie(value: str) -> dict[str, str]:
    return {"Cookie": f"{sessions.SESSION_COOKIE}={value}"}


async def test_an_expired_session_is_refused(app: Litestar) -> None:
    """A cookie signed correctly but past its lifetime sends the operator to sign in."""
    old = sessions.new_session("UTC", now=time.time() - sessions.SESSION_SECONDS - 5)
    async with console_client(app) as http:
        response = await http.get("/admin", headers=_cookie(
            sessions.sign_session(OPERATOR_TOKEN, old)))
    assert response.status_code == 303
    assert response.headers["location"] == "/admin/login"


async def test_rotating_the_operator_token_ends_every_session(app: Litestar) -> None:
    """A cookie signed under another operator token (the one before a rotation) is refused;
    one signed under the current token works."""
    found = sessions.new_session("UTC")
    async with console_client(app) as http:
        stale = await http.get("/admin", headers=_cookie(
            sessions.sign_session("the-token-before-rotation", found)))
        current = await http.get("/admin", headers=_cookie(
            sessions.sign_session(OPERATOR_TOKEN, found)))
    assert stale.status_code == 303
    assert current.status_code == 200


async def test_a_forged_cookie_is_refused(app: Litestar) -> None:
    """A cookie whose payload was changed (a later expiry) fails its signature."""
    found = sessions.new_session("UTC", now=time.time() - sessions.SESSION_SECONDS - 5)
    value = sessions.sign_session(OPERATOR_TOKEN, found)
    longer = sessions.sign_session("x", sessions.OperatorSession(
        sid=found.sid, iat=found.iat, exp=found.exp + 10**6, tz="UTC")).split(".")[0]
    async with console_client(app) as http:
        response = await http.get("/admin", headers=_cookie(f"{longer}.{value.split('.')[1]}"))
    assert response.status_code == 303


async def test_sign_out_ends_the_session_even_for_a_copied_cookie(app: Litestar) -> None:
    """After sign-out the same cookie value (say, copied elsewhere) no longer opens a page."""
    async with console_client(app) as http:
        await sign_in(http)
        copied = http.cookies.get(sessions.SESSION_COOKIE)
        assert copied
        token = await form_token(http, "/admin")
        out = await http.post("/admin/logout", data={"csrfToken": token})
        assert out.status_code == 303
        assert out.headers["location"] == "/admin/login"
    async with console_client(app) as other:
        assert (await other.get("/admin", headers=_cookie(copied))).status_code == 303


# Form tokens -----------------------------------------------------------------------------


@pytest.fixture
async def room_show(client: httpx.AsyncClient, make_show: MakeShow) -> str:
    show = await make_show()
    await put_room(client, show.id, releaseRatePerMinute=60)
    return show.id


async def test_a_control_without_a_form_token_is_403_and_changes_nothing(
    app: Litestar, client: httpx.AsyncClient, room_show: str, operator_headers: dict[str, str]
) -> None:
    """A rate change posted without its form token is refused and the rate stays."""
    async with console_client(app) as http:
        await sign_in(http)
        response = await http.post(f"/admin/shows/{room_show}/controls/rate",
                                   data={"releaseRatePerMinute": "999", "confirmed": "yes"})
    assert response.status_code == 403
    assert await room_rate(client, room_show, operator_headers) == 60


async def test_a_forged_form_token_is_403_and_changes_nothing(
    app: Litestar, client: httpx.AsyncClient, room_show: str, operator_headers: dict[str, str]
) -> None:
    """A made-up form token, or a real one of another operator's session, changes nothing."""
    async with console_client(app) as other:
        await sign_in(other)
        foreign = await form_token(other, f"/admin/shows/{room_show}")
    async with console_client(app) as http:
        await sign_in(http)
        mine = await form_token(http, f"/admin/shows/{room_show}")
        forged = mine.split(".")[0] + ".AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
        for token in (forged, foreign, "garbage"):
            response = await http.post(f"/admin/shows/{room_show}/controls/rate", data={
                "csrfToken": token, "releaseRatePerMinute": "999", "confirmed": "yes"})
            assert response.status_code == 403, token
    assert await room_rate(client, room_show, operator_headers) == 60


async def test_a_reused_form_token_is_403_and_changes_nothing(
    app: Litestar, client: httpx.AsyncClient, room_show: str, operator_headers: dict[str, str]
) -> None:
    """A form token works once: the same post again is refused and the first change stands."""
    action = f"/admin/shows/{room_show}/controls/rate"
    async with console_client(app) as http:
        await sign_in(http)
        token = await form_token(http, f"/admin/shows/{room_show}")
        first = await http.post(action, data={"csrfToken": token, "releaseRatePerMinute": "120",
                                              "confirmed": "yes"})
        assert first.status_code == 303
        assert await room_rate(client, room_show, operator_headers) == 120
        again = await http.post(action, data={"csrfToken": token, "releaseRatePerMinute": "240",
                                              "confirmed": "yes"})
    assert again.status_code == 403
    assert await room_rate(client, room_show, operator_headers) == 120


async def test_a_setup_form_without_a_token_creates_nothing(
    app: Litestar, services: Services
) -> None:
    """A movie form posted without its token is refused and no movie is created."""
    title = f"Forged {uuid.uuid4().hex[:6]}"
    async with console_client(app) as http:
        await sign_in(http)
        response = await http.post("/admin/movies/new", data={
            "title": title, "durationMinutes": "120", "language": "Hindi", "genre": "Drama"})
    assert response.status_code == 403
    assert await services.pool.fetchval("SELECT count(*) FROM movies WHERE title = $1",
                                        title) == 0


# Controls and the audit log --------------------------------------------------------------


async def test_a_control_without_confirmation_asks_first(
    app: Litestar, client: httpx.AsyncClient, room_show: str, operator_headers: dict[str, str]
) -> None:
    """Without ``confirmed`` (no script on the page) the control answers a confirmation page
    with a data-confirm button and changes nothing yet."""
    async with console_client(app) as http:
        await sign_in(http)
        token = await form_token(http, f"/admin/shows/{room_show}")
        response = await http.post(f"/admin/shows/{room_show}/controls/rate",
                                   data={"csrfToken": token, "step": "x2"})
    assert response.status_code == 200
    assert "data-confirm" in response.text
    assert "from 60 to 120" in response.text
    assert await room_rate(client, room_show, operator_headers) == 60


async def test_each_control_is_applied_and_audited_newest_first(
    app: Litestar, client: httpx.AsyncClient, room_show: str, operator_headers: dict[str, str]
) -> None:
    """Rate steps, maxActive, pause, resume and end each change the room and land in the
    audit log as one row with the field and old → new, newest first."""
    page = f"/admin/shows/{room_show}"
    async with console_client(app) as http:
        await sign_in(http)
        for control, fields in [("rate", {"step": "+10%"}), ("rate", {"step": "/2"}),
                                ("maxActive", {"maxActive": "7"}), ("pause", {}),
                                ("resume", {}), ("end", {})]:
            response = await post_form(http, page, f"{page}/controls/{control}", **fields)
            assert response.status_code == 303, (control, response.text)
        room = (await client.get(f"/api/v1/admin/shows/{room_show}/waiting-room",
                                 headers=operator_headers)).json()
        assert (room["releaseRatePerMinute"], room["maxActive"]) == (33, 7)
        assert (room["paused"], room["enabled"]) == (False, False)
        audit = (await http.get(f"/admin/audit?show={room_show}")).text
    rows = [row.split("</tr>")[0] for row in audit.split("<tr data-audit-row")[1:]]
    fields = [row.split('data-field="')[1].split('"')[0] for row in rows]
    assert fields[:6] == ["enabled", "paused", "paused", "maxActive", "releaseRatePerMinute",
                          "releaseRatePerMinute"]
    assert "<span data-old>66</span> → <span data-new>33</span>" in rows[4]
    assert "<span data-old>60</span> → <span data-new>66</span>" in rows[5]
    assert "operator:console:" in rows[0]


# Set-up: a screen from CSV --------------------------------------------------------------


async def _theater(http: httpx.AsyncClient) -> str:
    response = await post_form(http, "/admin/theaters/new", "/admin/theaters/new",
                               name="CSV Hall", city="Pune", address="1 FC Road",
                               timezone="Asia/Kolkata")
    assert response.status_code == 303, response.text
    theater: str = response.headers["location"].split("theater=")[1]
    return theater


async def _post_screen(http: httpx.AsyncClient, theater: str, name: str, csv: str
                       ) -> httpx.Response:
    token = await form_token(http, "/admin/screens/new")
    return await http.post("/admin/screens/new", data={
        "csrfToken": token, "theaterId": theater, "name": name},
        files={"layoutCsv": ("layout.csv", csv.encode(), "text/csv")})


async def test_a_bad_layout_csv_names_the_line_and_creates_nothing(
    app: Litestar, services: Services
) -> None:
    """A CSV with a bad third line is refused with that line named; no screen is made."""
    name = f"Bad {uuid.uuid4().hex[:6]}"
    async with console_client(app) as http:
        await sign_in(http)
        theater = await _theater(http)
        response = await _post_screen(http, theater, name,
                                      "row,seat,type,multiplier\nA,1,REGULAR,1.00\nA,x,VIP,2\n")
    assert response.status_code == 400
    assert "Line 3" in response.text
    assert await services.pool.fetchval("SELECT count(*) FROM screens WHERE name = $1",
                                        name) == 0


async def test_a_layout_csv_makes_a_screen_with_exactly_its_seats(
    app: Litestar, services: Services
) -> None:
    """Each CSV line becomes one seat with its type and multiplier."""
    csv = "A,1,REGULAR,1.00\nA,2,REGULAR,1.00\nB,1,VIP,2.50\nB,3,VIP,2.50\n"
    async with console_client(app) as http:
        await sign_in(http)
        theater = await _theater(http)
        response = await _post_screen(http, theater, "From CSV", csv)
    assert response.status_code == 303, response.text
    screen = uuid.UUID(response.headers["location"].split("screen=")[1])
    rows = await services.pool.fetch(
        "SELECT seat_id, seat_type, price_multiplier FROM seats WHERE screen_id = $1"
        " ORDER BY seat_id", screen)
    assert [(r["seat_id"], r["seat_type"], str(r["price_multiplier"])) for r in rows] == [
        ("A1", "REGULAR", "1.00"), ("A2", "REGULAR", "1.00"), ("B1", "VIP", "2.50"),
        ("B3", "VIP", "2.50")]


# The operator seat map -------------------------------------------------------------------


async def test_releasing_a_stuck_lock_frees_its_seats_and_is_audited(
    app: Litestar, client: httpx.AsyncClient, services: Services, make_show: MakeShow,
    access_token: Callable[..., str],
) -> None:
    """The seat page names the lock's holder; releasing it frees the seats at once and the
    audit log says who released what."""
    show = await make_show()
    visitor = f"v-{uuid.uuid4().hex[:10]}"
    lock = await client.post("/api/v1/bookings/lock", json={"showId": show.id,
                             "seatIds": ["A3", "A4"]}, headers=bearer(access_token(show.id,
                                                                                    visitor)))
    assert lock.status_code == 200, lock.text
    lock_id = lock.json()["lockId"]
    page = f"/admin/shows/{show.id}/seats"
    async with console_client(app) as http:
        await sign_in(http)
        seats_page = (await http.get(page)).text
        assert visitor in seats_page
        assert f'data-lock="{lock_id}"' in seats_page
        response = await post_form(http, page, f"/admin/shows/{show.id}/locks/{lock_id}/release")
        assert response.status_code == 303, response.text
        audit = (await http.get(f"/admin/audit?show={show.id}")).text
    states = await seat_states(services, show.id)
    assert (states["A3"], states["A4"]) == ("AVAILABLE", "AVAILABLE")
    assert "lock A3, A4" in audit
    assert f"LOCKED ({visitor})" in audit


async def test_the_live_figures_answer_as_json(app: Litestar, room_show: str) -> None:
    """``…/live`` carries every contract figure and the three charts as SVG."""
    async with console_client(app) as http:
        await sign_in(http)
        live: dict[str, Any] = (await http.get(f"/admin/shows/{room_show}/live")).json()
    for name in ("waiting", "active", "admittedLastMinute", "releaseRatePerMinute",
                 "maxActive", "abandoned", "seatsAvailable", "seatsLocked", "seatsBooked",
                 "bookings", "revenue"):
        assert name in live["metrics"]
    assert live["metrics"]["releaseRatePerMinute"] == "60"
    assert live["metrics"]["seatsAvailable"] == "20"
    for kind in ("queue", "admissions", "sales"):
        assert f'data-chart="{kind}"' in live["charts"][kind]
    assert 'data-series="rate"' in live["charts"]["admissions"]


async def test_the_live_view_keeps_seats_and_sales_while_redis_is_down(
    app: Litestar, services: Services, room_show: str
) -> None:
    """With the console's Redis store not answering, the live view still answers 200 with the
    seats from PostgreSQL and says the crowd figures are paused."""
    assert services.live_stats is not None
    original = services.live_stats.redis
    services.live_stats.redis = Redis.from_url("redis://127.0.0.1:9/0",
                                               socket_connect_timeout=0.2)
    try:
        async with console_client(app) as http:
            await sign_in(http)
            page = await http.get(f"/admin/shows/{room_show}")
            live = (await http.get(f"/admin/shows/{room_show}/live")).json()
    finally:
        await services.live_stats.redis.aclose()
        services.live_stats.redis = original
    assert page.status_code == 200
    assert "Redis is not answering" in page.text
    assert live["degraded"] is True
    assert live["metrics"]["seatsAvailable"] == "20"
