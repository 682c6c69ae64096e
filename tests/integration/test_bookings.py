"""Reading bookings, e-tickets and lookup: only the owner (or a booking token) sees a booking."""

from __future__ import annotations

import dataclasses
import struct
import uuid
import zlib
from collections.abc import Callable

import httpx
import jwt
import pytest
import segno
from redis.asyncio import Redis
from structlog.testing import capture_logs

from admitone.admission.ratelimit import LOOKUP_BURST, RateLimiter, bucket_key
from admitone.gateway.app import create_app
from admitone.runtime import Services
from admitone.settings import Settings
from tests.conftest import MakeShow, bearer
from tests.integration.booking_support import confirmed_booking, pending_booking

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


async def test_owner_reads_a_confirmed_booking(
    client: httpx.AsyncClient,
    services: Services,
    make_show: MakeShow,
    access_token: Callable[..., str],
) -> None:
    """The visitor who booked sees reference, seats, amount, show, payment and a ticket link."""
    show = await make_show()
    booking = await confirmed_booking(client, services, show, access_token, ["A2", "A1"])
    response = await client.get(f"/api/v1/bookings/{booking.id}", headers=bearer(booking.token))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["id"] == booking.id
    assert body["reference"] == booking.reference
    assert body["status"] == "CONFIRMED"
    assert body["seats"] == [{"id": "A1", "price": "200.00"}, {"id": "A2", "price": "200.00"}]
    assert (body["amount"], body["currency"]) == ("400.00", "INR")
    assert body["paymentStatus"] == "SUCCESS"
    assert body["show"]["id"] == show.id
    assert body["show"]["title"].startswith("Test Movie")
    assert body["show"]["theater"] == "Test Theater"
    assert body["show"]["screen"] == "Screen 1"
    assert body["ticket"]["url"] == f"http://admitone.test/api/v1/bookings/{booking.id}/ticket"
    assert body["refund"] is None


async def test_pending_booking_has_no_ticket(
    client: httpx.AsyncClient, make_show: MakeShow, access_token: Callable[..., str]
) -> None:
    """Before the payment succeeds the booking is PENDING, its payment INITIATED, ticket null."""
    booking = await pending_booking(client, await make_show(), access_token)
    body = (
        await client.get(f"/api/v1/bookings/{booking.id}", headers=bearer(booking.token))
    ).json()
    assert (body["status"], body["paymentStatus"], body["ticket"]) == ("PENDING", "INITIATED", None)


async def test_another_visitor_gets_404(
    client: httpx.AsyncClient,
    services: Services,
    make_show: MakeShow,
    access_token: Callable[..., str],
) -> None:
    """A valid access token of another visitor, even for the same show, finds nothing."""
    show = await make_show()
    booking = await confirmed_booking(client, services, show, access_token)
    for path in (f"/api/v1/bookings/{booking.id}", f"/api/v1/bookings/{booking.id}/ticket"):
        response = await client.get(path, headers=bearer(access_token(show.id)))
        assert response.status_code == 404
        assert response.json()["error"] == "BOOKING_NOT_FOUND"


@pytest.mark.parametrize("bad_id", ["not-a-uuid", str(uuid.uuid4()), "%00", "1" * 300])
async def test_malformed_or_unknown_ids_are_404(
    client: httpx.AsyncClient, make_show: MakeShow, access_token: Callable[..., str], bad_id: str
) -> None:
    """Ids that are not UUIDs, or name no booking, answer 404 problems, never 500."""
    show = await make_show(rows=1, seats_per_row=1)
    token = access_token(show.id)
    for method in ("GET", "DELETE"):
        response = await client.request(method, f"/api/v1/bookings/{bad_id}", headers=bearer(token))
        assert response.status_code == 404, (method, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")


async def test_no_token_is_401(client: httpx.AsyncClient) -> None:
    """Without a bearer token the booking routes answer 401 TOKEN_INVALID."""
    response = await client.get(f"/api/v1/bookings/{uuid.uuid4()}")
    assert response.status_code == 401
    assert response.json()["error"] == "TOKEN_INVALID"


async def test_booking_token_reads_its_booking_only(
    client: httpx.AsyncClient,
    services: Services,
    make_show: MakeShow,
    access_token: Callable[..., str],
) -> None:
    """A booking token opens the booking it names (200) and no other (404)."""
    show = await make_show()
    mine = await confirmed_booking(client, services, show, access_token, ["A1"])
    other = await confirmed_booking(client, services, show, access_token, ["A2"])
    token = services.tokens.issue_booking_token(
        booking_id=mine.id, visitor_id=mine.visitor, ttl_seconds=60
    )
    assert (
        await client.get(f"/api/v1/bookings/{mine.id}", headers=bearer(token))
    ).status_code == 200
    response = await client.get(f"/api/v1/bookings/{other.id}", headers=bearer(token))
    assert response.status_code == 404
    assert response.json()["error"] == "BOOKING_NOT_FOUND"


async def test_ticket_payload_verifies_offline_with_the_jwks(
    client: httpx.AsyncClient,
    services: Services,
    make_show: MakeShow,
    access_token: Callable[..., str],
) -> None:
    """A venue holding only /.well-known/jwks.json verifies the QR payload and reads the seats."""
    show = await make_show()
    booking = await confirmed_booking(client, services, show, access_token, ["B3", "B4"])
    response = await client.get(
        f"/api/v1/bookings/{booking.id}/ticket", headers=bearer(booking.token)
    )
    assert response.status_code == 200, response.text
    ticket = response.json()
    assert ticket["jwksUrl"] == "http://admitone.test/.well-known/jwks.json"
    assert ticket["seats"] == ["B3", "B4"]
    assert ticket["reference"] == booking.reference

    jwks = (await client.get("/.well-known/jwks.json")).json()
    kid = jwt.get_unverified_header(ticket["qrPayload"])["kid"]
    jwk = jwt.PyJWK(next(key for key in jwks["keys"] if key["kid"] == kid))
    claims = jwt.decode(
        ticket["qrPayload"], jwk.key, algorithms=["EdDSA"], audience="admitone-venue"
    )
    assert claims["reference"] == booking.reference
    assert claims["bookingId"] == booking.id
    assert claims["showId"] == show.id
    assert claims["seats"] == ["B3", "B4"]
    assert claims["sub"] == booking.visitor
    assert len(ticket["qrPayload"]) < 700  # fits a QR code a phone reads at arm's length

    tampered = ticket["qrPayload"][:-4] + (
        "AAAA" if not ticket["qrPayload"].endswith("AAAA") else "BBBB"
    )
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(tampered, jwk.key, algorithms=["EdDSA"], audience="admitone-venue")


def _png_modules(png: bytes) -> list[list[bool]]:
    """Decode a 1-bit greyscale PNG (what segno writes) into rows of dark pixels."""
    assert png.startswith(PNG_MAGIC)
    pos, idat, width, height = 8, b"", 0, 0
    while pos < len(png):
        (length,), kind = struct.unpack(">I", png[pos : pos + 4]), png[pos + 4 : pos + 8]
        chunk = png[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour = struct.unpack(">IIBB", chunk[:10])
            assert (depth, colour) == (1, 0)
        elif kind == b"IDAT":
            idat += chunk
        pos += 12 + length
    raw, stride, rows = zlib.decompress(idat), (width + 7) // 8, []
    assert len(raw) == height * (stride + 1)
    previous = bytearray(stride)
    for y in range(height):
        kind, line = (
            raw[y * (stride + 1)],
            bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)]),
        )
        for i in range(stride):  # undo the PNG line filter (bytes per pixel: 1)
            left, up, corner = (line[i - 1] if i else 0), previous[i], (previous[i - 1] if i else 0)
            predictor = {0: 0, 1: left, 2: up, 3: (left + up) // 2, 4: _paeth(left, up, corner)}
            line[i] = (line[i] + predictor[kind]) & 0xFF
        rows.append([not (line[x // 8] >> (7 - x % 8)) & 1 for x in range(width)])
        previous = line
    return rows


def _paeth(left: int, up: int, corner: int) -> int:
    estimate = left + up - corner
    distances = [abs(estimate - left), abs(estimate - up), abs(estimate - corner)]
    return (left, up, corner)[distances.index(min(distances))]


async def test_ticket_png_is_the_qr_code_of_the_payload(
    client: httpx.AsyncClient,
    services: Services,
    make_show: MakeShow,
    access_token: Callable[..., str],
) -> None:
    """?format=png answers image/png whose pixels are exactly the QR code of the signed payload."""
    show = await make_show()
    booking = await confirmed_booking(client, services, show, access_token)
    path = f"/api/v1/bookings/{booking.id}/ticket"
    for _ in range(3):
        # Ed25519 signs deterministically: equal payloads before and after the image (same iat
        # second) mean the image carries that payload too.
        before = (await client.get(path, headers=bearer(booking.token))).json()["qrPayload"]
        response = await client.get(path, params={"format": "png"}, headers=bearer(booking.token))
        after = (await client.get(path, headers=bearer(booking.token))).json()["qrPayload"]
        if before == after:
            break
    assert before == after
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/png"
    assert response.content.startswith(PNG_MAGIC)
    pixels = _png_modules(response.content)

    expected = [
        [bool(v) for v in row]
        for row in segno.make(before, error="m", micro=False).matrix_iter(scale=1, border=4)
    ]
    scale = len(pixels) // len(expected)
    assert scale >= 1
    assert len(pixels) == len(expected) * scale
    assert [row[::scale] for row in pixels[::scale]] == expected


async def test_ticket_of_a_pending_booking_is_409(
    client: httpx.AsyncClient, make_show: MakeShow, access_token: Callable[..., str]
) -> None:
    """Only a CONFIRMED booking has a ticket; a PENDING one answers 409 BOOKING_STATE."""
    booking = await pending_booking(client, await make_show(), access_token)
    response = await client.get(
        f"/api/v1/bookings/{booking.id}/ticket", headers=bearer(booking.token)
    )
    assert response.status_code == 409
    assert response.json()["error"] == "BOOKING_STATE"


async def test_unknown_ticket_format_is_400(
    client: httpx.AsyncClient,
    services: Services,
    make_show: MakeShow,
    access_token: Callable[..., str],
) -> None:
    """?format= only takes json or png; anything else is a 400 problem."""
    booking = await confirmed_booking(client, services, await make_show(), access_token)
    response = await client.get(
        f"/api/v1/bookings/{booking.id}/ticket",
        params={"format": "gif"},
        headers=bearer(booking.token),
    )
    assert response.status_code == 400


async def test_lookup_gives_a_token_that_opens_the_booking(
    client: httpx.AsyncClient,
    services: Services,
    make_show: MakeShow,
    access_token: Callable[..., str],
) -> None:
    """Reference and e-mail (any letter case) give a booking token accepted by GET and ticket."""
    booking = await confirmed_booking(
        client, services, await make_show(), access_token, email="Fan.Two@Example.com"
    )
    response = await client.post(
        "/api/v1/bookings/lookup",
        json={"reference": booking.reference.lower(), "email": "fan.two@EXAMPLE.com"},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["bookingId"] == booking.id
    token = body["bookingToken"]
    got = await client.get(f"/api/v1/bookings/{booking.id}", headers=bearer(token))
    assert got.status_code == 200
    assert got.json()["reference"] == booking.reference
    ticket = await client.get(f"/api/v1/bookings/{booking.id}/ticket", headers=bearer(token))
    assert ticket.status_code == 200


async def test_lookup_with_a_wrong_email_or_reference_is_the_same_404(
    client: httpx.AsyncClient,
    services: Services,
    make_show: MakeShow,
    access_token: Callable[..., str],
) -> None:
    """A wrong e-mail and a wrong reference get identical answers: neither can be probed."""
    booking = await confirmed_booking(client, services, await make_show(), access_token)
    wrong_email = await client.post(
        "/api/v1/bookings/lookup", json={"reference": booking.reference, "email": "x@example.com"}
    )
    wrong_ref = await client.post(
        "/api/v1/bookings/lookup", json={"reference": "AOZZZZZZZZ", "email": booking.email}
    )
    assert wrong_email.status_code == wrong_ref.status_code == 404
    assert wrong_email.json() == wrong_ref.json()
    assert wrong_email.json()["error"] == "BOOKING_NOT_FOUND"


async def test_lookup_is_rate_limited_per_client(client: httpx.AsyncClient) -> None:
    """After the burst, lookups from one address answer 429 with a Retry-After."""
    body = {"reference": "AOXXXXXXXX", "email": "nobody@example.com"}
    answers = [
        (await client.post("/api/v1/bookings/lookup", json=body)).status_code
        for _ in range(LOOKUP_BURST)
    ]
    assert answers == [404] * LOOKUP_BURST
    limited = await client.post("/api/v1/bookings/lookup", json=body)
    assert limited.status_code == 429
    assert limited.json()["error"] == "RATE_LIMITED"
    assert 1 <= int(limited.headers["Retry-After"]) <= 12


async def test_lookup_fails_open_when_redis_is_down(
    client: httpx.AsyncClient,
    services: Services,
    settings: Settings,
    make_show: MakeShow,
    access_token: Callable[..., str],
) -> None:
    """With the limiter's Redis unreachable, lookup still answers, and says so in the log."""
    booking = await confirmed_booking(client, services, await make_show(), access_token)
    dead = Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.5)
    working, services.rate_limiter = services.rate_limiter, RateLimiter(dead, "dead")
    try:
        # An app of its own: an app hands its routes the services it found when first asked.
        app = create_app(settings, services=services)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://t"
        ) as own:
            with capture_logs() as logs:
                response = await own.post(
                    "/api/v1/bookings/lookup",
                    json={"reference": booking.reference, "email": booking.email},
                )
    finally:
        services.rate_limiter = working
        await dead.aclose()
    assert response.status_code == 200, response.text
    assert any(entry["event"] == "rate_limiter_unavailable" for entry in logs)


async def test_token_bucket_refills_at_its_rate(services: Services) -> None:
    """A bucket allows its burst at once, then refuses with the wait until the next token."""
    limiter = RateLimiter(services.redis, "tests")
    key = bucket_key("test", uuid.uuid4().hex)
    results = [await limiter.take(key, rate_per_second=2, burst=3) for _ in range(4)]
    assert [allowed for allowed, _ in results] == [True, True, True, False]
    assert results[0][1] == 0
    assert 0.2 < results[3][1] <= 0.5  # half a second per token, minus what has refilled
    assert 0 < await services.redis.pttl(f"tests:{key}") <= 2500
    with pytest.raises(ValueError, match="burst"):
        await limiter.take(key, rate_per_second=1, burst=1, cost=2)


async def test_lookup_limit_is_per_client_behind_a_trusted_proxy(
    services: Services, make_settings: Callable[..., Settings]
) -> None:
    """Behind one trusted proxy, the lookup bucket is the client's (X-Forwarded-For), not the
    proxy's: one client's exhausted burst does not refuse another client, by form or JSON."""
    settings = make_settings(trusted_proxy_hops=1)
    app = create_app(settings, services=dataclasses.replace(services, settings=settings))
    body = {"reference": "AOXXXXXXXX", "email": "nobody@example.com"}
    # Fresh addresses each run: the buckets live in Redis for the session.
    first = f"2001:db8:1::{uuid.uuid4().hex[:4]}"
    second = f"2001:db8:2::{uuid.uuid4().hex[:4]}"
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://t") as http:
        answers = [(await http.post("/api/v1/bookings/lookup", json=body,
                                    headers={"X-Forwarded-For": first})).status_code
                   for _ in range(LOOKUP_BURST + 1)]
        other = await http.post("/api/v1/bookings/lookup", json=body,
                                headers={"X-Forwarded-For": second})
        form = await http.post("/my-booking", data={"reference": "AOXXXXXXXX",
                                                    "email": "nobody@example.com"},
                               headers={"X-Forwarded-For": first})
    assert answers == [404] * LOOKUP_BURST + [429]
    assert other.status_code == 404
    assert form.status_code == 429  # the form shares the JSON route's bucket
