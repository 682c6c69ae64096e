"""The Razorpay payment page in Chromium: Checkout's script opens on the order, and without the
script the same button posts the plain form to the hosted checkout. Razorpay is the local stub
(``tests/payment_stubs``), which pays and posts the signed callback back as Razorpay does."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from admitone.runtime import Services
from tests.browser.conftest import CHROMIUM_ARGS, LiveServer, start_server, stop_server
from tests.conftest import OPERATOR_TOKEN, WEBHOOK_SECRET, MakeShow, bearer
from tests.payment_stubs import razorpay_stub as rz
from tests.payment_stubs.razorpay_stub import RazorpayStub
from tests.payment_stubs.server import StubServer


@pytest.fixture(scope="module")
def razorpay_stub() -> Iterator[RazorpayStub]:
    stub = RazorpayStub()
    with StubServer(stub.router) as url:
        stub.url = url
        yield stub


@pytest.fixture(scope="module")
def razorpay_server(
    database_url: str, redis_url: str, data_dir: Path, razorpay_stub: RazorpayStub,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[LiveServer]:
    """admitone over HTTP with ADMITONE_PAYMENT_PROVIDER=razorpay against the stub (no
    background jobs: only the page, the callback and settlement are under test)."""
    env = {
        "ADMITONE_DATABASE_URL": database_url, "ADMITONE_REDIS_URL": redis_url,
        "ADMITONE_DATA_DIR": str(data_dir), "ADMITONE_OPERATOR_TOKEN": OPERATOR_TOKEN,
        "ADMITONE_PAYMENT_WEBHOOK_SECRET": WEBHOOK_SECRET, "ADMITONE_BACKGROUND_JOBS": "0",
        "ADMITONE_LOG_FORMAT": "console", "ADMITONE_LOG_LEVEL": "warning",
        "ADMITONE_PAYMENT_PROVIDER": "razorpay", "ADMITONE_RAZORPAY_KEY_ID": rz.KEY_ID,
        "ADMITONE_RAZORPAY_KEY_SECRET": rz.KEY_SECRET,
        "ADMITONE_RAZORPAY_WEBHOOK_SECRET": rz.WEBHOOK_SECRET,
        "ADMITONE_RAZORPAY_API_URL": razorpay_stub.url,
        "ADMITONE_RAZORPAY_CHECKOUT_SCRIPT_URL": f"{razorpay_stub.url}/v1/checkout.js",
    }
    server = start_server(env, tmp_path_factory.mktemp("razorpay") / "server.log")
    yield server
    stop_server(server)


@pytest.fixture
async def strict_page(browser: Any) -> AsyncIterator[Callable[..., Any]]:
    """Pages that keep the Content-Security-Policy (the shared ``open_page`` bypasses it, and
    the policy is what lets Razorpay's script, frames and form through)."""
    contexts: list[Any] = []
    errors: list[str] = []

    async def open_one(*, javascript: bool = True) -> Any:
        context = await browser.new_context(java_script_enabled=javascript, bypass_csp=False)
        contexts.append(context)
        page = await context.new_page()
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        return page

    yield open_one
    for context in contexts:
        await context.close()
    assert not errors, f"script errors on the page: {errors}"
    assert CHROMIUM_ARGS  # the shared browser fixture launched Chromium with these


async def _checkout(server: LiveServer, services: Services, make_show: MakeShow) -> dict[str, str]:
    show = await make_show()
    visitor = f"v-{uuid.uuid4().hex}"
    token = services.tokens.issue_access_token(show_id=show.id, visitor_id=visitor,
                                               expires_at=2**31 - 1)
    async with httpx.AsyncClient(base_url=server.base_url, timeout=15) as http:
        lock = await http.post("/api/v1/bookings/lock",
                               json={"showId": show.id, "seatIds": ["A3"]}, headers=bearer(token))
        assert lock.status_code == 200, lock.text
        booking = await http.post(
            "/api/v1/bookings",
            json={"lockId": lock.json()["lockId"], "paymentMethod": "CARD",
                  "email": "fan@example.com"},
            headers={**bearer(token), "Idempotency-Key": uuid.uuid4().hex})
    assert booking.status_code == 201, booking.text
    found: dict[str, str] = booking.json()
    return found


async def _status(services: Services, booking_id: str) -> str:
    status: str = await services.pool.fetchval(
        "SELECT status FROM bookings WHERE id = $1", uuid.UUID(booking_id))
    return status


@pytest.mark.parametrize("script_loads", [True, False], ids=["checkout-script", "no-script"])
async def test_fan_pays_on_the_razorpay_page_and_lands_on_the_booking(
    razorpay_server: LiveServer, razorpay_stub: RazorpayStub, services: Services,
    make_show: MakeShow, strict_page: Callable[..., Any], script_loads: bool,
) -> None:
    """Pay opens Razorpay Checkout on the order (or, when the script cannot load, posts the
    hosted-checkout form); the signed callback confirms and the fan sees the booking page."""
    booking = await _checkout(razorpay_server, services, make_show)
    page = await strict_page()
    if not script_loads:
        await page.route("**/v1/checkout.js", lambda route: route.abort())

    await page.goto(booking["paymentUrl"])
    await page.get_by_role("button", name="Pay 200.00 INR with Razorpay").click()
    await page.wait_for_url(f"**/bookings/{booking['bookingId']}")

    assert await _status(services, booking["bookingId"]) == "CONFIRMED"
    opened = razorpay_stub.opened[-1]
    order = razorpay_stub.orders[opened["order_id"]]
    assert order["notes"]["payment_id"] == booking["paymentId"]
    assert ("amount" in opened) is script_loads  # the script passes amount; the form does not
    assert opened["callback_url"].endswith(f"/payments/{booking['paymentId']}/razorpay/callback")
