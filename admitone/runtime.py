"""The services one admitone process runs on: connections, token keys, and the domain services.

Built once in the app's lifespan (and by tests and benchmarks directly), closed on shutdown.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Protocol

import asyncpg
from redis.asyncio import BlockingConnectionPool, Redis

from admitone.admission.keys import KeyRing
from admitone.admission.services import AdmissionServices, build_admission
from admitone.admission.tokens import AccessTokenClaims, TokenService
from admitone.booking_core.backoffice import BackOffice
from admitone.booking_core.bookings import BookingService
from admitone.booking_core.catalog import CatalogService
from admitone.booking_core.checkout import CheckoutService
from admitone.booking_core.live_stats import LiveStats
from admitone.booking_core.outbox import OutboxWorker
from admitone.booking_core.payments.gateway import PaymentGateway
from admitone.booking_core.payments.reconcile import PaymentReconciler
from admitone.booking_core.payments.sandbox import SandboxGateway
from admitone.booking_core.payments.service import PaymentService
from admitone.booking_core.repository import SeatLockRepository
from admitone.booking_core.seat_events import SeatEvents
from admitone.booking_core.service import SeatService
from admitone.gateway.ratelimit import RateLimiter
from admitone.secrets_store import load_or_create_secret
from admitone.settings import Settings


class RevocationCheck(Protocol):
    async def is_revoked(self, claims: AccessTokenClaims) -> bool: ...


@dataclass
class Services:
    settings: Settings
    pool: asyncpg.Pool
    redis: Redis
    tokens: TokenService
    operator_token: str
    webhook_secret: str
    catalog: CatalogService
    seat_events: SeatEvents
    seats: SeatService
    gateway: PaymentGateway
    checkout: CheckoutService
    payments: PaymentService
    reconciler: PaymentReconciler
    bookings: BookingService
    outbox: OutboxWorker
    rate_limiter: RateLimiter
    revocations: RevocationCheck | None = None
    sandbox: SandboxGateway | None = None  # the sandbox's pages and test controls, when on
    admission: AdmissionServices | None = None  # the waiting room: queue, scheduler, rooms
    live_stats: LiveStats | None = None  # the operator console's per-minute figures and funnel
    backoffice: BackOffice | None = None  # the operator console's lists, seats, audit log
    extras: dict[str, object] = field(default_factory=dict)


async def _keep_session(_conn: asyncpg.Connection) -> None:
    """Pool reset hook that sends nothing to the server.

    asyncpg's default reset runs ``RESET ALL; UNLISTEN *; CLOSE ALL; …`` on every release: a
    round trip per query. admitone never sets session state on pooled connections (no SET, no
    LISTEN, no session advisory locks — the seat functions use transaction-scoped ones), and
    asyncpg still rolls back a connection returned inside a transaction.
    """


async def create_pool(dsn: str, max_size: int = 20) -> asyncpg.Pool:
    pool = await asyncpg.create_pool(
        dsn,
        min_size=1,
        max_size=max_size,
        command_timeout=30,
        server_settings={"application_name": "admitone"},
        reset=_keep_session,
    )
    assert pool is not None  # noqa: S101 - create_pool returns the pool when awaited
    return pool


def create_redis(url: str) -> Redis:
    # A blocking pool: past 256 connections in use a command waits (up to 2 s) for one to come
    # free instead of failing at once, so a burst of fans is queued, not answered 503.
    pool = BlockingConnectionPool.from_url(
        url,
        socket_timeout=2.0,
        socket_connect_timeout=2.0,
        health_check_interval=15,
        retry_on_timeout=False,
        max_connections=256,
        timeout=2.0,
    )
    return Redis.from_pool(pool)


@asynccontextmanager
async def open_services(settings: Settings) -> AsyncIterator[Services]:
    """Connect to PostgreSQL and Redis and build every service; close them all on exit."""
    if settings.database_url is None or settings.redis_url is None:
        raise RuntimeError("open_services needs database_url and redis_url (admitone up sets them)")
    pool = await create_pool(settings.database_url)
    redis = create_redis(settings.redis_url)
    gateway: SandboxGateway | None = None
    seat_events: SeatEvents | None = None
    live_stats = LiveStats(redis)
    try:
        keys = KeyRing.load(settings.data_dir / "keys")
        tokens = TokenService(keys, settings.access_token_issuer, settings.access_token_audience)
        seat_events = SeatEvents(redis, settings.seat_map_cache_seconds)
        webhook_secret = settings.payment_webhook_secret or load_or_create_secret(
            settings.data_dir, "payment-webhook-secret"
        )
        gateway = SandboxGateway(pool, settings, webhook_secret)
        payments = PaymentService(pool, gateway, seat_events, live_stats)
        catalog = CatalogService(pool, settings.max_seats_per_visitor)
        admission = build_admission(settings, pool, redis, tokens, recorder=live_stats)
        services = Services(
            settings=settings,
            pool=pool,
            redis=redis,
            tokens=tokens,
            operator_token=settings.operator_token
            or load_or_create_secret(settings.data_dir, "operator-token"),
            webhook_secret=webhook_secret,
            catalog=catalog,
            seat_events=seat_events,
            seats=SeatService(
                SeatLockRepository(pool),
                seat_events,
                lock_seconds=settings.lock_seconds,
                max_seats_per_lock=settings.max_seats_per_lock,
                stats=live_stats,
            ),
            gateway=gateway,
            payments=payments,
            reconciler=PaymentReconciler(payments, after_seconds=settings.reconcile_after_seconds),
            sandbox=gateway if settings.sandbox_payments else None,
            checkout=CheckoutService(
                pool,
                gateway,
                lock_seconds=settings.lock_seconds,
                payment_timeout_seconds=settings.payment_timeout_seconds,
                base_url=settings.base_url,
                stats=live_stats,
            ),
            bookings=BookingService(
                pool,
                catalog,
                tokens,
                seat_events,
                base_url=settings.base_url,
                booking_token_seconds=settings.booking_token_seconds,
            ),
            outbox=OutboxWorker(
                pool,
                catalog,
                payments,
                base_url=settings.base_url,
                smtp_url=settings.smtp_url,
                smtp_from=settings.smtp_from,
            ),
            rate_limiter=RateLimiter(redis),
            revocations=admission.revocations,
            admission=admission,
            live_stats=live_stats,
            backoffice=BackOffice(pool, seat_events),
        )
        # A confirmed booking frees its visitor's slot in the waiting room (booking_core does
        # not know the queue: the outbox tells whoever listens).
        services.outbox.listen("booking.confirmed", admission.on_booking_confirmed)
        services.extras["rooms"] = admission  # admitone up --demo opens its show's room
        yield services
    finally:
        if gateway is not None:
            await gateway.aclose()  # delayed sandbox webhooks still waiting
        if seat_events is not None:
            await seat_events.aclose()  # seat changes not yet announced
        await live_stats.aclose()  # the last second of the console's figures
        await redis.aclose()
        await pool.close()
