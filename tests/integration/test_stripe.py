"""Paying through Stripe: the SDK against a local stub of Stripe's API, webhooks signed with
Stripe's ``t=…,v1=…`` scheme and verified by ``stripe.Webhook.construct_event``."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

import httpx

from admitone.runtime import Services
from tests.conftest import OPERATOR_TOKEN, MakeShow, bearer, expire_lock
from tests.integration.payment_support import Checkout, lock_and_checkout, state_of
from tests.integration.provider_support import (
    STRIPE_WEBHOOK,
    age_payment,
    audit_actions,
    refund_of,
    run_refund_outbox,
)
from tests.payment_stubs.stripe_stub import StripeStub

Client = httpx.AsyncClient


async def _send(client: Client, stripe: StripeStub, event_type: str, obj: dict[str, object],
                **signing: object) -> httpx.Response:
    body, headers = stripe.event(event_type, obj, **signing)  # type: ignore[arg-type]
    return await client.post(STRIPE_WEBHOOK, content=body, headers=headers)


async def _paid(client: Client, stripe: StripeStub, checkout: Checkout,
                **charged: object) -> tuple[dict[str, object], dict[str, object]]:
    """The fan pays the checkout's session; the completed session's event is delivered."""
    session = stripe.session_for(checkout.payment_id)
    completed, intent = stripe.complete(session["id"], **charged)  # type: ignore[arg-type]
    answer = await _send(client, stripe, "checkout.session.completed", completed)
    assert answer.status_code == 200, answer.text
    return completed, intent


async def test_whole_booking_through_stripe_confirms_and_books_seats(
    stripe_client: Client, stripe_services: Services, stripe: StripeStub, make_show: MakeShow,
    access_token: Callable[..., str],
) -> None:
    """Lock → checkout (a Checkout Session of 40000 paise with Stripe's idempotency key from
    ours) → redirect to Stripe → completed session → CONFIRMED, seats BOOKED; the intent's own
    success afterwards changes nothing."""
    show = await make_show()
    checkout = await lock_and_checkout(stripe_client, show, access_token)
    session = stripe.session_for(checkout.payment_id)
    created = stripe.router.calls("POST", "/v1/checkout/sessions")[-1]
    form = created.form()
    assert (form["line_items[0][price_data][unit_amount]"], form["line_items[0][price_data][currency]"]) == ("40000", "inr")
    assert created.headers["idempotency-key"].startswith(f"admitone-checkout-{checkout.payment_id}-")
    assert form["success_url"] == (
        "http://admitone.test/payments/stripe/return?session_id={CHECKOUT_SESSION_ID}")
    assert form["cancel_url"] == f"http://admitone.test/bookings/{checkout.booking_id}"
    page = await stripe_client.get(f"/payments/{checkout.payment_id}/pay")
    assert page.status_code == 303
    assert page.headers["location"] == session["url"]

    _, intent = await _paid(stripe_client, stripe, checkout)
    again = await _send(stripe_client, stripe, "payment_intent.succeeded", intent)

    assert again.status_code == 200
    state = await state_of(stripe_services, checkout, show.id)
    assert (state.payment, state.booking, state.lock) == ("SUCCESS", "CONFIRMED", "CONVERTED")
    assert state.seats == {"A1": "BOOKED", "A2": "BOOKED"}
    assert await audit_actions(stripe_services, checkout.booking_id) == ["PENDING", "CONFIRMED"]
    transaction = await stripe_services.pool.fetchval(
        "SELECT gateway_transaction_id FROM payments WHERE id = $1", uuid.UUID(checkout.payment_id))
    assert transaction == intent["id"]


async def test_same_event_twice_is_recorded_once(
    stripe_client: Client, stripe_services: Services, stripe: StripeStub, make_show: MakeShow,
    access_token: Callable[..., str],
) -> None:
    """A redelivered event (same id) is a no-op: one webhook_events row, one confirmation."""
    show = await make_show()
    checkout = await lock_and_checkout(stripe_client, show, access_token)
    session = stripe.session_for(checkout.payment_id)
    completed, _ = stripe.complete(session["id"])

    answers = [await _send(stripe_client, stripe, "checkout.session.completed", completed,
                           event_id="evt_redelivered_1") for _ in range(2)]

    assert [a.status_code for a in answers] == [200, 200]
    events = await stripe_services.pool.fetch(
        "SELECT event_id FROM webhook_events WHERE payment_id = $1", uuid.UUID(checkout.payment_id))
    assert [r["event_id"] for r in events] == ["stripe:evt_redelivered_1"]
    assert await audit_actions(stripe_services, checkout.booking_id) == ["PENDING", "CONFIRMED"]


async def test_forged_and_stale_webhooks_are_refused(
    stripe_client: Client, stripe_services: Services, stripe: StripeStub, make_show: MakeShow,
    access_token: Callable[..., str],
) -> None:
    """Another endpoint secret, a signature older than the tolerance (a replay), a garbled
    header, or none: 401 SIGNATURE_INVALID and nothing changes."""
    show = await make_show()
    checkout = await lock_and_checkout(stripe_client, show, access_token)
    completed, _ = stripe.complete(stripe.session_for(checkout.payment_id)["id"])
    old = int(time.time()) - stripe_services.settings.webhook_tolerance_seconds - 5
    body, headers = stripe.event("checkout.session.completed", completed)

    answers = [
        await _send(stripe_client, stripe, "checkout.session.completed", completed,
                    secret="whsec_SomeoneElsesSecret000000"),
        await _send(stripe_client, stripe, "checkout.session.completed", completed, at=old),
        await stripe_client.post(STRIPE_WEBHOOK, content=body,
                                 headers={**headers, "Stripe-Signature": "v1=abc"}),
        await stripe_client.post(STRIPE_WEBHOOK, content=body,
                                 headers={"Content-Type": "application/json"}),
    ]

    assert [a.status_code for a in answers] == [401, 401, 401, 401]
    assert {a.json()["error"] for a in answers} == {"SIGNATURE_INVALID"}
    state = await state_of(stripe_services, checkout, show.id)
    assert (state.payment, state.booking) == ("INITIATED", "PENDING")


async def test_charge_of_another_amount_is_flagged_and_refunded_in_full(
    stripe_client: Client, stripe_services: Services, stripe: StripeStub, make_show: MakeShow,
    access_token: Callable[..., str],
) -> None:
    """A session paid with 100 instead of 40000 paise confirms nothing: flagged, refunded."""
    show = await make_show()
    checkout = await lock_and_checkout(stripe_client, show, access_token)

    _, intent = await _paid(stripe_client, stripe, checkout, amount=100)
    await run_refund_outbox(stripe_services, checkout)

    state = await state_of(stripe_services, checkout, show.id)
    assert (state.payment, state.booking) == ("REFUNDED", "FAILED")
    assert "FLAGGED" in await audit_actions(stripe_services, checkout.payment_id)
    refund = await refund_of(stripe_services, checkout)
    assert (str(refund["amount"]), refund["reason"], refund["status"]) == (
        "1.00", "AMOUNT_MISMATCH", "PROCESSED")
    sent = [r.form() for r in stripe.router.calls("POST", "/v1/refunds")
            if r.form().get("payment_intent") == intent["id"]]
    assert len(sent) == 1
    assert "amount" not in sent[0]
    assert stripe.intents[str(intent["id"])]["amount_refunded"] == 100


async def test_success_after_the_lock_expired_is_refunded_through_stripe(
    stripe_client: Client, stripe_services: Services, stripe: StripeStub, make_show: MakeShow,
    access_token: Callable[..., str],
) -> None:
    """A payment completed after the seats were lost is refunded on its PaymentIntent,
    idempotently per refund id; charge.refunded afterwards changes nothing more."""
    show = await make_show()
    checkout = await lock_and_checkout(stripe_client, show, access_token)
    await expire_lock(stripe_services, checkout.lock_id)

    _, intent = await _paid(stripe_client, stripe, checkout)
    await run_refund_outbox(stripe_services, checkout)

    state = await state_of(stripe_services, checkout, show.id)
    assert (state.payment, state.booking, state.lock) == ("REFUNDED", "FAILED", "EXPIRED")
    refund = await refund_of(stripe_services, checkout)
    assert (refund["reason"], refund["status"]) == ("SEATS_LOST", "PROCESSED")
    sent = [r for r in stripe.router.calls("POST", "/v1/refunds")
            if r.form().get("payment_intent") == intent["id"]]
    assert [(r.form()["amount"], r.form()["metadata[refund_id]"]) for r in sent] == [
        ("40000", str(refund["id"]))]
    assert sent[0].headers["idempotency-key"] == f"admitone-refund-{refund['id']}"
    assert refund["provider_refund_id"].startswith("re_")

    answer = await _send(stripe_client, stripe, "charge.refunded", stripe.charge_of(intent))
    assert answer.status_code == 200
    assert (await refund_of(stripe_services, checkout))["status"] == "PROCESSED"


async def test_refund_stripe_refuses_is_retried_then_shown_to_the_operator(
    stripe_client: Client, stripe_services: Services, stripe: StripeStub, make_show: MakeShow,
    access_token: Callable[..., str],
) -> None:
    """Refused on every try, the refund ends FAILED with Stripe's message, listed for the
    operator."""
    show = await make_show()
    checkout = await lock_and_checkout(stripe_client, show, access_token)
    await expire_lock(stripe_services, checkout.lock_id)
    stripe.refuse_refunds = 5
    await _paid(stripe_client, stripe, checkout)

    for _ in range(5):
        await run_refund_outbox(stripe_services, checkout)

    refund = await refund_of(stripe_services, checkout)
    assert (refund["status"], refund["attempts"]) == ("FAILED", 5)
    assert "cannot be refunded right now" in refund["last_error"]
    listed = await stripe_client.get("/api/v1/admin/refunds?status=FAILED",
                                     headers={"Authorization": f"Bearer {OPERATOR_TOKEN}"})
    assert str(refund["id"]) in {r["id"] for r in listed.json()}


async def test_lost_webhook_is_reconciled_by_retrieving_the_intent(
    stripe_client: Client, stripe_services: Services, stripe: StripeStub, make_show: MakeShow,
    access_token: Callable[..., str],
) -> None:
    """A payment whose webhook never came is confirmed by retrieving session and intent."""
    show = await make_show()
    checkout = await lock_and_checkout(stripe_client, show, access_token)
    session = stripe.session_for(checkout.payment_id)
    _, intent = stripe.complete(session["id"])
    await age_payment(stripe_services, checkout)

    await stripe_services.reconciler.reconcile_once()

    state = await state_of(stripe_services, checkout, show.id)
    assert (state.payment, state.booking, state.seats["A1"]) == ("SUCCESS", "CONFIRMED", "BOOKED")
    assert stripe.router.calls("GET", f"/v1/checkout/sessions/{session['id']}")
    assert stripe.router.calls("GET", f"/v1/payment_intents/{intent['id']}")


async def test_fan_returning_from_stripe_is_settled_before_the_webhook(
    stripe_client: Client, stripe_services: Services, stripe: StripeStub, make_show: MakeShow,
    access_token: Callable[..., str],
) -> None:
    """The success URL retrieves the session from Stripe, confirms, and shows the booking."""
    show = await make_show()
    checkout = await lock_and_checkout(stripe_client, show, access_token)
    session = stripe.session_for(checkout.payment_id)
    stripe.complete(session["id"])

    answer = await stripe_client.get(f"/payments/stripe/return?session_id={session['id']}")

    assert answer.status_code == 303
    assert answer.headers["location"] == f"http://admitone.test/bookings/{checkout.booking_id}"
    assert (await state_of(stripe_services, checkout, show.id)).booking == "CONFIRMED"
    unknown = await stripe_client.get("/payments/stripe/return?session_id=cs_test_nope")
    assert unknown.status_code == 404


async def test_declined_card_keeps_seats_and_an_expired_session_frees_them(
    stripe_client: Client, stripe_services: Services, stripe: StripeStub, make_show: MakeShow,
    access_token: Callable[..., str],
) -> None:
    """payment_intent.payment_failed leaves the fan free to retry; checkout.session.expired
    fails the payment, the hold staying for a retry until its lock expires and is swept."""
    show = await make_show()
    checkout = await lock_and_checkout(stripe_client, show, access_token)
    session = stripe.session_for(checkout.payment_id)

    await _send(stripe_client, stripe, "payment_intent.payment_failed",
                stripe.fail_attempt(session["id"]))
    state = await state_of(stripe_services, checkout, show.id)
    assert (state.booking, set(state.seats.values())) == ("PENDING", {"LOCKED"})

    await _send(stripe_client, stripe, "checkout.session.expired", stripe.expire(session["id"]))
    state = await state_of(stripe_services, checkout, show.id)
    assert (state.payment, state.booking) == ("FAILED", "FAILED")
    assert state.seats == {"A1": "LOCKED", "A2": "LOCKED"}
    await expire_lock(stripe_services, checkout.lock_id)
    await stripe_services.seats.sweep_expired()
    state = await state_of(stripe_services, checkout, show.id)
    assert state.seats == {"A1": "AVAILABLE", "A2": "AVAILABLE"}
    other = await stripe_client.post("/api/v1/bookings/lock",
                                     json={"showId": show.id, "seatIds": ["A1", "A2"]},
                                     headers=bearer(access_token(show.id)))
    assert other.status_code == 200


async def test_payment_past_its_window_is_failed_and_its_session_expired(
    stripe_client: Client, stripe_services: Services, stripe: StripeStub, make_show: MakeShow,
    access_token: Callable[..., str],
) -> None:
    """The reconciler fails a payment whose window closed unpaid and expires its session at
    Stripe, so the fan cannot pay it afterwards (sessions last Stripe's minimum, 30 minutes)."""
    show = await make_show()
    checkout = await lock_and_checkout(stripe_client, show, access_token)
    session = stripe.session_for(checkout.payment_id)
    assert 1790 <= session["expires_at"] - time.time() <= 1800
    await stripe_services.pool.execute(
        "UPDATE payments SET expires_at = clock_timestamp() - interval '1 second' WHERE id = $1",
        uuid.UUID(checkout.payment_id))

    await stripe_services.reconciler.reconcile_once()

    state = await state_of(stripe_services, checkout, show.id)
    assert (state.payment, state.booking) == ("FAILED", "FAILED")
    assert stripe.sessions[session["id"]]["status"] == "expired"
    assert stripe.router.calls("POST", f"/v1/checkout/sessions/{session['id']}/expire")


async def test_refund_an_operator_made_at_stripe_settles_a_failed_one(
    stripe_client: Client, stripe_services: Services, stripe: StripeStub, make_show: MakeShow,
    access_token: Callable[..., str],
) -> None:
    """A FAILED refund that the operator then makes in Stripe's dashboard becomes PROCESSED
    when Stripe's charge.refunded arrives."""
    show = await make_show()
    checkout = await lock_and_checkout(stripe_client, show, access_token)
    await expire_lock(stripe_services, checkout.lock_id)
    stripe.refuse_refunds = 5
    _, intent = await _paid(stripe_client, stripe, checkout)
    for _ in range(5):
        await run_refund_outbox(stripe_services, checkout)
    assert (await refund_of(stripe_services, checkout))["status"] == "FAILED"

    stripe.intents[str(intent["id"])]["amount_refunded"] = 40000  # refunded by hand at Stripe
    answer = await _send(stripe_client, stripe, "charge.refunded", stripe.charge_of(intent))

    assert answer.status_code == 200
    refund = await refund_of(stripe_services, checkout)
    assert refund["status"] == "PROCESSED"
    assert "PROCESSED" in await audit_actions(stripe_services, str(refund["id"]))
