"""The provider routes in the published OpenAPI document, and on a server whose provider is
another one."""

from __future__ import annotations

import httpx


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
