"""A stub of Razorpay's API (the endpoints admitone calls) and of its webhooks.

Shapes follow Razorpay's API reference: Orders (``POST/GET /v1/orders``, ``GET
/v1/orders/{id}``, ``GET /v1/orders/{id}/payments``), refunds (``POST
/v1/payments/{id}/refund``, ``GET /v1/payments/{id}/refunds``), collections as ``{entity,
count, items}``, errors as ``{"error": {"code": "BAD_REQUEST_ERROR", "description": …}}``,
HTTP Basic auth with the key id and secret. Webhooks carry ``X-Razorpay-Signature`` = hex
HMAC-SHA256 of the raw body with the webhook secret, and ``X-Razorpay-Event-Id``; the
Checkout callback's ``razorpay_signature`` is HMAC-SHA256 of ``order_id|payment_id`` with the
key secret.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from html import escape
from typing import Any

from tests.payment_stubs.asgi import Answer, Raw, Router, StubRequest

KEY_ID = "rzp_test_StubKey0001"
KEY_SECRET = "StubKeySecret0123456789ab"
WEBHOOK_SECRET = "stub-razorpay-webhook-secret"


def _bad_request(description: str, status: int = 400) -> Answer:
    return status, {"error": {"code": "BAD_REQUEST_ERROR", "description": description,
                              "source": "business", "step": "payment_initiation",
                              "reason": "input_validation_failed", "metadata": {}}}


def _collection(items: list[dict[str, Any]]) -> dict[str, Any]:
    return {"entity": "collection", "count": len(items), "items": items}


class RazorpayStub:
    """The stub's books and its test controls."""

    def __init__(self) -> None:
        self.router = Router()
        self.orders: dict[str, dict[str, Any]] = {}
        self.payments: dict[str, dict[str, Any]] = {}
        self.refunds: dict[str, dict[str, Any]] = {}
        self.refuse_refunds = 0  # the next N refund calls are refused (400 BAD_REQUEST_ERROR)
        self.opened: list[dict[str, str]] = []  # checkouts a browser opened (script or form)
        self.url = ""
        self._routes()

    def _authorised(self, request: StubRequest) -> bool:
        expected = base64.b64encode(f"{KEY_ID}:{KEY_SECRET}".encode()).decode()
        return request.headers.get("authorization") == f"Basic {expected}"

    def _routes(self) -> None:
        r = self.router

        def guarded(handler: Any) -> Any:
            def run(request: StubRequest) -> Answer:
                if not self._authorised(request):
                    return _bad_request("Authentication failed", 401)
                answer: Answer = handler(request)
                return answer
            return run

        @r.route("POST", "/v1/orders")
        @guarded
        def create_order(request: StubRequest) -> Answer:
            body = request.json()
            amount, currency = body.get("amount"), body.get("currency")
            if not isinstance(amount, int) or amount < 100:
                return _bad_request("The amount must be atleast INR 1.00")
            order = {
                "id": f"order_{secrets.token_hex(7)}", "entity": "order", "amount": amount,
                "amount_paid": 0, "amount_due": amount, "currency": currency,
                "receipt": body.get("receipt"), "offer_id": None, "status": "created",
                "attempts": 0, "notes": body.get("notes") or [], "created_at": int(time.time()),
            }
            self.orders[order["id"]] = order
            return 200, order

        @r.route("GET", "/v1/orders")
        @guarded
        def list_orders(request: StubRequest) -> Answer:
            receipt = request.query.get("receipt")
            items = [o for o in self.orders.values() if receipt is None or o["receipt"] == receipt]
            return 200, _collection(items)

        @r.route("GET", "/v1/orders/(?P<order>[^/]+)")
        @guarded
        def fetch_order(request: StubRequest) -> Answer:
            order = self.orders.get(request.params["order"])
            return (200, order) if order else _bad_request("The id provided does not exist")

        @r.route("GET", "/v1/orders/(?P<order>[^/]+)/payments")
        @guarded
        def order_payments(request: StubRequest) -> Answer:
            if request.params["order"] not in self.orders:
                return _bad_request("The id provided does not exist")
            items = [p for p in self.payments.values() if p["order_id"] == request.params["order"]]
            return 200, _collection(items)

        @r.route("POST", "/v1/payments/(?P<payment>[^/]+)/refund")
        @guarded
        def refund(request: StubRequest) -> Answer:
            payment = self.payments.get(request.params["payment"])
            if payment is None:
                return _bad_request("The id provided does not exist")
            if self.refuse_refunds > 0:
                self.refuse_refunds -= 1
                return _bad_request("Refund is not allowed on this payment right now")
            if payment["status"] not in {"captured", "refunded"}:
                return _bad_request("The payment has not been captured")
            body = request.json()
            left = payment["amount"] - payment["amount_refunded"]
            amount = body.get("amount", left)
            if amount > left:
                return _bad_request("The refund amount provided is greater than amount captured")
            made = {
                "id": f"rfnd_{secrets.token_hex(7)}", "entity": "refund", "amount": amount,
                "currency": payment["currency"], "payment_id": payment["id"],
                "notes": body.get("notes") or [], "receipt": body.get("receipt"),
                "acquirer_data": {"arn": None}, "created_at": int(time.time()),
                "batch_id": None, "status": "processed", "speed_processed": "normal",
                "speed_requested": body.get("speed", "normal"),
            }
            self.refunds[made["id"]] = made
            payment["amount_refunded"] += amount
            payment["refund_status"] = "full" if payment["amount_refunded"] == payment[
                "amount"] else "partial"
            if payment["refund_status"] == "full":
                payment["status"] = "refunded"
            return 200, made

        @r.route("GET", "/v1/payments/(?P<payment>[^/]+)/refunds")
        @guarded
        def payment_refunds(request: StubRequest) -> Answer:
            items = [f for f in self.refunds.values() if f["payment_id"] == request.params["payment"]]
            return 200, _collection(items)

        # The browser's side: Checkout's script, and the hosted checkout form's target. Both
        # "pay" at once and post the signed result to the callback URL, as Razorpay does.

        @r.route("GET", "/v1/checkout.js")
        def checkout_script(request: StubRequest) -> Answer:
            return 200, Raw("application/javascript", _CHECKOUT_JS.replace("STUB", self.url))

        @r.route("GET", "/stub/checkout/(?P<order>[^/]+)")
        def checkout_modal(request: StubRequest) -> Answer:
            return self._pay_and_post_back(request.params["order"], request.query)

        @r.route("POST", "/v1/checkout/embedded")
        def hosted_checkout(request: StubRequest) -> Answer:
            fields = request.form()
            return self._pay_and_post_back(fields.get("order_id", ""), fields)

    def _pay_and_post_back(self, order_id: str, fields: dict[str, str]) -> Answer:
        order = self.orders.get(order_id)
        key = fields.get("key") or fields.get("key_id")
        if order is None or key != KEY_ID or not fields.get("callback_url"):
            return 400, Raw("text/html", "<p>Bad checkout request</p>")
        self.opened.append({"order_id": order_id, **fields})
        payment = self.pay(order_id)
        inputs = "".join(
            f'<input type="hidden" name="{escape(name)}" value="{escape(value)}">'
            for name, value in self.callback_fields(order_id, payment["id"]).items()
        )
        return 200, Raw("text/html", (
            f'<!doctype html><form id="back" method="post" '
            f'action="{escape(fields["callback_url"])}">{inputs}</form>'
            "<script>document.getElementById('back').submit()</script>"
        ))

    # Test controls: what a fan does in Checkout ---------------------------------------------

    def pay(self, order_id: str, *, status: str = "captured", amount: int | None = None,
            currency: str | None = None) -> dict[str, Any]:
        """A payment on the order: ``captured`` (auto-capture) or ``failed``; ``amount`` and
        ``currency`` default to the order's (pass others to pretend the page was tampered)."""
        with self.router.lock:
            order = self.orders[order_id]
            payment = {
                "id": f"pay_{secrets.token_hex(7)}", "entity": "payment",
                "amount": order["amount"] if amount is None else amount,
                "currency": currency or order["currency"], "status": status,
                "order_id": order_id, "invoice_id": None, "international": False,
                "method": "card", "amount_refunded": 0, "refund_status": None,
                "captured": status == "captured", "description": None, "email": "fan@example.com",
                "contact": "+919000090000", "notes": [], "fee": None, "tax": None,
                "error_code": None if status == "captured" else "BAD_REQUEST_ERROR",
                "error_description": None if status == "captured" else "Payment failed",
                "created_at": int(time.time()),
            }
            self.payments[payment["id"]] = payment
            order["attempts"] += 1
            if status == "captured":
                order["status"], order["amount_paid"] = "paid", payment["amount"]
                order["amount_due"] = 0
            else:
                order["status"] = "attempted"
            return dict(payment)

    def order_for_receipt(self, receipt: str) -> dict[str, Any]:
        with self.router.lock:
            return next(o for o in self.orders.values() if o["receipt"] == receipt)

    def webhook(self, event: str, *, payment: dict[str, Any] | None = None,
                refund: dict[str, Any] | None = None, secret: str = WEBHOOK_SECRET,
                event_id: str | None = None) -> tuple[bytes, dict[str, str]]:
        """The body and headers Razorpay would POST for ``event``."""
        payload: dict[str, Any] = {}
        contains = []
        if payment is not None:
            payload["payment"] = {"entity": payment}
            contains.append("payment")
        if refund is not None:
            payload["refund"] = {"entity": refund}
            contains.append("refund")
        if event == "order.paid" and payment is not None:
            payload["order"] = {"entity": self.orders[payment["order_id"]]}
            contains.append("order")
        body = json.dumps({"entity": "event", "account_id": "acc_StubAccount01", "event": event,
                           "contains": contains, "payload": payload,
                           "created_at": int(time.time())}).encode()
        signature = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        return body, {"Content-Type": "application/json", "X-Razorpay-Signature": signature,
                      "X-Razorpay-Event-Id": event_id or f"evt_{secrets.token_hex(7)}"}

    @staticmethod
    def callback_fields(order_id: str, payment_id: str, *, secret: str = KEY_SECRET) -> dict[str, str]:
        """What Checkout posts to the callback URL after a successful payment."""
        signature = hmac.new(secret.encode(), f"{order_id}|{payment_id}".encode(),
                             hashlib.sha256).hexdigest()
        return {"razorpay_payment_id": payment_id, "razorpay_order_id": order_id,
                "razorpay_signature": signature}


# A stand-in for checkout.razorpay.com/v1/checkout.js: ``new Razorpay(options).open()`` goes to
# the stub's "modal", which pays and posts the signed result to ``options.callback_url``.
_CHECKOUT_JS = """
window.Razorpay = function (options) { this.options = options; };
window.Razorpay.prototype.open = function () {
  const o = this.options;
  const query = new URLSearchParams({ key: o.key, amount: String(o.amount),
                                      currency: o.currency, callback_url: o.callback_url });
  window.location.assign("STUB/stub/checkout/" + o.order_id + "?" + query.toString());
};
"""
