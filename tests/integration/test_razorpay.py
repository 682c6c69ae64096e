"""Paying through Razorpay: the SDK against a local stub of Razorpay's API, webhooks signed as
Razorpay signs them and verified by the SDK's own utility."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import httpx
from structlog.testing import capture_logs

from admitone.runtime import Services
from tests.conftest import OPERATOR_TOKEN, MakeShow, bearer, expire_lock
from tests.integration.payment_support import lock_and_checkout, outbox_topics, state_of
from tests.integration.provider_support import (
    RAZORPAY_WEBHOOK,
    age_payment,
    audit_actions,
    reference_of,
    refund_of,
    run_refund_outbox,
)
from tests.payment_stubs import razorpay_stub as rz
from tests.payment_stubs.razorpay_stub import RazorpayStub

Client = httpx.AsyncClient


async def test_whole_booking_through_razorpay_confirms_and_books_seats(
    razorpay_client: Client, razorpay_services: Services, razorpay: RazorpayStub,
    make_show: MakeShow, access_token: Callable[..., str],
) -> None:
    """Lock → checkout (one Order in paise, receipt = reference) → Checkout page → captured
    webhook → booking CONFIRMED, seats BOOKED, payment SUCCESS with Razorpay's payment id."""
    show = await make_show()
    checkout = await lock_and_checkout(razorpay_client, show, access_token)
    reference = await reference_of(razorpay_services, checkout)

    order = razorpay.order_for_receipt(reference)
    assert (order["amount"], order["currency"]) == (40000, "INR")
    assert order["notes"]["payment_id"] == checkout.payment_id
    assert order["notes"]["idempotency_key"]
    page = await razorpay_client.get(f"/payments/{checkout.payment_id}/pay")
    assert page.status_code == 200
    assert order["id"] in page.text
    assert 'src="https://checkout.razorpay.com/v1/checkout.js"' in page.text
    assert f'action="{razorpay.url}/v1/checkout/embedded"' in page.text  # no-script fallback
    assert "https://checkout.razorpay.com" in page.headers["content-security-policy"]

    payment = razorpay.pay(order["id"])
    body, headers = razorpay.webhook("payment.captured", payment=payment)
    answer = await razorpay_client.post(RAZORPAY_WEBHOOK, content=body, headers=headers)

    assert answer.status_code == 200
    assert answer.json() == {"received": True}
    state = await state_of(razorpay_services, checkout, show.id)
    assert (state.payment, state.booking, state.lock) == ("SUCCESS", "CONFIRMED", "CONVERTED")
    assert state.seats == {"A1": "BOOKED", "A2": "BOOKED"}
    row = await razorpay_services.pool.fetchrow(
        "SELECT gateway, gateway_transaction_id, provider_order_id FROM payments WHERE id = $1",
        uuid.UUID(checkout.payment_id))
    assert tuple(row) == ("RAZORPAY", payment["id"], order["id"])
    assert await outbox_topics(razorpay_services, checkout.booking_id) == ["booking.confirmed"]


async def test_checkout_replayed_with_its_key_creates_one_order(
    razorpay_client: Client, razorpay_services: Services, razorpay: RazorpayStub,
    make_show: MakeShow, access_token: Callable[..., str],
) -> None:
    """The same Idempotency-Key twice answers the same payment, and Razorpay sees one order."""
    show = await make_show()
    token = access_token(show.id)
    lock = await razorpay_client.post("/api/v1/bookings/lock",
                                      json={"showId": show.id, "seatIds": ["B1"]},
                                      headers=bearer(token))
    body = {"lockId": lock.json()["lockId"], "paymentMethod": "UPI", "email": "fan@example.com"}
    headers = {**bearer(token), "Idempotency-Key": f"rzp-{uuid.uuid4().hex}"}

    first = await razorpay_client.post("/api/v1/bookings", json=body, headers=headers)
    second = await razorpay_client.post("/api/v1/bookings", json=body, headers=headers)

    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert first.json()["paymentUrl"].endswith(f"/payments/{first.json()['paymentId']}/pay")
    reference = await razorpay_services.pool.fetchval(
        "SELECT reference FROM bookings WHERE id = $1", uuid.UUID(first.json()["bookingId"]))
    orders = [o for o in razorpay.orders.values() if o["receipt"] == reference]
    assert len(orders) == 1
    assert orders[0]["notes"]["idempotency_key"] == headers["Idempotency-Key"]


async def test_duplicate_and_second_capture_event_confirm_once(
    razorpay_client: Client, razorpay_services: Services, razorpay: RazorpayStub,
    make_show: MakeShow, access_token: Callable[..., str],
) -> None:
    """One event delivered twice, then order.paid for the same capture: one confirmation."""
    show = await make_show()
    checkout = await lock_and_checkout(razorpay_client, show, access_token)
    order = razorpay.order_for_receipt(await reference_of(razorpay_services, checkout))
    payment = razorpay.pay(order["id"])
    body, headers = razorpay.webhook("payment.captured", payment=payment)

    answers = [await razorpay_client.post(RAZORPAY_WEBHOOK, content=body, headers=headers)
               for _ in range(2)]
    paid_body, paid_headers = razorpay.webhook("order.paid", payment=payment)
    answers.append(await razorpay_client.post(RAZORPAY_WEBHOOK, content=paid_body,
                                              headers=paid_headers))

    assert [a.status_code for a in answers] == [200, 200, 200]
    assert (await state_of(razorpay_services, checkout, show.id)).booking == "CONFIRMED"
    assert await audit_actions(razorpay_services, checkout.booking_id) == [
        "PENDING", "CONFIRMED"]
    events = await razorpay_services.pool.fetch(
        "SELECT event_id, provider FROM webhook_events WHERE payment_id = $1",
        uuid.UUID(checkout.payment_id))
    assert {r["event_id"] for r in events} == {
        f"razorpay:{headers['X-Razorpay-Event-Id']}", f"razorpay:{paid_headers['X-Razorpay-Event-Id']}"}
    assert {r["provider"] for r in events} == {"RAZORPAY"}


async def test_failed_attempt_keeps_seats_and_a_late_failure_undoes_nothing(
    razorpay_client: Client, razorpay_services: Services, razorpay: RazorpayStub,
    make_show: MakeShow, access_token: Callable[..., str],
) -> None:
    """payment.failed keeps the booking PENDING (the fan retries in Checkout); the capture
    confirms; a failure delivered after the capture (out of order) changes nothing."""
    show = await make_show()
    checkout = await lock_and_checkout(razorpay_client, show, access_token)
    order = razorpay.order_for_receipt(await reference_of(razorpay_services, checkout))
    declined = razorpay.pay(order["id"], status="failed")
    failed_body, failed_headers = razorpay.webhook("payment.failed", payment=declined)
    await razorpay_client.post(RAZORPAY_WEBHOOK, content=failed_body, headers=failed_headers)

    state = await state_of(razorpay_services, checkout, show.id)
    assert (state.payment, state.booking, set(state.seats.values())) == (
        "INITIATED", "PENDING", {"LOCKED"})
    assert "ATTEMPT_FAILED" in await audit_actions(razorpay_services, checkout.payment_id)

    captured = razorpay.pay(order["id"])
    second_failure = razorpay.pay(order["id"], status="failed")
    for event, payment in (("payment.captured", captured), ("payment.failed", second_failure)):
        body, headers = razorpay.webhook(event, payment=payment)
        assert (await razorpay_client.post(RAZORPAY_WEBHOOK, content=body,
                                           headers=headers)).status_code == 200

    state = await state_of(razorpay_services, checkout, show.id)
    assert (state.payment, state.booking) == ("SUCCESS", "CONFIRMED")
    assert state.seats == {"A1": "BOOKED", "A2": "BOOKED"}


async def test_forged_webhooks_are_refused_and_change_nothing(
    razorpay_client: Client, razorpay_services: Services, razorpay: RazorpayStub,
    make_show: MakeShow, access_token: Callable[..., str],
) -> None:
    """Another secret, a body changed after signing, or no signature: 401 problem, no change."""
    show = await make_show()
    checkout = await lock_and_checkout(razorpay_client, show, access_token)
    order = razorpay.order_for_receipt(await reference_of(razorpay_services, checkout))
    payment = razorpay.pay(order["id"])
    forged_body, forged = razorpay.webhook("payment.captured", payment=payment,
                                           secret="not-the-webhook-secret")
    body, headers = razorpay.webhook("payment.captured", payment=payment)
    tampered = body.replace(b'"captured"', b'"captured" ', 1)

    answers = [
        await razorpay_client.post(RAZORPAY_WEBHOOK, content=forged_body, headers=forged),
        await razorpay_client.post(RAZORPAY_WEBHOOK, content=tampered, headers=headers),
        await razorpay_client.post(RAZORPAY_WEBHOOK, content=body,
                                   headers={"Content-Type": "application/json"}),
    ]

    assert [a.status_code for a in answers] == [401, 401, 401]
    assert all(a.headers["content-type"].startswith("application/problem+json") for a in answers)
    assert {a.json()["error"] for a in answers} == {"SIGNATURE_INVALID"}
    state = await state_of(razorpay_services, checkout, show.id)
    assert (state.payment, state.booking) == ("INITIATED", "PENDING")
    assert not await razorpay_services.pool.fetchval(
        "SELECT count(*) FROM webhook_events WHERE payment_id = $1", uuid.UUID(checkout.payment_id))


async def test_capture_of_another_amount_is_flagged_and_refunded_in_full(
    razorpay_client: Client, razorpay_services: Services, razorpay: RazorpayStub,
    make_show: MakeShow, access_token: Callable[..., str],
) -> None:
    """A capture of ₹1 for a ₹400 booking confirms nothing: flagged, the capture refunded."""
    show = await make_show()
    checkout = await lock_and_checkout(razorpay_client, show, access_token)
    order = razorpay.order_for_receipt(await reference_of(razorpay_services, checkout))
    cheap = razorpay.pay(order["id"], amount=100)
    body, headers = razorpay.webhook("payment.captured", payment=cheap)

    answer = await razorpay_client.post(RAZORPAY_WEBHOOK, content=body, headers=headers)
    await run_refund_outbox(razorpay_services, checkout)

    assert answer.status_code == 200
    state = await state_of(razorpay_services, checkout, show.id)
    assert (state.payment, state.booking) == ("REFUNDED", "FAILED")
    assert state.seats == {"A1": "AVAILABLE", "A2": "AVAILABLE"}
    assert "FLAGGED" in await audit_actions(razorpay_services, checkout.payment_id)
    refund = await refund_of(razorpay_services, checkout)
    assert (str(refund["amount"]), refund["reason"], refund["status"]) == (
        "1.00", "AMOUNT_MISMATCH", "PROCESSED")
    sent = razorpay.router.calls("POST", f"/v1/payments/{cheap['id']}/refund")
    assert len(sent) == 1
    assert "amount" not in sent[0].json()  # the whole capture goes back
    assert razorpay.payments[cheap["id"]]["amount_refunded"] == 100


async def test_capture_after_the_lock_expired_is_refunded_through_razorpay(
    razorpay_client: Client, razorpay_services: Services, razorpay: RazorpayStub,
    make_show: MakeShow, access_token: Callable[..., str],
) -> None:
    """A capture arriving after the seats were lost is refunded at Razorpay (receipt = our
    refund id); Razorpay's refund.processed afterwards changes nothing more."""
    show = await make_show()
    checkout = await lock_and_checkout(razorpay_client, show, access_token)
    order = razorpay.order_for_receipt(await reference_of(razorpay_services, checkout))
    await expire_lock(razorpay_services, checkout.lock_id)
    payment = razorpay.pay(order["id"])
    body, headers = razorpay.webhook("payment.captured", payment=payment)

    await razorpay_client.post(RAZORPAY_WEBHOOK, content=body, headers=headers)
    await run_refund_outbox(razorpay_services, checkout)

    state = await state_of(razorpay_services, checkout, show.id)
    assert (state.payment, state.booking, state.lock) == ("REFUNDED", "FAILED", "EXPIRED")
    refund = await refund_of(razorpay_services, checkout)
    assert (refund["reason"], refund["status"]) == ("SEATS_LOST", "PROCESSED")
    sent = razorpay.router.calls("POST", f"/v1/payments/{payment['id']}/refund")
    assert [(r.json()["amount"], r.json()["receipt"]) for r in sent] == [(40000, str(refund["id"]))]
    made = next(r for r in razorpay.refunds.values() if r["receipt"] == str(refund["id"]))
    assert refund["provider_refund_id"] == made["id"]

    processed_body, processed_headers = razorpay.webhook("refund.processed", payment=payment,
                                                         refund=made)
    again = await razorpay_client.post(RAZORPAY_WEBHOOK, content=processed_body,
                                       headers=processed_headers)
    assert again.status_code == 200
    assert (await refund_of(razorpay_services, checkout))["status"] == "PROCESSED"
    assert len(razorpay.router.calls("POST", f"/v1/payments/{payment['id']}/refund")) == 1


async def test_refund_razorpay_refuses_is_retried_then_shown_to_the_operator(
    razorpay_client: Client, razorpay_services: Services, razorpay: RazorpayStub,
    make_show: MakeShow, access_token: Callable[..., str],
) -> None:
    """Refused five times (outbox backoff between tries) the refund is FAILED with Razorpay's
    answer, listed by the operator route, and sent again on the operator's retry."""
    show = await make_show()
    checkout = await lock_and_checkout(razorpay_client, show, access_token)
    order = razorpay.order_for_receipt(await reference_of(razorpay_services, checkout))
    await expire_lock(razorpay_services, checkout.lock_id)
    payment = razorpay.pay(order["id"])
    razorpay.refuse_refunds = 5
    body, headers = razorpay.webhook("payment.captured", payment=payment)
    await razorpay_client.post(RAZORPAY_WEBHOOK, content=body, headers=headers)

    await run_refund_outbox(razorpay_services, checkout)
    first = await refund_of(razorpay_services, checkout)
    assert (first["status"], first["attempts"]) == ("PENDING", 1)
    waiting = await razorpay_services.pool.fetchval(
        "SELECT next_try_at > clock_timestamp() FROM outbox WHERE topic = 'refund.requested'"
        " AND payload->>'paymentId' = $1", checkout.payment_id)
    assert waiting  # backoff: the row waits before its next try
    for _ in range(4):
        await run_refund_outbox(razorpay_services, checkout)

    refund = await refund_of(razorpay_services, checkout)
    assert (refund["status"], refund["attempts"]) == ("FAILED", 5)
    assert "Refund is not allowed" in refund["last_error"]
    assert "FAILED" in await audit_actions(razorpay_services, str(refund["id"]))
    operator = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}
    listed = await razorpay_client.get("/api/v1/admin/refunds?status=FAILED", headers=operator)
    assert listed.status_code == 200
    mine = [r for r in listed.json() if r["id"] == str(refund["id"])]
    assert len(mine) == 1
    assert (mine[0]["provider"], mine[0]["attempts"], mine[0]["reason"]) == (
        "RAZORPAY", 5, "SEATS_LOST")
    assert (await razorpay_client.get("/api/v1/admin/refunds")).status_code == 401

    retried = await razorpay_client.post(f"/api/v1/admin/refunds/{refund['id']}/retry",
                                         headers=operator)
    assert retried.status_code == 202
    await run_refund_outbox(razorpay_services, checkout)
    assert (await refund_of(razorpay_services, checkout))["status"] == "PROCESSED"
    assert razorpay.payments[payment["id"]]["amount_refunded"] == 40000


async def test_lost_webhook_is_reconciled_from_the_orders_payments(
    razorpay_client: Client, razorpay_services: Services, razorpay: RazorpayStub,
    make_show: MakeShow, access_token: Callable[..., str],
) -> None:
    """A capture whose webhook never came is found by fetching the order's payments."""
    show = await make_show()
    checkout = await lock_and_checkout(razorpay_client, show, access_token)
    order = razorpay.order_for_receipt(await reference_of(razorpay_services, checkout))
    payment = razorpay.pay(order["id"])
    await age_payment(razorpay_services, checkout)

    await razorpay_services.reconciler.reconcile_once()

    state = await state_of(razorpay_services, checkout, show.id)
    assert (state.payment, state.booking, state.seats["A1"]) == ("SUCCESS", "CONFIRMED", "BOOKED")
    assert razorpay.router.calls("GET", f"/v1/orders/{order['id']}/payments")
    transaction = await razorpay_services.pool.fetchval(
        "SELECT gateway_transaction_id FROM payments WHERE id = $1", uuid.UUID(checkout.payment_id))
    assert transaction == payment["id"]
    late_body, late_headers = razorpay.webhook("payment.captured", payment=payment)
    late = await razorpay_client.post(RAZORPAY_WEBHOOK, content=late_body, headers=late_headers)
    assert late.status_code == 200  # the webhook arriving after all changes nothing
    assert await audit_actions(razorpay_services, checkout.booking_id) == ["PENDING", "CONFIRMED"]


async def test_checkout_callback_signature_is_verified_and_settles_at_once(
    razorpay_client: Client, razorpay_services: Services, razorpay: RazorpayStub,
    make_show: MakeShow, access_token: Callable[..., str],
) -> None:
    """Checkout's callback with a good signature confirms before any webhook and sends the fan
    to the booking; a forged signature is refused."""
    show = await make_show()
    checkout = await lock_and_checkout(razorpay_client, show, access_token)
    order = razorpay.order_for_receipt(await reference_of(razorpay_services, checkout))
    payment = razorpay.pay(order["id"])
    url = f"/payments/{checkout.payment_id}/razorpay/callback"

    forged = await razorpay_client.post(url, data=razorpay.callback_fields(
        order["id"], payment["id"], secret="someone-elses-key-secret"))
    assert forged.status_code == 401
    assert (await state_of(razorpay_services, checkout, show.id)).booking == "PENDING"

    answer = await razorpay_client.post(url, data=razorpay.callback_fields(order["id"],
                                                                           payment["id"]))
    assert answer.status_code == 303
    assert answer.headers["location"] == f"http://admitone.test/bookings/{checkout.booking_id}"
    assert (await state_of(razorpay_services, checkout, show.id)).booking == "CONFIRMED"
    paid_page = await razorpay_client.get(f"/payments/{checkout.payment_id}/pay")
    assert paid_page.status_code == 303  # nothing left to pay: back to the booking


async def test_order_made_but_not_stored_is_found_by_receipt_not_made_twice(
    razorpay_client: Client, razorpay_services: Services, razorpay: RazorpayStub,
    make_show: MakeShow, access_token: Callable[..., str],
) -> None:
    """If the order id never reached our database (a crash after Razorpay answered), the pay
    page finds the order by its receipt instead of creating a second one."""
    show = await make_show()
    checkout = await lock_and_checkout(razorpay_client, show, access_token)
    reference = await reference_of(razorpay_services, checkout)
    order = razorpay.order_for_receipt(reference)
    await razorpay_services.pool.execute(
        "UPDATE payments SET provider_order_id = NULL WHERE id = $1",
        uuid.UUID(checkout.payment_id))

    page = await razorpay_client.get(f"/payments/{checkout.payment_id}/pay")

    assert page.status_code == 200
    assert order["id"] in page.text
    assert [o["id"] for o in razorpay.orders.values() if o["receipt"] == reference] == [order["id"]]
    assert razorpay.router.calls("GET", "/v1/orders")[-1].query == {"receipt": reference}


async def test_no_log_line_carries_a_key_or_secret(
    razorpay_client: Client, razorpay_services: Services, razorpay: RazorpayStub,
    make_show: MakeShow, access_token: Callable[..., str],
) -> None:
    """Through a checkout, a forged and a genuine webhook and a refund, the logs never hold the
    key secret or the webhook secret, and the settings' repr masks them."""
    show = await make_show()
    with capture_logs() as logs:
        checkout = await lock_and_checkout(razorpay_client, show, access_token)
        order = razorpay.order_for_receipt(await reference_of(razorpay_services, checkout))
        await expire_lock(razorpay_services, checkout.lock_id)
        payment = razorpay.pay(order["id"])
        forged_body, forged = razorpay.webhook("payment.captured", payment=payment,
                                               secret="wrong-secret-entirely")
        await razorpay_client.post(RAZORPAY_WEBHOOK, content=forged_body, headers=forged)
        body, headers = razorpay.webhook("payment.captured", payment=payment)
        await razorpay_client.post(RAZORPAY_WEBHOOK, content=body, headers=headers)
        await run_refund_outbox(razorpay_services, checkout)

    assert logs, "the flow logs what it does"
    text = repr(logs) + repr(razorpay_services.settings)
    assert rz.KEY_SECRET not in text
    assert rz.WEBHOOK_SECRET not in text
    assert (await refund_of(razorpay_services, checkout))["status"] == "PROCESSED"
