"""Tickets at the door: a ticket expires with its show and has an id; a cancelled booking's
ticket goes on the show's signed, versioned revoked list; the online check tells VALID,
REVOKED, EXPIRED, WRONG_SHOW and INVALID apart without naming anyone."""

from __future__ import annotations

import json
import socket
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import asyncpg
import httpx
import jwt
import pytest

from admitone.runtime import Services
from tests.conftest import MakeShow, bearer
from tests.integration.booking_support import BookingFixture, confirmed_booking

REVOCATIONS_AUDIENCE = "admitone-venue-revocations"
TICKET_AUDIENCE = "admitone-venue"


async def _jwks(client: httpx.AsyncClient) -> dict[str, jwt.PyJWK]:
    keys = (await client.get("/.well-known/jwks.json")).json()["keys"]
    return {key["kid"]: jwt.PyJWK(key) for key in keys}


async def _verify_offline(
    client: httpx.AsyncClient, token: str, audience: str, **options: Any
) -> dict[str, Any]:
    """What a scanner does offline: the signature under the published key, issuer, audience,
    expiry (PyJWT checks ``exp``), and nothing but EdDSA."""
    kid = jwt.get_unverified_header(token)["kid"]
    key = (await _jwks(client))[kid]
    claims: dict[str, Any] = jwt.decode(token, key, algorithms=["EdDSA"], audience=audience,
                                        issuer="admitone", **options)
    return claims


async def _ticket(client: httpx.AsyncClient, booking: BookingFixture) -> dict[str, Any]:
    response = await client.get(f"/api/v1/bookings/{booking.id}/ticket",
                                headers=bearer(booking.token))
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


async def _cancel(client: httpx.AsyncClient, booking: BookingFixture) -> None:
    response = await client.delete(f"/api/v1/bookings/{booking.id}", headers=bearer(booking.token))
    assert response.status_code == 200, response.text


async def _revoked(client: httpx.AsyncClient, show_id: str) -> tuple[httpx.Response, dict[str, Any]]:
    response = await client.get(f"/api/v1/shows/{show_id}/revoked-tickets")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/jwt")
    return response, await _verify_offline(client, response.text, REVOCATIONS_AUDIENCE)


async def _check(client: httpx.AsyncClient, token: str, show_id: str) -> dict[str, Any]:
    response = await client.post("/api/v1/tickets/verify",
                                 json={"token": token, "showId": show_id})
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


async def test_a_ticket_has_an_id_and_expires_at_its_shows_end(
    client: httpx.AsyncClient, services: Services, make_show: MakeShow,
    access_token: Callable[..., str],
) -> None:
    """The QR payload verifies offline with the JWKS and carries ``jti`` (the ticket id the
    answer names too) and ``exp`` = show time + the movie's duration."""
    show = await make_show()
    booking = await confirmed_booking(client, services, show, access_token, ["A1"])

    ticket = await _ticket(client, booking)
    claims = await _verify_offline(client, ticket["qrPayload"], TICKET_AUDIENCE)

    details = await services.catalog.show_details(show.id)
    show_end = details.show_time + timedelta(minutes=details.duration_minutes)
    assert claims["jti"] == ticket["ticketId"]
    assert uuid.UUID(claims["jti"])
    assert claims["exp"] == int(show_end.timestamp())
    assert datetime.fromisoformat(ticket["expiresAt"]) == show_end.replace(microsecond=0)
    assert jwt.get_unverified_header(ticket["qrPayload"])["typ"] == "admitone-ticket+jwt"
    assert ticket["revocationListUrl"].endswith(f"/api/v1/shows/{show.id}/revoked-tickets")
    again = await _ticket(client, booking)  # another download: the same ticket id
    assert again["ticketId"] == ticket["ticketId"]


async def test_cancelling_puts_the_ticket_on_the_signed_list_and_raises_its_version(
    client: httpx.AsyncClient, services: Services, make_show: MakeShow,
    access_token: Callable[..., str],
) -> None:
    """Before any cancellation the list is version 0 and empty; each cancellation adds its
    ticket id and raises the version by one; the list verifies with the published key."""
    show = await make_show()
    first = await confirmed_booking(client, services, show, access_token, ["A1"])
    second = await confirmed_booking(client, services, show, access_token, ["A2"])
    first_id = (await _ticket(client, first))["ticketId"]
    second_id = (await _ticket(client, second))["ticketId"]

    _, empty = await _revoked(client, show.id)
    await _cancel(client, first)
    _, one = await _revoked(client, show.id)
    await _cancel(client, second)
    response, two = await _revoked(client, show.id)

    assert (empty["version"], empty["revoked"]) == (0, [])
    assert (one["version"], one["revoked"]) == (1, [first_id])
    assert (two["version"], set(two["revoked"])) == (2, {first_id, second_id})
    assert two["showId"] == show.id
    assert response.headers["x-revocation-list-version"] == "2"
    assert "max-age" in response.headers["cache-control"]


async def test_the_list_answers_304_while_unchanged_and_a_new_etag_after_a_change(
    client: httpx.AsyncClient, services: Services, make_show: MakeShow,
    access_token: Callable[..., str],
) -> None:
    """A scanner asking with the ETag it holds gets 304 until the next cancellation."""
    show = await make_show()
    booking = await confirmed_booking(client, services, show, access_token, ["A1"])
    first, _ = await _revoked(client, show.id)
    etag = first.headers["etag"]

    unchanged = await client.get(f"/api/v1/shows/{show.id}/revoked-tickets",
                                 headers={"If-None-Match": etag})
    await _cancel(client, booking)
    changed = await client.get(f"/api/v1/shows/{show.id}/revoked-tickets",
                               headers={"If-None-Match": etag})

    assert unchanged.status_code == 304
    assert unchanged.content == b""
    assert unchanged.headers["etag"] == etag
    assert changed.status_code == 200
    assert changed.headers["etag"] != etag


async def test_a_resold_seats_new_ticket_is_valid_and_the_old_one_revoked(
    client: httpx.AsyncClient, services: Services, make_show: MakeShow,
    access_token: Callable[..., str],
) -> None:
    """A1 bought, cancelled and bought again by another fan: two signed tickets for one seat,
    but the door tells them apart online and offline (the old one is on the list)."""
    show = await make_show()
    old = await confirmed_booking(client, services, show, access_token, ["A1"])
    old_ticket = await _ticket(client, old)
    await _cancel(client, old)
    new = await confirmed_booking(client, services, show, access_token, ["A1"])
    new_ticket = await _ticket(client, new)

    old_check = await _check(client, old_ticket["qrPayload"], show.id)
    new_check = await _check(client, new_ticket["qrPayload"], show.id)
    _, listed = await _revoked(client, show.id)

    assert old_check["status"] == "REVOKED"
    assert new_check["status"] == "VALID"
    assert new_check["seats"] == ["A1"]
    assert new_check["ticketId"] == new_ticket["ticketId"] != old_ticket["ticketId"]
    assert old_ticket["ticketId"] in listed["revoked"]
    assert new_ticket["ticketId"] not in listed["revoked"]
    for answer in (old_check, new_check):  # nothing personal
        assert set(answer) <= {"status", "ticketId", "showId", "seats", "validUntil"}
        assert new.email.lower() not in json.dumps(answer).lower()


async def test_an_expired_ticket_is_refused(
    client: httpx.AsyncClient, services: Services, make_show: MakeShow,
    access_token: Callable[..., str],
) -> None:
    """A ticket past its ``exp`` fails offline verification and is EXPIRED online."""
    show = await make_show()
    booking = await confirmed_booking(client, services, show, access_token, ["A1"])
    claims = await _verify_offline(client, (await _ticket(client, booking))["qrPayload"],
                                   TICKET_AUDIENCE)
    past = int(time.time()) - 60
    expired = services.tokens.sign_ticket({**claims, "exp": past, "iat": past - 3600})

    with pytest.raises(jwt.ExpiredSignatureError):
        await _verify_offline(client, expired, TICKET_AUDIENCE)
    assert (await _check(client, expired, show.id))["status"] == "EXPIRED"


async def test_the_online_check_tells_another_show_and_forgeries_apart(
    client: httpx.AsyncClient, services: Services, make_show: MakeShow,
    access_token: Callable[..., str],
) -> None:
    """Another show's scanner: WRONG_SHOW; garbage, an access token or the revoked list
    itself presented as a ticket: INVALID; a malformed body: a 400 problem."""
    show, other = await make_show(), await make_show()
    booking = await confirmed_booking(client, services, show, access_token, ["A1"])
    ticket = (await _ticket(client, booking))["qrPayload"]
    listed, _ = await _revoked(client, show.id)

    wrong = await _check(client, ticket, other.id)
    garbage = await _check(client, "not-a-ticket", show.id)
    access = await _check(client, booking.token, show.id)
    revocations = await _check(client, listed.text, show.id)
    bad = await client.post("/api/v1/tickets/verify", json={"token": ticket})

    assert wrong["status"] == "WRONG_SHOW"
    assert wrong["showId"] == show.id
    assert [garbage, access, revocations] == [{"status": "INVALID"}] * 3
    assert bad.status_code == 400
    assert bad.headers["content-type"].startswith("application/problem+json")


async def test_an_unknown_show_has_no_list(client: httpx.AsyncClient) -> None:
    """A show that does not exist, or an id that is not one: 404 problems."""
    unknown = await client.get(f"/api/v1/shows/{uuid.uuid4()}/revoked-tickets")
    garbled = await client.get("/api/v1/shows/not-a-show/revoked-tickets")
    assert (unknown.status_code, garbled.status_code) == (404, 404)
    assert unknown.json()["error"] == "SHOW_NOT_FOUND"


async def test_the_ticket_routes_answer_503_while_postgresql_is_down(
    client: httpx.AsyncClient, services: Services, make_show: MakeShow,
    access_token: Callable[..., str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Without PostgreSQL the list and the online check are 503 problems with Retry-After, never
    a 500 and never a verdict made up without the database."""
    show = await make_show()
    booking = await confirmed_booking(client, services, show, access_token, ["A1"])
    ticket = (await _ticket(client, booking))["qrPayload"]
    await services.catalog.show_details(show.id)  # cached: the list's show check needs no DB
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = sock.getsockname()[1]
    dead = await asyncpg.create_pool(f"postgresql://nobody@127.0.0.1:{closed}/x", min_size=0)
    assert dead is not None
    assert services.tickets is not None
    monkeypatch.setattr(services.tickets, "pool", dead)
    try:
        answers = [
            await client.get(f"/api/v1/shows/{show.id}/revoked-tickets"),
            await client.post("/api/v1/tickets/verify", json={"token": ticket, "showId": show.id}),
        ]
    finally:
        await dead.close()
    for answer in answers:
        assert answer.status_code == 503, answer.text
        assert answer.headers["retry-after"]
        assert answer.json()["error"] == "SERVICE_TEMPORARILY_UNAVAILABLE"
