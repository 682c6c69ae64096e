"""The provider routes in the published OpenAPI document, and on a server whose provider is
another one."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import httpx

from admitone.gateway.app import create_app
from admitone.runtime import open_services
from admitone.settings import Secret, Settings
from tests.conftest import MakeShow
from tests.integration.payment_support import lock_and_checkout
from tests.payment_stubs import razorpay_stub as rz


async def test_openapi_documents_provider_routes_with_problem_responses(
    client: httpx.AsyncClient,
) -> None:
    """Both webhooks, the pay and return pages and the operator's refunds are in the document;
    the webhooks' errors are application/problem+json and their signature headers are named."""
    schema = (await client.get("/schema/openapi.json")).json()
    paths = schema["paths"]
    for path in ("/api/v1/payments/webhook/razorpay", "/api/v1/payments/webhook/stripe"):
        operation = paths[path]["post"]
        assert set(operation["responses"]) >= {"200", "400", "401", "404"}
        assert "application/problem+json" in operation["responses"]["401"]["content"]
        assert "application/json" in operation["requestBody"]["content"]
    headers = {p["name"] for p in paths["/api/v1/payments/webhook/razorpay"]["post"]["parameters"]}
    assert headers == {"X-Razorpay-Signature", "X-Razorpay-Event-Id"}
    stripe_headers = paths["/api/v1/payments/webhook/stripe"]["post"]["parameters"]
    assert [p["name"] for p in stripe_headers] == ["Stripe-Signature"]
    assert {"/payments/{paymentId}/pay", "/payments/{paymentId}/razorpay/callback",
            "/payments/stripe/return", "/api/v1/admin/refunds",
            "/api/v1/admin/refunds/{refundId}/retry"} <= set(paths)
    assert "/api/v1/payments/webhook" in paths  # the sandbox's route stays


async def test_webhook_of_a_provider_not_configured_is_a_404_problem(
    client: httpx.AsyncClient,
) -> None:
    """On the sandbox server, Razorpay's and Stripe's webhooks answer 404 and change nothing."""
    for path, header in (("/api/v1/payments/webhook/razorpay", "X-Razorpay-Signature"),
                         ("/api/v1/payments/webhook/stripe", "Stripe-Signature")):
        answer = await client.post(path, content=b"{}", headers={header: "t=1,v1=00"})
        assert answer.status_code == 404
        assert answer.headers["content-type"].startswith("application/problem+json")
    page = await client.get("/payments/00000000-0000-0000-0000-000000000000/pay")
    assert page.status_code == 404


async def test_provider_down_at_checkout_still_answers_and_the_pay_page_is_a_503(
    make_settings: Callable[..., Settings], make_show: MakeShow,
    access_token: Callable[..., str],
) -> None:
    """Razorpay unreachable: checkout still creates the booking (201, the order comes later),
    and the pay page answers 503 with Retry-After instead of a 500."""
    settings = make_settings(
        payment_provider="razorpay", razorpay_key_id=rz.KEY_ID,
        razorpay_key_secret=Secret(rz.KEY_SECRET),
        razorpay_webhook_secret=Secret(rz.WEBHOOK_SECRET),
        razorpay_api_url="http://127.0.0.1:9", provider_timeout_seconds=2.0,
    )
    async with open_services(settings) as down:
        app = create_app(settings, services=down)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                     base_url="http://admitone.test") as http:
            show = await make_show()
            checkout = await lock_and_checkout(http, show, access_token)
            page = await http.get(f"/payments/{checkout.payment_id}/pay")
            order = await down.pool.fetchval(
                "SELECT provider_order_id FROM payments WHERE id = $1",
                uuid.UUID(checkout.payment_id))
    assert page.status_code == 503
    assert page.headers["retry-after"]
    assert page.json()["dependency"] == "Razorpay"  # the provider, not a crash
    assert order is None
