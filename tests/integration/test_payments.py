"""Payments end to end (seed §4.3, §10.1, §10.2 cases 2, 3, 5): checkout, the sandbox gateway,
settlement, refunds when the seats were lost, reconciliation of lost webhooks, idempotent pay."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from dataclasses import replace
from decimal import Decimal

import httpx
import pytest

from admitone.booking_core.payments.provider import RefundRejectedError
from admitone.gateway.app import create_app
from admitone.jobs import jobs_for
from admitone.runtime import Services, open_services
from admitone.settings import Settings
from tests.conftest import MakeShow, bearer, expire_lock
from tests.integration.payment_support import (
    complete,
    lock_and_checkout,
    outbox_topics,
    state_of,
)


async def test_paying_confirms_booking_books_seats_and_converts_lock(
    client: httpx.AsyncClient, services: Services, make_show: MakeShow,
    access_token: Callable[..., str],
) -> None:
    """A SUCCESS at the sandbox confirms the booking: seats BOOKED for it, lock CONVERTED."""
    show = await make_show()
    checkout = await lock_and_checkout(client, show, access_token)

    done = await complete(client, checkout, "SUCCESS")

    assert done.status_code == 200, done.text
    assert done.json()["delivery"] == "DELIVERED"
    state = await state_of(services, checkout, show.id)
    assert (state.payment, state.booking, state.lock) == ("SUCCESS", "CONFIRMED", "CONVERTED")
    assert state.seats == {"A1": "BOOKED", "A2": "BOOKED"}
    seats = await services.pool.fetch(
        "SELECT holder, booking_id, lock_id FROM show_seats"
        " WHERE show_id = $1 AND seat_id = ANY($2)",
        uuid.UUID(show.id), checkout.seats,
    )
    assert {(r["holder"], str(r["booking_id"]), r["lock_id"]) for r in seats} == {
        (checkout.visitor, checkout.booking_id, None)
    }
    held = await services.pool.fetch("SELECT held FROM booking_seats WHERE booking_id = $1",
                                     uuid.UUID(checkout.booking_id))
    assert [r["held"] for r in held] == [True, True]
    assert await outbox_topics(services, checkout.booking_id) == ["booking.confirmed"]
    transaction = await services.pool.fetchval(
        "SELECT gateway_transaction_id FROM payments WHERE id = $1", uuid.UUID(checkout.payment_id))
    assert transaction.startswith("sbx_")


async def test_a_webhook_the_app_refuses_is_retried_then_reported_undelivered(
    client: httpx.AsyncClient, services: Services, make_show: MakeShow,
    access_token: Callable[..., str],
) -> None:
    """Signed with a secret the app does not know, every attempt is refused (401): the sandbox
    tries three times, answers UNDELIVERED, and the booking waits for reconciliation."""
    show = await make_show()
    checkout = await lock_and_checkout(client, show, access_token)
    sandbox = services.sandbox
    assert sandbox is not None
    secret, delays = sandbox.webhook_secret, sandbox.retry_delays_seconds
    sandbox.webhook_secret, sandbox.retry_delays_seconds = "not-the-app-secret", (0.0, 0.0)
    try:
        done = await complete(client, checkout, "SUCCESS")
    finally:
        sandbox.webhook_secret, sandbox.retry_delays_seconds = secret, delays

    assert done.status_code == 200, done.text
    assert (done.json()["delivery"], done.json()["attempts"]) == ("UNDELIVERED", 3)
    state = await state_of(services, checkout, show.id)
    assert (state.payment, state.booking, state.lock) == ("INITIATED", "PENDING", "ACTIVE")


async def test_confirmation_is_audited_and_announced(
    client: httpx.AsyncClient, services: Services, make_show: MakeShow,
    access_token: Callable[..., str],
) -> None:
    """Confirming writes audit rows for payment, booking and lock and drops the cached seat map."""
    show = await make_show()
    checkout = await lock_and_checkout(client, show, access_token)
    await client.get(f"/api/v1/shows/{show.id}/seats", headers=bearer(checkout.token))

    await complete(client, checkout, "SUCCESS")

    actions = await services.pool.fetch(
        "SELECT entity, action FROM audit_log WHERE entity_id = ANY($1)",
        [checkout.payment_id, checkout.booking_id, checkout.lock_id],
    )
    assert {("payment", "SUCCESS"), ("booking", "CONFIRMED"), ("lock", "CONVERTED")} <= {
        (r["entity"], r["action"]) for r in actions
    }
    seat_map = await client.get(f"/api/v1/shows/{show.id}/seats", headers=bearer(checkout.token))
    statuses = {s["id"]: s["status"] for s in seat_map.json()["seats"]}
    assert statuses["A1"] == statuses["A2"] == "BOOKED"


async def test_payment_page_shows_charge_and_form_pays_and_returns(
    client: httpx.AsyncClient, services: Services, make_show: MakeShow,
    access_token: Callable[..., str],
) -> None:
    """The pay page shows amount, currency and method; Pay confirms and redirects back."""
    show = await make_show()
    checkout = await lock_and_checkout(client, show, access_token)

    page = await client.get(f"/sandbox/pay/{checkout.payment_id}")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "400.00 INR" in page.text
    assert "CARD" in page.text
    assert 'name="outcome" value="SUCCESS"' in page.text
    assert 'value="FAILED" disabled>Fail payment</button>' in page.text

    form = await client.post(f"/sandbox/payments/{checkout.payment_id}/complete",
                             data={"outcome": "SUCCESS", "token": checkout.token})
    assert form.status_code == 303
    assert form.headers["location"] == f"http://admitone.test/bookings/{checkout.booking_id}"
    assert (await state_of(services, checkout, show.id)).booking == "CONFIRMED"
    paid_page = await client.get(f"/sandbox/pay/{checkout.payment_id}")
    assert "This payment is complete." in paid_page.text
    assert "Fail payment" not in paid_page.text


async def test_sandbox_reports_charge_status_and_refuses_paying_twice(
    client: httpx.AsyncClient, make_show: MakeShow, access_token: Callable[..., str]
) -> None:
    """The sandbox answers a charge's status; a paid charge cannot be completed again (409)."""
    show = await make_show()
    checkout = await lock_and_checkout(client, show, access_token)
    before = await client.get(f"/sandbox/payments/{checkout.payment_id}")
    assert before.json()["status"] == "PENDING"
    assert before.json()["amount"] == "400.00"

    await complete(client, checkout, "SUCCESS")

    after = await client.get(f"/sandbox/payments/{checkout.payment_id}")
    assert after.json()["status"] == "SUCCESS"
    again = await complete(client, checkout, "FAILED")
    assert again.status_code == 409
    unknown = await client.get(f"/sandbox/payments/{uuid.uuid4()}")
    assert unknown.status_code == 404
    assert unknown.json()["error"] == "PAYMENT_NOT_FOUND"
    missing_page = await client.get("/sandbox/pay/not-a-payment")
    assert missing_page.status_code == 404
    bad = await client.post(f"/sandbox/payments/{checkout.payment_id}/complete",
                            json={"outcome": "MAYBE"}, headers=bearer(checkout.token))
    assert bad.status_code == 400


async def test_failed_payment_keeps_the_hold_for_a_retry(
    client: httpx.AsyncClient, services: Services, make_show: MakeShow,
    access_token: Callable[..., str],
) -> None:
    """A FAILED payment fails the booking but keeps the fan's lock and seats while the lock lasts:
    nobody else can take them, and checkout on the same lock works again."""
    show = await make_show()
    checkout = await lock_and_checkout(client, show, access_token)

    done = await complete(client, checkout, "FAILED")

    assert done.status_code == 200
    state = await state_of(services, checkout, show.id)
    assert (state.payment, state.booking, state.lock) == ("FAILED", "FAILED", "ACTIVE")
    assert state.seats == {"A1": "LOCKED", "A2": "LOCKED"}
    assert await outbox_topics(services, checkout.booking_id) == ["booking.failed"]
    other = await client.post("/api/v1/bookings/lock",
                              json={"showId": show.id, "seatIds": ["A1", "A2"]},
                              headers=bearer(access_token(show.id)))
    assert other.status_code == 409, other.text
    retry = await client.post(
        "/api/v1/bookings",
        json={"lockId": checkout.lock_id, "paymentMethod": "UPI", "email": "fan@example.com"},
        headers={**bearer(checkout.token), "Idempotency-Key": uuid.uuid4().hex})
    assert retry.status_code == 201, retry.text
    await complete(client, replace(checkout, payment_id=retry.json()["paymentId"]), "SUCCESS")
    seats = await services.pool.fetch(
        "SELECT status, booking_id FROM show_seats WHERE show_id = $1 AND seat_id = ANY($2)",
        uuid.UUID(show.id), ["A1", "A2"])
    assert {(r["status"], str(r["booking_id"])) for r in seats} == {
        ("BOOKED", retry.json()["bookingId"])}


async def test_hold_kept_after_a_failed_payment_is_swept_at_expiry(
    client: httpx.AsyncClient, services: Services, make_show: MakeShow,
    access_token: Callable[..., str],
) -> None:
    """The hold a failed payment kept ends like any lock: the sweeper frees it once it expires,
    and then another visitor can lock the seats."""
    show = await make_show()
    checkout = await lock_and_checkout(client, show, access_token)
    await complete(client, checkout, "FAILED")
    await expire_lock(services, checkout.lock_id)

    await services.seats.sweep_expired()

    state = await state_of(services, checkout, show.id)
    assert (state.payment, state.booking, state.lock) == ("FAILED", "FAILED", "EXPIRED")
    assert state.seats == {"A1": "AVAILABLE", "A2": "AVAILABLE"}
    other = await client.post("/api/v1/bookings/lock",
                              json={"showId": show.id, "seatIds": ["A1", "A2"]},
                              headers=bearer(access_token(show.id)))
    assert other.status_code == 200, other.text


async def test_failure_after_the_lock_expired_frees_the_seats(
    client: httpx.AsyncClient, services: Services, make_show: MakeShow,
    access_token: Callable[..., str],
) -> None:
    """A failure that arrives once the lock has run out keeps nothing: the seats are freed."""
    show = await make_show()
    checkout = await lock_and_checkout(client, show, access_token)
    await expire_lock(services, checkout.lock_id)

    await complete(client, checkout, "FAILED")

    state = await state_of(services, checkout, show.id)
    assert (state.payment, state.booking, state.lock) == ("FAILED", "FAILED", "EXPIRED")
    assert state.seats == {"A1": "AVAILABLE", "A2": "AVAILABLE"}


async def test_fan_can_give_back_the_hold_after_a_failed_payment(
    client: httpx.AsyncClient, services: Services, make_show: MakeShow,
    access_token: Callable[..., str],
) -> None:
    """After a failure the lock is released by its owner as before a checkout (no 409)."""
    show = await make_show()
    checkout = await lock_and_checkout(client, show, access_token)
    await complete(client, checkout, "FAILED")

    released = await client.delete(f"/api/v1/bookings/lock/{checkout.lock_id}",
                                   headers=bearer(checkout.token))

    assert released.status_code == 200, released.text
    state = await state_of(services, checkout, show.id)
    assert (state.lock, state.seats) == ("RELEASED", {"A1": "AVAILABLE", "A2": "AVAILABLE"})


async def test_success_after_lock_expired_refunds_in_full(
    client: httpx.AsyncClient, services: Services, make_show: MakeShow,
    access_token: Callable[..., str],
) -> None:
    """A success arriving after the lock expired fails the booking and refunds the whole amount."""
    show = await make_show()
    checkout = await lock_and_checkout(client, show, access_token)
    await expire_lock(services, checkout.lock_id)

    await complete(client, checkout, "SUCCESS")

    state = await state_of(services, checkout, show.id)
    assert (state.payment, state.booking, state.lock) == ("REFUNDED", "FAILED", "EXPIRED")
    assert state.seats == {"A1": "AVAILABLE", "A2": "AVAILABLE"}
    refund = await services.pool.fetchrow(
        "SELECT id, amount, reason, status FROM refunds WHERE payment_id = $1",
        uuid.UUID(checkout.payment_id),
    )
    assert (refund["amount"], refund["reason"]) == (Decimal("400.00"), "SEATS_LOST")
    assert refund["status"] == "PROCESSED"
    assert await outbox_topics(services, checkout.booking_id) == [
        "refund.requested", "booking.failed"]
    charge = await client.get(f"/sandbox/payments/{checkout.payment_id}")
    assert charge.json()["refundedAmount"] == "400.00"


async def test_success_after_seats_were_taken_refunds_and_keeps_new_holder(
    client: httpx.AsyncClient, services: Services, make_show: MakeShow,
    access_token: Callable[..., str],
) -> None:
    """When another visitor took the expired seats, a late success refunds and leaves them alone."""
    show = await make_show()
    checkout = await lock_and_checkout(client, show, access_token)
    await expire_lock(services, checkout.lock_id)
    rival = await client.post("/api/v1/bookings/lock", json={"showId": show.id, "seatIds": ["A1"]},
                              headers=bearer(access_token(show.id)))
    assert rival.status_code == 200

    await complete(client, checkout, "SUCCESS")

    state = await state_of(services, checkout, show.id)
    assert (state.payment, state.booking) == ("REFUNDED", "FAILED")
    assert state.seats == {"A1": "LOCKED", "A2": "AVAILABLE"}
    a1_lock = await services.pool.fetchval(
        "SELECT lock_id FROM show_seats WHERE show_id = $1 AND seat_id = 'A1'", uuid.UUID(show.id))
    assert str(a1_lock) == rival.json()["lockId"]


async def test_lock_running_out_in_real_time_during_payment_refunds(
    make_settings: Callable[..., Settings], make_show: MakeShow, access_token: Callable[..., str],
) -> None:
    """With a 2 s lock, paying 2.2 s after checkout refunds instead of confirming."""
    settings = make_settings(lock_seconds=2, payment_timeout_seconds=1)
    async with open_services(settings) as short:
        app = create_app(settings, services=short)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                     base_url="http://admitone.test") as http:
            show = await make_show()
            checkout = await lock_and_checkout(http, show, access_token)
            # Real time, on purpose: the lock's expiry is PostgreSQL's clock_timestamp().
            await asyncio.sleep(2.2)
            await complete(http, checkout, "SUCCESS")
            state = await state_of(short, checkout, show.id)
    assert (state.payment, state.booking) == ("REFUNDED", "FAILED")
    assert state.seats == {"A1": "AVAILABLE", "A2": "AVAILABLE"}


async def test_dropped_webhook_is_settled_by_reconciliation(
    client: httpx.AsyncClient, services: Services, make_show: MakeShow,
    access_token: Callable[..., str],
) -> None:
    """A success whose webhook never came is found by the reconciler asking the gateway."""
    show = await make_show()
    checkout = await lock_and_checkout(client, show, access_token)
    dropped = await complete(client, checkout, "SUCCESS", drop=True)
    assert dropped.json()["delivery"] == "DROPPED"
    assert (await state_of(services, checkout, show.id)).booking == "PENDING"

    await services.reconciler.reconcile_once()
    assert (await state_of(services, checkout, show.id)).booking == "PENDING"  # not yet due
    await services.pool.execute(
        "UPDATE payments SET initiated_at = initiated_at - interval '1 hour' WHERE id = $1",
        uuid.UUID(checkout.payment_id))
    await services.reconciler.reconcile_once()

    state = await state_of(services, checkout, show.id)
    assert (state.payment, state.booking, state.seats["A1"]) == ("SUCCESS", "CONFIRMED", "BOOKED")


async def test_dropped_failure_is_settled_by_reconciliation(
    client: httpx.AsyncClient, services: Services, make_show: MakeShow,
    access_token: Callable[..., str],
) -> None:
    """A failure whose webhook never came fails the booking once reconciliation asks (the
    hold stays for a retry until the lock expires)."""
    show = await make_show()
    checkout = await lock_and_checkout(client, show, access_token)
    await complete(client, checkout, "FAILED", drop=True)
    await services.pool.execute(
        "UPDATE payments SET initiated_at = initiated_at - interval '1 hour' WHERE id = $1",
        uuid.UUID(checkout.payment_id))

    await services.reconciler.reconcile_once()

    state = await state_of(services, checkout, show.id)
    assert (state.payment, state.booking) == ("FAILED", "FAILED")
    assert state.seats == {"A1": "LOCKED", "A2": "LOCKED"}  # kept for a retry while it lasts


async def test_payment_past_its_window_still_pending_is_failed(
    client: httpx.AsyncClient, services: Services, make_show: MakeShow,
    access_token: Callable[..., str],
) -> None:
    """A payment whose window closed while the gateway says PENDING is failed; the hold stays
    for a retry while its lock lasts."""
    show = await make_show()
    checkout = await lock_and_checkout(client, show, access_token)
    await services.pool.execute(
        "UPDATE payments SET expires_at = clock_timestamp() - interval '1 second' WHERE id = $1",
        uuid.UUID(checkout.payment_id))

    await services.reconciler.reconcile_once()

    state = await state_of(services, checkout, show.id)
    assert (state.payment, state.booking, state.lock) == ("FAILED", "FAILED", "ACTIVE")
    assert state.seats == {"A1": "LOCKED", "A2": "LOCKED"}
    reason = await services.pool.fetchval(
        "SELECT payload->>'reason' FROM outbox WHERE topic = 'booking.failed'"
        " AND payload->>'bookingId' = $1", checkout.booking_id)
    assert reason == "PAYMENT_EXPIRED"


async def test_delayed_webhook_confirms_later(
    client: httpx.AsyncClient, services: Services, make_show: MakeShow,
    access_token: Callable[..., str],
) -> None:
    """A webhook the sandbox sends late still confirms the booking when it arrives."""
    show = await make_show()
    checkout = await lock_and_checkout(client, show, access_token)

    scheduled = await complete(client, checkout, "SUCCESS", delaySeconds=0.3)

    assert scheduled.json()["delivery"] == "SCHEDULED"
    assert (await state_of(services, checkout, show.id)).booking == "PENDING"
    for _ in range(50):  # the sandbox's delayed delivery runs in the background: at most 5 s
        await asyncio.sleep(0.1)
        if (await state_of(services, checkout, show.id)).booking == "CONFIRMED":
            break
    assert (await state_of(services, checkout, show.id)).booking == "CONFIRMED"


async def test_sandbox_refund_is_idempotent_and_bounded(
    client: httpx.AsyncClient, services: Services, make_show: MakeShow,
    access_token: Callable[..., str],
) -> None:
    """A refund sent twice is recorded once; refunding more than was paid is refused."""
    show = await make_show()
    checkout = await lock_and_checkout(client, show, access_token)
    sandbox = services.sandbox
    assert sandbox is not None
    refund_id = str(uuid.uuid4())
    with pytest.raises(RefundRejectedError):  # not paid yet
        await sandbox.refund(payment_id=checkout.payment_id, refund_id=refund_id,
                             amount=Decimal("100.00"))
    await complete(client, checkout, "SUCCESS")

    for _ in range(2):
        await sandbox.refund(payment_id=checkout.payment_id, refund_id=refund_id,
                             amount=Decimal("100.00"))
    with pytest.raises(RefundRejectedError):
        await sandbox.refund(payment_id=checkout.payment_id, refund_id=str(uuid.uuid4()),
                             amount=Decimal("300.01"))

    charge = await client.get(f"/sandbox/payments/{checkout.payment_id}")
    assert charge.json()["refundedAmount"] == "100.00"
    assert await sandbox.fetch_status(checkout.payment_id) == "SUCCESS"
    assert await sandbox.fetch_status(str(uuid.uuid4())) == "UNKNOWN"


async def test_sandbox_off_hides_its_routes(
    make_settings: Callable[..., Settings], services: Services
) -> None:
    """With ADMITONE_SANDBOX_PAYMENTS=0 the sandbox's pages are not served."""
    settings = make_settings(sandbox_payments=False)
    app = create_app(settings, services=services)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://admitone.test") as http:
        page = await http.get(f"/sandbox/pay/{uuid.uuid4()}")
        done = await http.post(f"/sandbox/payments/{uuid.uuid4()}/complete",
                               json={"outcome": "SUCCESS"})
    assert page.status_code == 404
    assert done.status_code in {404, 405}


# Pay twice: idempotent checkout (seed §10.1 "Duplicate Payment") -----------------------------


async def _lock(client: httpx.AsyncClient, show_id: str, token: str) -> str:
    lock = await client.post("/api/v1/bookings/lock", json={"showId": show_id, "seatIds": ["B1"]},
                             headers=bearer(token))
    assert lock.status_code == 200, lock.text
    lock_id: str = lock.json()["lockId"]
    return lock_id


async def test_double_click_on_pay_makes_one_booking_and_one_payment(
    client: httpx.AsyncClient, services: Services, make_show: MakeShow,
    access_token: Callable[..., str],
) -> None:
    """Checking out twice with one Idempotency-Key answers the same booking and payment."""
    show = await make_show()
    token = access_token(show.id)
    lock_id = await _lock(client, show.id, token)
    headers = {**bearer(token), "Idempotency-Key": "double-click-1"}
    body = {"lockId": lock_id, "paymentMethod": "UPI", "email": "fan@example.com"}

    first = await client.post("/api/v1/bookings", json=body, headers=headers)
    second = await client.post("/api/v1/bookings", json=body, headers=headers)

    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    count = await services.pool.fetchval(
        "SELECT count(*) FROM payments p JOIN bookings b ON b.id = p.booking_id"
        " WHERE b.lock_id = $1", uuid.UUID(lock_id))
    assert count == 1


async def test_same_key_with_another_body_is_refused(
    client: httpx.AsyncClient, make_show: MakeShow, access_token: Callable[..., str]
) -> None:
    """Reusing an Idempotency-Key with a different body answers 422 IDEMPOTENCY_KEY_REUSED."""
    show = await make_show()
    token = access_token(show.id)
    lock_id = await _lock(client, show.id, token)
    headers = {**bearer(token), "Idempotency-Key": "reused-key-1"}
    body = {"lockId": lock_id, "paymentMethod": "UPI", "email": "fan@example.com"}
    first = await client.post("/api/v1/bookings", json=body, headers=headers)
    assert first.status_code == 201

    other = await client.post("/api/v1/bookings", json={**body, "paymentMethod": "CARD"},
                              headers=headers)

    assert other.status_code == 422
    assert other.json()["error"] == "IDEMPOTENCY_KEY_REUSED"


async def test_twenty_concurrent_identical_checkouts_make_one_booking(
    client: httpx.AsyncClient, services: Services, make_show: MakeShow,
    access_token: Callable[..., str],
) -> None:
    """Twenty racing checkouts with one key all answer the same booking; one exists."""
    show = await make_show()
    token = access_token(show.id)
    lock_id = await _lock(client, show.id, token)
    headers = {**bearer(token), "Idempotency-Key": "race-key-1"}
    body = {"lockId": lock_id, "paymentMethod": "CARD", "email": "fan@example.com"}

    answers = await asyncio.gather(
        *(client.post("/api/v1/bookings", json=body, headers=headers) for _ in range(20))
    )

    assert {a.status_code for a in answers} == {201}
    assert len({(a.json()["bookingId"], a.json()["paymentId"]) for a in answers}) == 1
    bookings = await services.pool.fetchval(
        "SELECT count(*) FROM bookings WHERE lock_id = $1", uuid.UUID(lock_id))
    assert bookings == 1


def test_reconciler_runs_as_a_periodic_job(services: Services) -> None:
    """The process's jobs include the payment reconciler at its configured interval."""
    job = {job.name: job for job in jobs_for(services)}["payment_reconciler"]
    assert job.interval_seconds == services.settings.reconcile_interval_seconds
    assert job.run == services.reconciler.reconcile_once
