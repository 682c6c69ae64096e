"""Payment webhook and sandbox gateway shapes (JSON in camelCase, money as decimal strings)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

import msgspec
from msgspec import Meta

Outcome = Literal["SUCCESS", "FAILED"]
DeliveryState = Literal["DELIVERED", "UNDELIVERED", "SCHEDULED", "DROPPED"]


class WebhookIn(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    """A gateway's payment event. Unknown fields are allowed: a gateway may add its own."""

    payment_id: Annotated[str, Meta(min_length=1, max_length=100)]
    status: Outcome
    event_id: Annotated[str, Meta(min_length=1, max_length=255)] | None = None
    amount: Decimal | None = None
    currency: Annotated[str, Meta(min_length=3, max_length=3)] | None = None
    gateway_transaction_id: Annotated[str, Meta(max_length=255)] | None = None


class WebhookReceived(msgspec.Struct, frozen=True):
    received: bool


class CompleteIn(
    msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, rename="camel"
):
    """Make the sandbox finish a charge. The test controls shape the webhook's delivery:
    ``delaySeconds`` sends it later, ``duplicate`` sends it twice, ``drop`` never sends it
    (only reconciliation then learns the outcome)."""

    outcome: Outcome
    delay_seconds: Annotated[float, Meta(ge=0, le=600)] = 0
    duplicate: bool = False
    drop: bool = False


class CompleteOut(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    payment_id: str
    status: str
    event_id: str
    delivery: DeliveryState
    attempts: int


class SandboxChargeOut(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    """A charge as the sandbox gateway sees it."""

    payment_id: str
    status: str
    amount: Decimal
    currency: str
    method: str
    transaction_id: str
    refunded_amount: Decimal
    return_url: str


RefundState = Literal["PENDING", "PROCESSED", "FAILED"]


class RefundOut(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    """A refund as an operator sees it: how often it was tried and the provider's last answer."""

    id: str
    payment_id: str
    booking_id: str
    reference: str
    provider: str
    amount: Decimal
    currency: str
    reason: str
    status: str
    attempts: int
    last_error: str | None
    provider_refund_id: str | None
    created_at: datetime
    processed_at: datetime | None


class RefundRetryOut(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    id: str
    status: str
