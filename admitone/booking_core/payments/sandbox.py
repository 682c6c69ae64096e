"""The sandbox payment gateway. (Being built out: see the payments work.)"""

from __future__ import annotations

from decimal import Decimal

import asyncpg

from admitone.booking_core.payments.gateway import ChargeStatus
from admitone.settings import Settings


class SandboxGateway:
    name = "SANDBOX"

    def __init__(self, pool: asyncpg.Pool, settings: Settings) -> None:
        self.pool = pool
        self.settings = settings

    async def create_charge(
        self, *, payment_id: str, amount: Decimal, currency: str, method: str, return_url: str
    ) -> str:
        return f"{self.settings.base_url}/sandbox/pay/{payment_id}"

    async def fetch_status(self, payment_id: str) -> ChargeStatus:
        return "UNKNOWN"

    async def refund(self, *, payment_id: str, refund_id: str, amount: Decimal) -> None:
        return None
