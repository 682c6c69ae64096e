"""The sandbox payment gateway is a development mode that only the fan who booked may drive.

Only the fan's own token (the access token that made the booking, or a booking token naming it)
finishes a sandbox charge; anyone else changes nothing. Delayed deliveries are capped, per
payment and in all, so they cannot pile up. Its page speaks English and Hindi.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable

import httpx
import pytest
from structlog.testing import capture_logs

from admitone.booking_core.payments.sandbox import SandboxGateway
from admitone.runtime import Services, open_services
from admitone.settings import Settings
from tests.conftest import MakeShow, bearer
from tests.integration.payment_support import Checkout, complete, lock_and_checkout, state_of


async def _untouched(services: Services, checkout: Checkout, show_id: str) -> None:
    state = await state_of(services, checkout, show_id)
    assert (state.payment, state.booking, state.lock) == ("INITIATED", "PENDING", "ACTIVE")
    charge = await services.pool.fetchval(
        "SELECT status FROM sandbox_charges WHERE payment_id = $1", uuid.UUID(checkout.payment_id))
    assert charge == "PENDING"


@pytest.fixture
async def sandbox(services: Services) -> AsyncIterator[SandboxGateway]:
    """The session's sandbox; the delayed deliveries a test leaves behind are cancelled."""
    assert services.sandbox is not None
    yield services.sandbox
    await services.sandbox.aclose()


@pytest.mark.parametrize("outcome", ["SUCCESS", "FAILED"])
async def test_completing_without_a_token_is_refused_and_changes_nothing(
    client: httpx.AsyncClient, services: Services, make_show: MakeShow,
    access_token: Callable[..., str], outcome: str,
) -> None:
    """No token, or a forged one: 401 TOKEN_INVALID, and neither the charge nor the booking
    moves (nobody who only saw a payment id pays or fails a booking)."""
    show = await make_show()
    checkout = await lock_and_checkout(client, show, access_token)
    path = f"/sandbox/payments/{checkout.payment_id}/complete"

    answers = [
        await client.post(path, json={"outcome": outcome}),
        await client.post(path, json={"outcome": outcome}, headers=bearer("not.a.token")),
        await client.post(path, data={"outcome": outcome}),
        await client.post(path, data={"outcome": outcome, "token": "forged"}),
    ]

    assert [a.status_code for a in answers] == [401, 401, 401, 401], [a.text for a in answers]
    assert {a.json()["error"] for a in answers} == {"TOKEN_INVALID"}
    assert all(a.headers["content-type"].startswith("application/problem+json") for a in answers)
    await _untouched(services, checkout, show.id)


@pytest.mark.parametrize("outcome", ["SUCCESS", "FAILED"])
async def test_another_fans_token_is_told_the_payment_does_not_exist(
    client: httpx.AsyncClient, services: Services, make_show: MakeShow,
    access_token: Callable[..., str], outcome: str,
) -> None:
    """A valid access token of another visitor (same show) gets 404 PAYMENT_NOT_FOUND, by JSON
    and by the form, and the other fan's booking stays as it was."""
    show = await make_show()
    checkout = await lock_and_checkout(client, show, access_token)
    stranger = access_token(show.id, f"v-{uuid.uuid4().hex}")

    by_json = await complete(client, checkout, outcome, token=stranger)
    by_form = await client.post(f"/sandbox/payments/{checkout.payment_id}/complete",
                                data={"outcome": outcome, "token": stranger})

    assert (by_json.status_code, by_form.status_code) == (404, 404)
    assert by_json.json()["error"] == by_form.json()["error"] == "PAYMENT_NOT_FOUND"
    await _untouched(services, checkout, show.id)


async def test_the_fans_booking_token_may_pay(
    client: httpx.AsyncClient, services: Services, make_show: MakeShow,
    access_token: Callable[..., str],
) -> None:
    """A booking token naming the booking (from booking lookup) is the fan's own token too."""
    show = await make_show()
    checkout = await lock_and_checkout(client, show, access_token)
    booking_token = services.tokens.issue_booking_token(
        booking_id=checkout.booking_id, visitor_id=checkout.visitor, ttl_seconds=60)
    other_booking = services.tokens.issue_booking_token(
        booking_id=str(uuid.uuid4()), visitor_id=checkout.visitor, ttl_seconds=60)

    refused = await complete(client, checkout, "SUCCESS", token=other_booking)
    paid = await complete(client, checkout, "SUCCESS", token=booking_token)

    assert refused.status_code == 404
    assert paid.status_code == 200, paid.text
    assert (await state_of(services, checkout, show.id)).booking == "CONFIRMED"


async def test_delayed_deliveries_are_capped_per_payment(
    client: httpx.AsyncClient, services: Services, make_show: MakeShow,
    access_token: Callable[..., str], sandbox: SandboxGateway,
) -> None:
    """Two delayed deliveries may wait for one payment; the third is 429
    SANDBOX_DELIVERIES_FULL with Retry-After, and schedules nothing."""
    show = await make_show()
    checkout = await lock_and_checkout(client, show, access_token)

    answers = [await complete(client, checkout, "FAILED", delaySeconds=600) for _ in range(3)]

    assert [a.status_code for a in answers] == [200, 200, 429], [a.text for a in answers]
    assert [a.json().get("delivery") for a in answers[:2]] == ["SCHEDULED", "SCHEDULED"]
    full = answers[2]
    assert full.headers["content-type"].startswith("application/problem+json")
    assert full.json()["error"] == "SANDBOX_DELIVERIES_FULL"
    assert int(full.headers["retry-after"]) > 0
    assert sandbox.scheduled(checkout.payment_id) == 2
    # The undelayed way still works: the fan is never locked out of paying.
    assert (await complete(client, checkout, "SUCCESS")).status_code == 200


async def test_delayed_deliveries_are_capped_in_all(
    client: httpx.AsyncClient, services: Services, make_show: MakeShow,
    access_token: Callable[..., str], sandbox: SandboxGateway,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Past the process-wide cap a delayed delivery is refused (429) and the charge does not
    change; once the waiting ones are gone, delayed deliveries are taken again."""
    monkeypatch.setattr(sandbox, "max_scheduled", 3)
    show = await make_show()
    checkouts = [await lock_and_checkout(client, show, access_token, [f"B{n}"])
                 for n in range(1, 5)]

    answers = [await complete(client, c, "SUCCESS", delaySeconds=600) for c in checkouts]

    assert [a.status_code for a in answers] == [200, 200, 200, 429], [a.text for a in answers]
    assert sandbox.scheduled() == 3
    await _untouched(services, checkouts[3], show.id)
    await sandbox.aclose()
    assert sandbox.scheduled() == 0
    again = await complete(client, checkouts[3], "SUCCESS", delaySeconds=600)
    assert again.status_code == 200, again.text


async def test_the_sandbox_is_loudly_logged_at_start(make_settings: Callable[..., Settings]) -> None:
    """Services built with the sandbox on log a warning that it takes no money."""
    with capture_logs() as logs:
        async with open_services(make_settings()):
            pass
    warned = [e for e in logs if e["event"] == "sandbox_payments_enabled"]
    assert len(warned) == 1
    assert warned[0]["log_level"] == "warning"
    assert "takes no money" in warned[0]["detail"]


@pytest.mark.parametrize(("language", "heading", "pay"), [
    ("en", "Sandbox payment", "Pay 400.00 INR"),
    ("hi", "सैंडबॉक्स भुगतान", "400.00 INR का भुगतान करें"),
])
async def test_the_payment_page_speaks_english_and_hindi(
    client: httpx.AsyncClient, make_show: MakeShow, access_token: Callable[..., str],
    language: str, heading: str, pay: str,
) -> None:
    """The sandbox's page is in the fan's language, and its form carries a token field and
    names the show and booking its script finds the fan's token by."""
    client.cookies.clear()  # a language chosen by an earlier test would win over the header
    show = await make_show()
    checkout = await lock_and_checkout(client, show, access_token)

    page = await client.get(f"/sandbox/pay/{checkout.payment_id}",
                            headers={"Accept-Language": language})

    assert page.status_code == 200
    assert f'<html lang="{language}"' in page.text
    assert heading in page.text
    assert pay in page.text
    assert 'name="token"' in page.text
    assert f'data-show-id="{show.id}"' in page.text
    assert f'data-booking-id="{checkout.booking_id}"' in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]
