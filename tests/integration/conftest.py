"""Fixtures of the payment-provider tests: the Razorpay and Stripe API stubs on loopback ports,
and admitone's services and app configured for each provider against its stub (per module,
so their connection pools close when the module's tests are done)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator

import httpx
import pytest

from admitone.gateway.app import create_app
from admitone.runtime import Services, open_services
from admitone.settings import Secret, Settings
from tests.payment_stubs import razorpay_stub as rz
from tests.payment_stubs import stripe_stub as st
from tests.payment_stubs.razorpay_stub import RazorpayStub
from tests.payment_stubs.server import StubServer
from tests.payment_stubs.stripe_stub import StripeStub


@pytest.fixture(scope="session")
def razorpay_api() -> Iterator[RazorpayStub]:
    """The Razorpay stub, served for the whole session."""
    stub = RazorpayStub()
    with StubServer(stub.router) as url:
        stub.url = url
        yield stub


@pytest.fixture(scope="session")
def stripe_api() -> Iterator[StripeStub]:
    """The Stripe stub, served for the whole session."""
    stub = StripeStub()
    with StubServer(stub.router) as url:
        stub.url = url
        yield stub


@pytest.fixture
def razorpay(razorpay_api: RazorpayStub) -> RazorpayStub:
    """The Razorpay stub with its test controls back to normal."""
    razorpay_api.refuse_refunds = 0
    return razorpay_api


@pytest.fixture
def stripe(stripe_api: StripeStub) -> StripeStub:
    """The Stripe stub with its test controls back to normal."""
    stripe_api.refuse_refunds = 0
    return stripe_api


@pytest.fixture(scope="module")
async def razorpay_services(
    make_settings: Callable[..., Settings], razorpay_api: RazorpayStub
) -> AsyncIterator[Services]:
    settings = make_settings(
        payment_provider="razorpay", razorpay_key_id=rz.KEY_ID,
        razorpay_key_secret=Secret(rz.KEY_SECRET),
        razorpay_webhook_secret=Secret(rz.WEBHOOK_SECRET), razorpay_api_url=razorpay_api.url,
        provider_timeout_seconds=5.0,
    )
    async with open_services(settings) as built:
        yield built


@pytest.fixture(scope="module")
async def stripe_services(
    make_settings: Callable[..., Settings], stripe_api: StripeStub
) -> AsyncIterator[Services]:
    settings = make_settings(
        payment_provider="stripe", stripe_secret_key=Secret(st.SECRET_KEY),
        stripe_webhook_secret=Secret(st.WEBHOOK_SECRET), stripe_api_url=stripe_api.url,
        provider_timeout_seconds=5.0,
    )
    async with open_services(settings) as built:
        yield built


async def _client(services: Services) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(services.settings, services=services)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://admitone.test") as http:
        yield http


@pytest.fixture(scope="module")
async def razorpay_client(razorpay_services: Services) -> AsyncIterator[httpx.AsyncClient]:
    """HTTP to an admitone whose ADMITONE_PAYMENT_PROVIDER is razorpay."""
    async for http in _client(razorpay_services):
        yield http


@pytest.fixture(scope="module")
async def stripe_client(stripe_services: Services) -> AsyncIterator[httpx.AsyncClient]:
    """HTTP to an admitone whose ADMITONE_PAYMENT_PROVIDER is stripe."""
    async for http in _client(stripe_services):
        yield http
