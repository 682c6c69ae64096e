"""The seat and checkout pages' server side: the rendered shells and the beacon release
``POST /api/v1/bookings/lock/{lockId}/release`` (the token in the body, never in the URL)."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from admitone.runtime import Services
from tests.conftest import MakeShow, bearer, seat_states

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def page_config(html: str, element_id: str) -> dict[str, Any]:
    found = re.search(rf'<script type="application/json" id="{element_id}">(.*?)</script>',
                      html, re.S)
    assert found, f"no #{element_id} in the page"
    config: dict[str, Any] = json.loads(found.group(1))
    return config


async def test_the_seat_page_renders_the_show_and_a_config_for_its_script(
    client: httpx.AsyncClient, make_show: MakeShow,
) -> None:
    """The seat page names the show and hands its script the show id, the locale, the URLs,
    the seat limit (the show's, capped by one lock's) and the page's strings; no token."""
    show = await make_show(rows=2, seats_per_row=4, title="Pyaasa", max_seats_per_visitor=4)
    response = await client.get(f"/shows/{show.id}/seats", headers={"Accept-Language": "en-IN"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert "<h1 class=\"show__title\">Pyaasa</h1>" in response.text
    config = page_config(response.text, "seats-config")
    assert config["showId"] == show.id
    assert config["locale"] == "en-IN"
    assert config["maxSeats"] == 4
    assert config["checkoutUrl"] == f"/shows/{show.id}/checkout"
    assert config["queueUrl"] == f"/shows/{show.id}/queue"
    assert config["strings"]["seats.cell"] == "Row {row}, Seat {number}, {state}, {type}, {price}"
    assert all(key.startswith("seats.") for key in config["strings"])


async def test_the_pages_speak_hindi_with_the_zone_named(
    client: httpx.AsyncClient, make_show: MakeShow,
) -> None:
    """With Hindi preferred the shell, the script's strings and the show time are Hindi, and
    the time is the one format of the pages (gateway/formats.py): 24-hour, zone named."""
    show = await make_show(rows=1, seats_per_row=2)
    seats = await client.get(f"/shows/{show.id}/seats", headers={"Accept-Language": "hi"})
    checkout = await client.get(f"/shows/{show.id}/checkout?lang=hi")
    assert seats.status_code == checkout.status_code == 200
    assert '<html lang="hi"' in seats.text
    assert '<html lang="hi"' in checkout.text
    assert "अपनी सीटें चुनें" in seats.text
    assert "अपनी बुकिंग पूरी करें" in checkout.text
    assert re.search(r"\d{2}:\d\d UTC", seats.text)  # the test theaters keep UTC
    config = page_config(checkout.text, "checkout-config")
    assert config["language"] == "hi"
    assert config["strings"]["seats.checkout.pay_button"] == "भुगतान करें"


@pytest.mark.parametrize("show_id", ["nope", str(uuid.UUID(int=7)), "%00"])
async def test_an_unknown_show_gets_a_404_page(client: httpx.AsyncClient, show_id: str) -> None:
    """Unknown, malformed or odd show ids get the friendly 404 page, never a 500."""
    for path in ("seats", "checkout"):
        response = await client.get(f"/shows/{show_id}/{path}")
        assert response.status_code == 404
        assert "text/html" in response.headers["content-type"]


async def test_an_upper_case_show_id_is_redirected_to_the_one_spelling(
    client: httpx.AsyncClient, make_show: MakeShow,
) -> None:
    """sessionStorage keys use the show id as written, so every page has one spelling."""
    show = await make_show(rows=1, seats_per_row=2)
    response = await client.get(f"/shows/{show.id.upper()}/checkout?lang=hi")
    assert response.status_code == 301
    assert response.headers["location"] == f"/shows/{show.id}/checkout?lang=hi"


async def lock(client: httpx.AsyncClient, show_id: str, token: str, seats: list[str]) -> str:
    response = await client.post("/api/v1/bookings/lock", headers=bearer(token),
                                 json={"showId": show_id, "seatIds": seats})
    assert response.status_code == 200, response.text
    lock_id: str = response.json()["lockId"]
    return lock_id


async def test_a_beacon_with_the_token_in_a_form_body_releases_the_lock(
    client: httpx.AsyncClient, make_show: MakeShow, access_token: Callable[..., str],
    services: Services,
) -> None:
    """What navigator.sendBeacon sends (a form body with ``token``) releases the lock: 200
    ``{success: true}`` and the seats are free again."""
    show = await make_show(rows=1, seats_per_row=4)
    token = access_token(show.id)
    lock_id = await lock(client, show.id, token, ["A1", "A2"])
    response = await client.post(f"/api/v1/bookings/lock/{lock_id}/release",
                                 content=f"token={token}", headers=FORM)
    assert response.status_code == 200, response.text
    assert response.json() == {"success": True}
    states = await seat_states(services, show.id)
    assert states["A1"] == states["A2"] == "AVAILABLE"


async def test_a_beacon_with_a_json_body_releases_the_lock(
    client: httpx.AsyncClient, make_show: MakeShow, access_token: Callable[..., str],
    services: Services,
) -> None:
    """A JSON body ``{"token": …}`` works too."""
    show = await make_show(rows=1, seats_per_row=4)
    token = access_token(show.id)
    lock_id = await lock(client, show.id, token, ["A3"])
    response = await client.post(f"/api/v1/bookings/lock/{lock_id}/release",
                                 json={"token": token})
    assert response.status_code == 200, response.text
    assert (await seat_states(services, show.id))["A3"] == "AVAILABLE"


async def test_a_beacon_of_another_visitor_releases_nothing(
    client: httpx.AsyncClient, make_show: MakeShow, access_token: Callable[..., str],
    services: Services,
) -> None:
    """Only the visitor who made the lock can release it: anyone else gets 404, and the seats
    stay held."""
    show = await make_show(rows=1, seats_per_row=4)
    lock_id = await lock(client, show.id, access_token(show.id), ["A1"])
    response = await client.post(f"/api/v1/bookings/lock/{lock_id}/release",
                                 content=f"token={access_token(show.id)}", headers=FORM)
    assert response.status_code == 404
    assert response.json()["error"] == "LOCK_NOT_FOUND"
    assert (await seat_states(services, show.id))["A1"] == "LOCKED"


@pytest.mark.parametrize(("body", "headers", "status"), [
    (b"", FORM, 401),
    (b"token=", FORM, 401),
    (b"token=not.a.jwt", FORM, 401),
    (b"", {"Content-Type": "application/json"}, 400),
    (b"{\"token\": 5}", {"Content-Type": "application/json"}, 400),
    (b"{\"token\": \"x\", \"more\": 1}", {"Content-Type": "application/json"}, 400),
    (b"\xff\xfe\x00garbage", {"Content-Type": "text/plain"}, 400),
    ("&".join(f"f{n}=1" for n in range(50)).encode(), FORM, 400),
])
async def test_a_bad_beacon_is_a_4xx_problem_and_releases_nothing(
    client: httpx.AsyncClient, make_show: MakeShow, access_token: Callable[..., str],
    services: Services, body: bytes, headers: dict[str, str], status: int,
) -> None:
    """Missing, empty, forged or malformed tokens and bodies answer a 4xx problem; the lock
    is untouched."""
    show = await make_show(rows=1, seats_per_row=2)
    lock_id = await lock(client, show.id, access_token(show.id), ["A1"])
    response = await client.post(f"/api/v1/bookings/lock/{lock_id}/release", content=body,
                                 headers=headers)
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert (await seat_states(services, show.id))["A1"] == "LOCKED"


async def test_a_beacon_for_seats_being_paid_for_releases_nothing(
    client: httpx.AsyncClient, make_show: MakeShow, access_token: Callable[..., str],
    services: Services,
) -> None:
    """Once checkout started, a late beacon (say the fan closed the payment tab) cannot free
    the seats: 409 LOCK_IN_CHECKOUT."""
    show = await make_show(rows=1, seats_per_row=2)
    token = access_token(show.id)
    lock_id = await lock(client, show.id, token, ["A2"])
    booking = await client.post("/api/v1/bookings", json={
        "lockId": lock_id, "paymentMethod": "CARD", "email": "fan@example.com"},
        headers={**bearer(token), "Idempotency-Key": uuid.uuid4().hex})
    assert booking.status_code == 201, booking.text
    response = await client.post(f"/api/v1/bookings/lock/{lock_id}/release",
                                 content=f"token={token}", headers=FORM)
    assert response.status_code == 409
    assert response.json()["error"] == "LOCK_IN_CHECKOUT"
    assert (await seat_states(services, show.id))["A2"] == "LOCKED"


# The forms without JavaScript (seats/pages.py) ------------------------------------------------


def _cookie(token: str) -> dict[str, str]:
    return {"Cookie": f"access_token={token}"}


async def test_the_best_seats_form_locks_seats_side_by_side_and_goes_to_checkout(
    client: httpx.AsyncClient, make_show: MakeShow, access_token: Callable[..., str],
    services: Services,
) -> None:
    """``count=3`` with the queue's access cookie: three seats of one row, side by side, are
    LOCKED by this visitor, and the answer is a 303 to the checkout form naming the lock."""
    show = await make_show(rows=3, seats_per_row=8)
    token = access_token(show.id)
    response = await client.post(f"/shows/{show.id}/seats/best", content="count=3",
                                 headers={**FORM, **_cookie(token)})
    assert response.status_code == 303, response.text
    location = response.headers["location"]
    assert location.startswith(f"/shows/{show.id}/checkout?lock=")
    locked = sorted(seat for seat, state in (await seat_states(services, show.id)).items()
                    if state == "LOCKED")
    assert len(locked) == 3
    assert len({seat[0] for seat in locked}) == 1
    page = await client.get(location, headers=_cookie(token))
    assert page.status_code == 200
    assert all(seat in page.text for seat in locked)


@pytest.mark.parametrize("body", ["count=0", "count=99", "count=two", "", "count=-1"])
async def test_a_bad_seat_count_is_a_422_page_and_locks_nothing(
    client: httpx.AsyncClient, make_show: MakeShow, access_token: Callable[..., str],
    services: Services, body: str,
) -> None:
    """A count outside 1 … the seat limit answers the form again (422) and locks nothing."""
    show = await make_show(rows=1, seats_per_row=4)
    response = await client.post(f"/shows/{show.id}/seats/best", content=body,
                                 headers={**FORM, **_cookie(access_token(show.id))})
    assert response.status_code == 422
    assert "Choose how many seats you want." in response.text
    assert set((await seat_states(services, show.id)).values()) == {"AVAILABLE"}


async def test_the_forms_without_an_access_cookie_are_401_and_change_nothing(
    client: httpx.AsyncClient, make_show: MakeShow, services: Services,
) -> None:
    """No access cookie (or a forged one): both forms answer 401 pages, nothing is locked."""
    show = await make_show(rows=1, seats_per_row=4)
    for headers in ({}, _cookie("forged.token.value")):
        best = await client.post(f"/shows/{show.id}/seats/best", content="count=2",
                                 headers={**FORM, **headers})
        assert best.status_code == 401
        pay = await client.post(f"/shows/{show.id}/checkout",
                                content=f"lock={uuid.uuid4()}&email=a%40b.in",
                                headers={**FORM, **headers})
        assert pay.status_code == 401
    assert set((await seat_states(services, show.id)).values()) == {"AVAILABLE"}


async def test_the_checkout_form_pays_once_per_form_and_refuses_a_bad_email(
    client: httpx.AsyncClient, make_show: MakeShow, access_token: Callable[..., str],
    services: Services,
) -> None:
    """A bad e-mail is a 422 form and no booking; a good one is a 303 to the payment page, and
    the same form posted twice (its key) makes one booking."""
    show = await make_show(rows=1, seats_per_row=4)
    token = access_token(show.id)
    best = await client.post(f"/shows/{show.id}/seats/best", content="count=2",
                             headers={**FORM, **_cookie(token)})
    query = best.headers["location"].split("?", 1)[1]
    bad = await client.post(f"/shows/{show.id}/checkout",
                            content=f"{query}&key=k1&email=nope&paymentMethod=UPI",
                            headers={**FORM, **_cookie(token)})
    assert bad.status_code == 422
    good = [await client.post(f"/shows/{show.id}/checkout",
                              content=f"{query}&key=k2&email=ray%40example.in&paymentMethod=UPI",
                              headers={**FORM, **_cookie(token)}) for _ in range(2)]
    assert [answer.status_code for answer in good] == [303, 303]
    assert good[0].headers["location"] == good[1].headers["location"]
    assert "/sandbox/pay/" in good[0].headers["location"]
    count = await services.pool.fetchval(
        "SELECT count(*) FROM bookings WHERE show_id = $1", uuid.UUID(show.id))
    assert count == 1


async def test_the_best_seats_form_counts_the_device_across_new_visitors(
    client: httpx.AsyncClient, make_show: MakeShow, access_token: Callable[..., str],
    services: Services,
) -> None:
    """Without JavaScript too: one browser's device cookie carries the seat limit, so a new
    visitor (a new join) from it is answered 409 with the limit and locks nothing."""
    show = await make_show(rows=1, seats_per_row=8, max_seats_per_visitor=2)
    device = "admitone_device=" + "d" * 24

    def headers() -> dict[str, str]:
        return {**FORM, "Cookie": f"access_token={access_token(show.id)}; {device}"}

    first = await client.post(f"/shows/{show.id}/seats/best", content="count=2",
                              headers=headers())
    assert first.status_code == 303, first.text
    refused = await client.post(f"/shows/{show.id}/seats/best", content="count=1",
                                headers=headers())
    assert refused.status_code == 409
    assert "You can hold at most 2 seats for this show, and you already hold 2." in refused.text
    assert sorted((await seat_states(services, show.id)).values()).count("LOCKED") == 2
