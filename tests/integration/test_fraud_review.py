"""Fraud review (booking_core/fraud.py, review.py): a checkout scoring above
``ADMITONE_FRAUD_REVIEW_SCORE`` is held once paid (REVIEW: money captured, seats kept, no
ticket); the operator approves (CONFIRMED) or rejects (CANCELLED, full refund, seats free);
the load-test checker's invariants hold throughout."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import httpx
import pytest
from litestar import Litestar

from admitone.runtime import Services
from loadtests import check
from tests.conftest import MakeShow, bearer
from tests.integration.booking_support import BookingFixture, pending_booking
from tests.integration.console_support import console_client, form_token, post_form, sign_in

REVIEWS = "/api/v1/admin/reviews"


async def pay(client: httpx.AsyncClient, booking: BookingFixture) -> None:
    done = await client.post(f"/sandbox/payments/{booking.payment_id}/complete",
                             json={"outcome": "SUCCESS"}, headers=bearer(booking.token))
    assert done.status_code == 200, done.text


async def status_of(services: Services, booking: BookingFixture) -> str:
    found: str = await services.pool.fetchval(
        "SELECT status FROM bookings WHERE id = $1", uuid.UUID(booking.id))
    return found


async def invariants(services: Services, show_id: str) -> list[str]:
    """The checker's broken lines for the show (none expected)."""
    async with services.pool.acquire() as conn:
        lines = await check.database_lines(conn, show_id, 5.0)
    return [f"{line.check}: {line.value}" for line in lines if line.broken]


@pytest.fixture
def strict_review(services: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    """Hold a checkout with a single signal (the default needs two): a bulk buy (4 seats) by
    an address never seen before scores 30."""
    monkeypatch.setattr(services.checkout, "review_score", 25)


async def held_booking(client: httpx.AsyncClient, show_id: str, make: Callable[..., str],
                       show: object, seats: list[str]) -> BookingFixture:
    booking = await pending_booking(client, show, make, seats,  # type: ignore[arg-type]
                                    email=f"new-{uuid.uuid4().hex[:8]}@example.com")
    await pay(client, booking)
    return booking


@pytest.mark.usefixtures("strict_review")
async def test_a_risky_paid_booking_is_held_with_its_seats_and_no_ticket(
    client: httpx.AsyncClient, services: Services, make_show: MakeShow,
    access_token: Callable[..., str], operator_headers: dict[str, str],
) -> None:
    show = await make_show()
    booking = await held_booking(client, show.id, access_token, show, ["A1", "A2", "A3", "A4"])
    assert await status_of(services, booking) == "REVIEW"
    seen = await client.get(f"/api/v1/bookings/{booking.id}", headers=bearer(booking.token))
    assert seen.json()["status"] == "REVIEW"
    assert seen.json()["ticket"] is None
    ticket = await client.get(f"/api/v1/bookings/{booking.id}/ticket",
                              headers=bearer(booking.token))
    assert ticket.status_code == 409, ticket.text
    # The seats stay sold to it: nobody else can lock them.
    other = await client.post("/api/v1/bookings/lock", json={"showId": show.id, "seatIds": ["A2"]},
                              headers=bearer(access_token(show.id)))
    assert other.status_code == 409
    states = await services.pool.fetch(
        "SELECT status, booking_id FROM show_seats WHERE show_id = $1 AND seat_id = ANY($2)",
        uuid.UUID(show.id), booking.seats)
    assert {(r["status"], str(r["booking_id"])) for r in states} == {("BOOKED", booking.id)}
    assert await invariants(services, show.id) == []
    # No confirmation e-mail while held.
    assert not await services.pool.fetchval(
        "SELECT count(*) FROM outbox WHERE topic = 'booking.confirmed'"
        " AND payload->>'bookingId' = $1", booking.id)
    # The operator sees it with its reasons.
    listed = await client.get(REVIEWS, params={"show": show.id}, headers=operator_headers)
    assert listed.status_code == 200, listed.text
    [item] = listed.json()
    assert item["bookingId"] == booking.id
    assert item["seatIds"] == booking.seats
    assert item["riskScore"] == 30
    assert [r["signal"] for r in item["reasons"]] == ["BULK_ON_FRESH_IDENTITY"]


@pytest.mark.usefixtures("strict_review")
async def test_approving_confirms_and_sends_the_ticket(
    client: httpx.AsyncClient, services: Services, make_show: MakeShow,
    access_token: Callable[..., str], operator_headers: dict[str, str],
) -> None:
    show = await make_show()
    booking = await held_booking(client, show.id, access_token, show, ["B1", "B2", "B3", "B4"])
    approved = await client.post(f"/api/v1/admin/bookings/{booking.id}/approve",
                                 headers=operator_headers)
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "CONFIRMED"
    assert await status_of(services, booking) == "CONFIRMED"
    ticket = await client.get(f"/api/v1/bookings/{booking.id}/ticket",
                              headers=bearer(booking.token))
    assert ticket.status_code == 200, ticket.text
    assert await services.pool.fetchval(
        "SELECT count(*) FROM outbox WHERE topic = 'booking.confirmed'"
        " AND payload->>'bookingId' = $1", booking.id) == 1
    again = await client.post(f"/api/v1/admin/bookings/{booking.id}/approve",
                              headers=operator_headers)
    assert again.status_code == 200
    assert again.json()["status"] == "CONFIRMED"
    refused = await client.post(f"/api/v1/admin/bookings/{booking.id}/reject",
                                headers=operator_headers)
    assert refused.status_code == 409, refused.text
    assert refused.json()["error"] == "BOOKING_STATE"
    assert await invariants(services, show.id) == []
    listed = await client.get(REVIEWS, params={"show": show.id}, headers=operator_headers)
    assert listed.json() == []


@pytest.mark.usefixtures("strict_review")
async def test_rejecting_refunds_in_full_and_frees_the_seats(
    client: httpx.AsyncClient, services: Services, make_show: MakeShow,
    access_token: Callable[..., str], operator_headers: dict[str, str],
) -> None:
    show = await make_show()
    booking = await held_booking(client, show.id, access_token, show, ["A5", "A6", "A7", "A8"])
    rejected = await client.post(f"/api/v1/admin/bookings/{booking.id}/reject",
                                 headers=operator_headers)
    assert rejected.status_code == 200, rejected.text
    body = rejected.json()
    assert body["status"] == "CANCELLED"
    assert body["refundAmount"] == booking.amount
    refund = await services.pool.fetchrow(
        "SELECT amount, reason FROM refunds WHERE booking_id = $1", uuid.UUID(booking.id))
    assert (str(refund["amount"]), refund["reason"]) == (booking.amount, "REVIEW_REJECTED")
    assert await services.pool.fetchval(
        "SELECT status FROM payments WHERE booking_id = $1", uuid.UUID(booking.id)) == "REFUNDED"
    assert await services.pool.fetchval(
        "SELECT count(*) FROM outbox WHERE topic = 'refund.requested'"
        " AND payload->>'bookingId' = $1", booking.id) == 1
    free = await services.pool.fetchval(
        "SELECT count(*) FROM show_seats WHERE show_id = $1 AND seat_id = ANY($2)"
        " AND status = 'AVAILABLE'", uuid.UUID(show.id), booking.seats)
    assert free == 4
    relock = await client.post("/api/v1/bookings/lock",
                               json={"showId": show.id, "seatIds": ["A5", "A6"]},
                               headers=bearer(access_token(show.id)))
    assert relock.status_code == 200, relock.text
    assert await invariants(services, show.id) == []
    again = await client.post(f"/api/v1/admin/bookings/{booking.id}/reject",
                              headers=operator_headers)
    assert again.status_code == 200
    assert await services.pool.fetchval(
        "SELECT count(*) FROM refunds WHERE booking_id = $1", uuid.UUID(booking.id)) == 1


async def test_an_ordinary_booking_is_not_held_at_the_default_score(
    client: httpx.AsyncClient, services: Services, make_show: MakeShow,
    access_token: Callable[..., str],
) -> None:
    """The default (60) needs two signals: a bulk buy by a new address alone confirms."""
    assert services.checkout.review_score == 60
    show = await make_show()
    booking = await held_booking(client, show.id, access_token, show, ["A1", "A2", "A3", "A4"])
    assert await status_of(services, booking) == "CONFIRMED"
    risk = await services.pool.fetchrow(
        "SELECT risk_score, review FROM bookings WHERE id = $1", uuid.UUID(booking.id))
    assert (risk["risk_score"], risk["review"]) == (30, False)


async def test_review_routes_need_the_operator_and_a_real_booking(
    client: httpx.AsyncClient, operator_headers: dict[str, str],
) -> None:
    assert (await client.get(REVIEWS)).status_code == 401
    assert (await client.post(f"/api/v1/admin/bookings/{uuid.uuid4()}/approve")).status_code == 401
    missing = await client.post(f"/api/v1/admin/bookings/{uuid.uuid4()}/approve",
                                headers=operator_headers)
    assert missing.status_code == 404, missing.text
    bad = await client.post("/api/v1/admin/bookings/not-a-uuid/reject", headers=operator_headers)
    assert bad.status_code == 404, bad.text
    assert (await client.get(REVIEWS, params={"show": "nope"}, headers=operator_headers)).json() == []


@pytest.mark.usefixtures("strict_review")
async def test_the_console_lists_held_bookings_and_decides_them(
    app: Litestar, client: httpx.AsyncClient, services: Services, make_show: MakeShow,
    access_token: Callable[..., str],
) -> None:
    show = await make_show()
    keep = await held_booking(client, show.id, access_token, show, ["A1", "A2", "A3", "A4"])
    drop = await held_booking(client, show.id, access_token, show, ["B1", "B2", "B3", "B4"])
    page = f"/admin/reviews?show={show.id}"
    async with console_client(app) as http:
        assert (await http.get("/admin/reviews")).status_code == 303  # signed out
        await sign_in(http)
        listed = await http.get(page)
        assert listed.status_code == 200, listed.text
        html = listed.text
        for booking in (keep, drop):
            assert f'data-review="{booking.id}"' in html
            assert f'action="/admin/reviews/{booking.id}/approve"' in html
        assert html.count('data-reason="BULK_ON_FRESH_IDENTITY"') == 2
        assert 'data-control="approve"' in html
        assert 'data-control="reject"' in html
        assert "Many seats on a new e-mail address" in html
        # Without a form token: 403 and nothing changes.
        forged = await http.post(f"/admin/reviews/{keep.id}/approve", data={"confirmed": "yes"})
        assert forged.status_code == 403
        assert await status_of(services, keep) == "REVIEW"
        # Unconfirmed: a confirmation page, nothing changes.
        token = await form_token(http, page)
        asked = await http.post(f"/admin/reviews/{drop.id}/reject", data={"csrfToken": token})
        assert asked.status_code == 200
        assert "data-confirm" in asked.text
        assert await status_of(services, drop) == "REVIEW"
        approved = await post_form(http, page, f"/admin/reviews/{keep.id}/approve")
        assert approved.status_code == 303, approved.text
        rejected = await post_form(http, page, f"/admin/reviews/{drop.id}/reject")
        assert rejected.status_code == 303, rejected.text
        after = await http.get(rejected.headers["location"])
        assert "rejected" in after.text
        assert "data-reviews-empty" in (await http.get(page)).text
        hindi = await http.get(page, headers={"Accept-Language": "hi"})
        assert "समीक्षा" in hindi.text
    assert await status_of(services, keep) == "CONFIRMED"
    assert await status_of(services, drop) == "CANCELLED"
    actors = await services.pool.fetch(
        "SELECT actor FROM audit_log WHERE entity = 'booking' AND entity_id = ANY($1)"
        " AND action IN ('CONFIRMED', 'CANCELLED') AND data ? 'review'", [keep.id, drop.id])
    assert len(actors) == 2
    assert all(r["actor"].startswith("operator:") for r in actors)
    assert await invariants(services, show.id) == []


async def test_the_openapi_document_names_review_and_the_buyer_limits(
    client: httpx.AsyncClient,
) -> None:
    document = (await client.get("/schema/openapi.json")).json()
    paths = document["paths"]
    assert "get" in paths["/api/v1/admin/reviews"]
    for decision in ("approve", "reject"):
        route = paths[f"/api/v1/admin/bookings/{{bookingId}}/{decision}"]["post"]
        assert route["security"] == [{"operatorToken": []}]
    text = str(document)
    assert "'REVIEW'" in text
    assert "paymentInstrument" in text
    assert "NETWORK_SEAT_LIMIT" in text
    assert "SEAT_LIMIT_EXCEEDED" in str(paths["/api/v1/bookings"]["post"]["responses"])
