"""The fan's pages of a real provider: pay, and come back.

``GET /payments/{paymentId}/pay`` is the ``paymentUrl`` checkout answers. With Stripe it
redirects (303) to the payment's Checkout Session; with Razorpay it shows Razorpay Checkout
(its script, opened on the order) — and where the script cannot load, the same button posts a
plain form to Razorpay's hosted checkout. A paid or closed payment redirects to the booking.
Razorpay posts the result to ``/payments/{paymentId}/razorpay/callback``; Stripe sends the fan
to ``/payments/stripe/return?session_id=…``. Both are checked with the provider (the SDK
verifies Razorpay's signature; Stripe's session is retrieved) and settled before the fan sees
the booking, so the page does not wait for the webhook.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

from litestar import Request, Response, get, post
from litestar.exceptions import ValidationException
from litestar.response import Redirect, Template

from admitone.booking_core.payments.providers import PayPage, ProviderPayments
from admitone.gateway.pages.assets import static_url
from admitone.gateway.pages.rendering import PAGE_HEADERS

FORM = "application/x-www-form-urlencoded"


def _origin(url: str | None) -> str:
    parts = urlsplit(url or "")
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


def razorpay_policy(page: PayPage) -> str:
    """The page's Content-Security-Policy: ours, plus Razorpay's script, frames and form."""
    script, api = _origin(page.script_url), _origin(page.hosted_checkout_url)
    return (
        f"default-src 'self'; script-src 'self' {script}; frame-src {script} {api}; "
        f"connect-src 'self' {script} {api}; img-src 'self' data: https:; "
        "style-src 'self' 'unsafe-inline'; base-uri 'none'; "
        f"form-action 'self' {api}; frame-ancestors 'none'"
    )


@get("/payments/{payment_id:str}/pay", tags=["payments"], include_in_schema=True,
     summary="The fan's payment page (Razorpay Checkout, or a redirect to Stripe Checkout)")
async def pay_page(provider_payments: ProviderPayments, payment_id: str) -> Response[Any]:
    page = await provider_payments.pay_page(payment_id)
    if page.redirect_url:
        return Redirect(path=page.redirect_url, status_code=303,
                        headers={"Cache-Control": "no-store"})
    return Template(
        template_name="payments/razorpay.html",
        context={"page": page, "script": static_url("js/razorpay-pay.js")},
        headers={**PAGE_HEADERS, "Content-Security-Policy": razorpay_policy(page)},
    )


@post("/payments/{payment_id:str}/razorpay/callback", tags=["payments"], status_code=303,
      summary="Razorpay Checkout's callback: signature verified by the SDK, then the booking",
      description=(
          "Form fields `razorpay_payment_id`, `razorpay_order_id`, `razorpay_signature` (the "
          "HMAC-SHA256 of `order_id|payment_id` with the key secret), verified with "
          "`utility.verify_payment_signature`; a forged one is 401 SIGNATURE_INVALID. A failed "
          "attempt (fields `error[…]`) goes back to the pay page."
      ))
async def razorpay_callback(
    request: Request[Any, Any, Any], provider_payments: ProviderPayments, payment_id: str
) -> Redirect:
    body = await request.body()
    try:
        parsed = parse_qs(body.decode("latin-1"), max_num_fields=20)
    except ValueError:
        raise ValidationException(detail="Too many form fields") from None
    fields = {key: values[0] for key, values in parsed.items()}
    target = await provider_payments.razorpay_callback(payment_id, fields)
    return Redirect(path=target, status_code=303)


@get("/payments/stripe/return", tags=["payments"], status_code=303,
     summary="Where Stripe Checkout sends the fan back: the session is retrieved, then the booking")
async def stripe_return(provider_payments: ProviderPayments, session_id: str) -> Redirect:
    target = await provider_payments.stripe_return(session_id)
    return Redirect(path=target, status_code=303)


ROUTES = [pay_page, razorpay_callback, stripe_return]
