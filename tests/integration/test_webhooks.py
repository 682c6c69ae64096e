"""The payment webhook: signatures, duplicates, ordering, and racing deliveries."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable

import httpx
import pytest
import structlog
from structlog.testing import capture_logs

from admitone.booking_core.payments import service as payment_service
from admitone.booking_core.payments.signature import signature_header
from admitone.runtime import Services
from tests.conftest import WEBHOOK_SECRET, MakeShow
from tests.integration.payment_support import (
    WEBHOOK,
    Checkout,
    complete,
    lock_and_checkout,
    outbox_topics,
    paid,
    send_webhook,
    signed,
    state_of,
)


async def _unchanged(services: Services, checkout: Checkout, show_id: str) -> None:
    state = await state_of(services, checkout, show_id)
    assert (state.payment, state.booking, state.lock) == ("INITIATED", "PENDING", "ACTIVE")
    assert set(state.seats.values()) == {"LOCKED"}
    events = await services.pool.fetchval(
        "SELECT count(*) FROM webhook_events WHERE payment_id = $1", uuid.UUID(checkout.payment_id))
    assert events == 0


async def test_wrong_secret_is_refused_and_changes_nothing(
    client: httpx.AsyncClient, services: Services, make_show: MakeShow,
    access_token: Callable[..., str],
) -> None:
    """A webhook signed with another secret answers 401 SIGNATURE_INVALID and changes nothing."""
    show = await make_show()
    checkout = await lock_and_checkout(client, show, access_token)
    body, headers = signed({"paymentId": checkout.payment_id, "status": "SUCCESS"},
                           secret="not-the-webhook-secret-at-all")

    response = await client.post(WEBHOOK, content=body, headers=headers)

    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["error"] == "SIGNATURE_INVALID"
    await _unchanged(services, checkout, show.id)


async def test_stale_signature_is_refused(
    client: httpx.AsyncClient, services: Services, make_show: MakeShow,
    access_token: Callable[..., str],
) -> None:
    """A correctly signed webhook older than the tolerance (a replay) answers 401."""
    show = await make_show()
    checkout = await lock_and_checkout(client, show, access_token)
    old = int(time.time()) - services.settings.webhook_tolerance_seconds - 5
    body, headers = signed({"paymentId": checkout.payment_id, "status": "SUCCESS"}, at=old)

    response = await client.post(WEBHOOK, content=body, headers=headers)

    assert response.status_code == 401
    assert response.json()["error"] == "SIGNATURE_INVALID"
    await _unchanged(services, checkout, show.id)


async def test_missing_or_garbled_signature_is_refused(
    client: httpx.AsyncClient, services: Services, make_show: MakeShow,
    access_token: Callable[..., str],
) -> None:
    """No X-Signature, a garbled one, or a body changed after signing: 401 each time."""
    show = await make_show()
    checkout = await lock_and_checkout(client, show, access_token)
    body, headers = signed({"paymentId": checkout.payment_id, "status": "FAILED"})
    tampered = body.replace(b"FAILED", b"SUCCESS")

    answers = [
        await client.post(WEBHOOK, content=body, headers={"Content-Type": "application/json"}),
        await client.post(WEBHOOK, content=body, headers={**headers, "X-Signature": "v1=abc"}),
        await client.post(WEBHOOK, content=body, headers={**headers, "X-Signature": "t=x,v1=0"}),
        await client.post(WEBHOOK, content=tampered, headers=headers),
    ]

    assert [a.status_code for a in answers] == [401, 401, 401, 401]
    await _unchanged(services, checkout, show.id)


async def test_malformed_body_with_good_signature_is_a_400_problem(
    client: httpx.AsyncClient, services: Services, make_show: MakeShow,
    access_token: Callable[..., str],
) -> None:
    """Signed but unreadable bodies answer 400 problems, never 500, and change nothing."""
    show = await make_show()
    checkout = await lock_and_checkout(client, show, access_token)
    bodies = [b"{not json", b"[]", b'{"paymentId": "x"}',
              f'{{"paymentId": "{checkout.payment_id}", "status": "MAYBE"}}'.encode()]
    for raw in bodies:
        headers = {"Content-Type": "application/json",
                   "X-Signature": signature_header(WEBHOOK_SECRET, int(time.time()), raw)}
        response = await client.post(WEBHOOK, content=raw, headers=headers)
        assert response.status_code == 400, (raw, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
    await _unchanged(services, checkout, show.id)


async def test_same_event_twice_changes_state_once(
    client: httpx.AsyncClient, services: Services, make_show: MakeShow,
    access_token: Callable[..., str],
) -> None:
    """The sandbox delivering one event twice confirms once: one outbox row, one audit row."""
    show = await make_show()
    checkout = await lock_and_checkout(client, show, access_token)

    done = await complete(client, checkout, "SUCCESS", duplicate=True)

    assert done.json()["attempts"] == 2
    assert (await state_of(services, checkout, show.id)).booking == "CONFIRMED"
    assert await outbox_topics(services, checkout.booking_id) == ["booking.confirmed"]
    events = await services.pool.fetchval(
        "SELECT count(*) FROM webhook_events WHERE payment_id = $1", uuid.UUID(checkout.payment_id))
    assert events == 1
    confirmations = await services.pool.fetchval(
        "SELECT count(*) FROM audit_log WHERE entity = 'booking' AND entity_id = $1"
        " AND action = 'CONFIRMED'", checkout.booking_id)
    assert confirmations == 1


async def test_event_without_id_is_deduplicated_by_payment_and_status(
    client: httpx.AsyncClient, services: Services, make_show: MakeShow,
    access_token: Callable[..., str],
) -> None:
    """Without eventId, a repeat of the same payment and status is recognised as a duplicate."""
    show = await make_show()
    checkout = await lock_and_checkout(client, show, access_token)

    first = await send_webhook(client, checkout.payment_id, "FAILED")
    second = await send_webhook(client, checkout.payment_id, "FAILED")

    assert first.status_code == second.status_code == 200
    assert second.json() == {"received": True}
    event = await services.pool.fetchval(
        "SELECT event_id FROM webhook_events WHERE payment_id = $1", uuid.UUID(checkout.payment_id))
    assert event == f"{checkout.payment_id}:FAILED"
    assert await outbox_topics(services, checkout.booking_id) == ["booking.failed"]


async def test_late_failure_never_undoes_a_confirmed_booking(
    client: httpx.AsyncClient, services: Services, make_show: MakeShow,
    access_token: Callable[..., str],
) -> None:
    """SUCCESS then a FAILED event (out of order): the booking stays CONFIRMED, seats BOOKED."""
    show = await make_show()
    checkout = await lock_and_checkout(client, show, access_token)
    await complete(client, checkout, "SUCCESS")

    late = await send_webhook(client, checkout.payment_id, "FAILED", event_id="evt-late-failure")

    assert late.status_code == 200
    state = await state_of(services, checkout, show.id)
    assert (state.payment, state.booking) == ("SUCCESS", "CONFIRMED")
    assert state.seats == {"A1": "BOOKED", "A2": "BOOKED"}
    assert await outbox_topics(services, checkout.booking_id) == ["booking.confirmed"]


async def test_success_after_failure_refunds(
    client: httpx.AsyncClient, services: Services, make_show: MakeShow,
    access_token: Callable[..., str],
) -> None:
    """FAILED then SUCCESS (the fan retried on the gateway's page after the failure): refund,
    and the hold the failure kept for a retry on this site stays the fan's."""
    show = await make_show()
    checkout = await lock_and_checkout(client, show, access_token)
    await complete(client, checkout, "FAILED")

    retried = await complete(client, checkout, "SUCCESS")

    assert retried.status_code == 200
    state = await state_of(services, checkout, show.id)
    assert (state.payment, state.booking, state.lock) == ("REFUNDED", "FAILED", "ACTIVE")
    assert state.seats == {"A1": "LOCKED", "A2": "LOCKED"}
    refund = await services.pool.fetchrow(
        "SELECT reason, status FROM refunds WHERE payment_id = $1", uuid.UUID(checkout.payment_id))
    assert (refund["reason"], refund["status"]) == ("SEATS_LOST", "PROCESSED")
    assert await outbox_topics(services, checkout.booking_id) == [
        "booking.failed", "refund.requested"]


async def test_racing_success_events_confirm_once(
    client: httpx.AsyncClient, services: Services, make_show: MakeShow,
    access_token: Callable[..., str],
) -> None:
    """Ten SUCCESS webhooks with different event ids at once: one confirmation, all 200."""
    show = await make_show()
    checkout = await lock_and_checkout(client, show, access_token)

    answers = await asyncio.gather(*(
        send_webhook(client, checkout.payment_id, "SUCCESS", event_id=f"evt-race-{i}",
                     **paid(checkout))
        for i in range(10)
    ))

    assert {a.status_code for a in answers} == {200}
    assert (await state_of(services, checkout, show.id)).booking == "CONFIRMED"
    assert await outbox_topics(services, checkout.booking_id) == ["booking.confirmed"]
    confirmations = await services.pool.fetchval(
        "SELECT count(*) FROM audit_log WHERE entity = 'booking' AND entity_id = $1"
        " AND action = 'CONFIRMED'", checkout.booking_id)
    assert confirmations == 1


async def test_racing_success_and_failure_settle_one_way(
    client: httpx.AsyncClient, services: Services, make_show: MakeShow,
    access_token: Callable[..., str],
) -> None:
    """A SUCCESS and a FAILED racing leave one consistent outcome, never a mix."""
    show = await make_show()
    checkout = await lock_and_checkout(client, show, access_token)

    await asyncio.gather(
        send_webhook(client, checkout.payment_id, "SUCCESS", event_id="evt-mix-s",
                     **paid(checkout)),
        send_webhook(client, checkout.payment_id, "FAILED", event_id="evt-mix-f"),
    )

    state = await state_of(services, checkout, show.id)
    assert (state.payment, state.booking, frozenset(state.seats.values())) in {
        ("SUCCESS", "CONFIRMED", frozenset({"BOOKED"})),
        ("REFUNDED", "FAILED", frozenset({"LOCKED"})),  # failed first: the hold kept
    }


async def test_unknown_payment_is_acknowledged_and_logged(
    client: httpx.AsyncClient, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A signed event for a payment we do not have answers 200 (no endless retries) and warns."""
    payment_id = str(uuid.uuid4())
    with capture_logs() as logs:
        # The app caches each module's logger on first use, out of capture_logs' reach: give
        # the payment service a fresh one, bound inside the capture.
        monkeypatch.setattr(payment_service, "log", structlog.get_logger(payment_service.__name__))
        response = await send_webhook(client, payment_id, "SUCCESS", event_id="evt-unknown")

    assert response.status_code == 200
    assert response.json() == {"received": True}
    warnings = [e for e in logs if e["event"] == "webhook_payment_unknown"]
    assert [(e["log_level"], e["payment_id"]) for e in warnings] == [("warning", payment_id)]
    recorded = await services.pool.fetchval(
        "SELECT count(*) FROM webhook_events WHERE event_id = 'evt-unknown'")
    assert recorded == 0


async def test_success_for_another_amount_confirms_nothing(
    client: httpx.AsyncClient, services: Services, make_show: MakeShow,
    access_token: Callable[..., str],
) -> None:
    """A success for another amount than the payment's is refused (422) and changes nothing."""
    show = await make_show()
    checkout = await lock_and_checkout(client, show, access_token)

    response = await send_webhook(client, checkout.payment_id, "SUCCESS", event_id="evt-cheap",
                                  amount="1.00", currency="INR")

    assert response.status_code == 422
    assert response.json()["error"] == "PAYMENT_MISMATCH"
    await _unchanged(services, checkout, show.id)


@pytest.mark.parametrize("reported", [
    {}, {"amount": "200.00"}, {"currency": "INR"}, {"currency": "USD"},
], ids=["no-amount-no-currency", "no-currency", "no-amount", "wrong-currency"])
async def test_success_without_its_amount_confirms_nothing(
    client: httpx.AsyncClient, services: Services, make_show: MakeShow,
    access_token: Callable[..., str], reported: dict[str, str],
) -> None:
    """A signed SUCCESS that does not say it took the booking's amount in its currency is a
    mismatch: refused (422 PAYMENT_MISMATCH) and nothing changes."""
    show = await make_show()
    checkout = await lock_and_checkout(client, show, access_token)
    if "amount" in reported:
        reported = {**reported, "amount": checkout.amount}

    response = await send_webhook(client, checkout.payment_id, "SUCCESS",
                                  event_id=f"evt-{uuid.uuid4().hex}", **reported)

    assert response.status_code == 422, response.text
    assert response.json()["error"] == "PAYMENT_MISMATCH"
    await _unchanged(services, checkout, show.id)
