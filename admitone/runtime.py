"""The services one admitone process runs on: connections, token keys, and the domain services.

Built once in the app's lifespan (and by tests and benchmarks directly), closed on shutdown.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Protocol

import asyncpg
import structlog
from redis.asyncio import RedisCluster
from redis.exceptions import RedisError

from admitone.admission.inventory import Inventory
from admitone.admission.ratelimit import RateLimiter
from admitone.admission.services import AdmissionServices, build_admission
from admitone.admission.signing_keys import KeyRing
from admitone.admission.tokens import AccessTokenClaims, TokenService
from admitone.booking_core.backoffice import BackOffice
from admitone.booking_core.bookings import BookingService
from admitone.booking_core.catalog import CatalogService
from admitone.booking_core.checkout import CheckoutService
from admitone.booking_core.inventory import SeatInventory
from admitone.booking_core.live_stats import LiveStats
from admitone.booking_core.outbox import OutboxWorker
from admitone.booking_core.payments.provider import PaymentProvider
from admitone.booking_core.payments.providers import Provider, ProviderPayments
from admitone.booking_core.payments.reconcile import PaymentReconciler
from admitone.booking_core.payments.sandbox import SandboxGateway
from admitone.booking_core.payments.service import PaymentService
from admitone.booking_core.review import ReviewService
from admitone.booking_core.seat_events import SeatEvents
from admitone.booking_core.seat_repository import SeatLockRepository
from admitone.booking_core.seat_stream import SeatEventHub, StreamTickets
from admitone.booking_core.seats import SeatService
from admitone.booking_core.tickets import TicketService
from admitone.monitoring import MonitoringService
from admitone.redis_client import RedisClient, create_redis
from admitone.secrets_store import load_or_create_secret
from admitone.settings import Settings

log = structlog.get_logger(__name__)


class RevocationCheck(Protocol):
    async def is_revoked(self, claims: AccessTokenClaims) -> bool: ...


@dataclass
class Services:
    settings: Settings
    pool: asyncpg.Pool
    redis: RedisClient
    tokens: TokenService
    operator_token: str
    webhook_secret: str
    catalog: CatalogService
    seat_events: SeatEvents
    seats: SeatService
    gateway: PaymentProvider
    checkout: CheckoutService
    payments: PaymentService
    reconciler: PaymentReconciler
    bookings: BookingService
    outbox: OutboxWorker
    rate_limiter: RateLimiter
    admission: AdmissionServices  # the waiting room: queue, scheduler, rooms
    seat_hub: SeatEventHub  # live seat maps: one Redis subscription for the process
    stream_tickets: StreamTickets  # what opens a seat stream (EventSource sends no headers)
    provider_payments: ProviderPayments  # Razorpay or Stripe webhooks and pages
    revocations: RevocationCheck | None = None
    sandbox: SandboxGateway | None = None  # the sandbox's pages and test controls, when on
    monitoring: MonitoringService | None = None  # /metrics beyond the in-process counters
    live_stats: LiveStats | None = None  # the operator console's per-minute figures and funnel
    backoffice: BackOffice | None = None  # the operator console's lists, seats, audit log
    tickets: TicketService | None = None  # revoked-ticket lists and the online ticket check
    reviews: ReviewService | None = None  # bookings held for fraud review (booking_core/review)
    extras: dict[str, object] = field(default_factory=dict)
    # The read replica's pool (ADMITONE_DATABASE_REPLICA_URL): catalog and seat-map reads.
    replica_pool: asyncpg.Pool | None = None

    async def ready(self, timeout_seconds: float = 2.0) -> dict[str, bool]:
        """Whether PostgreSQL and Redis answer, each within ``timeout_seconds`` (``/readyz``)."""

        async def answers(call: Callable[[], Awaitable[object]]) -> bool:
            try:
                async with asyncio.timeout(timeout_seconds):
                    await call()
            except Exception:  # noqa: BLE001 - any failure means not ready
                return False
            return True

        postgres, redis = await asyncio.gather(
            answers(lambda: self.pool.fetchval("SELECT 1")), answers(self.redis.ping))
        return {"postgres": postgres, "redis": redis}


async def _keep_session(_conn: asyncpg.Connection) -> None:
    """Pool reset hook that sends nothing to the server.

    asyncpg's default reset runs ``RESET ALL; UNLISTEN *; CLOSE ALL; …`` on every release: a
    round trip per query. admitone never sets session state on pooled connections (no SET, no
    LISTEN, no session advisory locks — the seat functions use transaction-scoped ones), and
    asyncpg still rolls back a connection returned inside a transaction.
    """


def build_provider(pool: asyncpg.Pool, settings: Settings) -> Provider | None:
    """The real payment provider ``ADMITONE_PAYMENT_PROVIDER`` names (None for the sandbox);
    settings already refused a missing or malformed key. The SDKs are imported here, not at
    start: a sandbox-only process never loads them (nor ``requests``, which must not be
    imported before gevent patches the standard library in the locust checks)."""
    from admitone.booking_core.payments.razorpay import RazorpayGateway  # noqa: PLC0415
    from admitone.booking_core.payments.stripe import StripeGateway  # noqa: PLC0415

    if settings.payment_provider == "razorpay":
        return RazorpayGateway(pool, settings)
    if settings.payment_provider == "stripe":
        return StripeGateway(pool, settings)
    return None


def other_providers(pool: asyncpg.Pool, settings: Settings) -> tuple[PaymentProvider, ...]:
    """Providers not chosen but whose keys are still set: payments they took before a switch
    are refunded and reconciled by them."""
    from admitone.booking_core.payments.razorpay import RazorpayGateway  # noqa: PLC0415
    from admitone.booking_core.payments.stripe import StripeGateway  # noqa: PLC0415

    found: list[PaymentProvider] = []
    if settings.payment_provider != "razorpay" and settings.razorpay_key_id and (
        settings.razorpay_key_secret and settings.razorpay_webhook_secret
    ):
        found.append(RazorpayGateway(pool, settings))
    if settings.payment_provider != "stripe" and settings.stripe_secret_key and (
        settings.stripe_webhook_secret
    ):
        found.append(StripeGateway(pool, settings))
    return tuple(found)


async def create_pool(
    dsn: str, max_size: int = 20, *, statement_timeout_ms: int = 30_000,
    lock_timeout_ms: int = 5_000,
) -> asyncpg.Pool:
    """A pool whose sessions stop a statement after ``statement_timeout_ms`` and a wait for a
    row lock after ``lock_timeout_ms`` (0: no limit), so a stuck query or a long lock queue
    answers 503 instead of holding a connection; asyncpg gives up a little after the server."""
    pool = await asyncpg.create_pool(
        dsn,
        min_size=1,
        max_size=max_size,
        command_timeout=statement_timeout_ms / 1000 + 5 if statement_timeout_ms else None,
        server_settings={
            "application_name": "admitone",
            "statement_timeout": str(statement_timeout_ms),
            "lock_timeout": str(lock_timeout_ms),
        },
        reset=_keep_session,
    )
    assert pool is not None  # noqa: S101 - create_pool returns the pool when awaited
    return pool


async def create_pools(settings: Settings) -> tuple[asyncpg.Pool, asyncpg.Pool | None]:
    """The primary's pool and, when a replica is configured, the replica's."""
    assert settings.database_url is not None  # noqa: S101 - open_services checked it
    options = {
        "max_size": settings.database_pool_size,
        "statement_timeout_ms": settings.database_statement_timeout_ms,
        "lock_timeout_ms": settings.database_lock_timeout_ms,
    }
    pool = await create_pool(settings.database_url, **options)
    if settings.database_replica_url is None:
        return pool, None
    try:
        replica = await create_pool(settings.database_replica_url, **options)
    except BaseException:
        await pool.close()
        raise
    return pool, replica


async def _learn_cluster(redis: RedisClient) -> None:
    """Read a cluster's slot map now: a pub/sub subscription made before any other command
    needs it. If the cluster does not answer yet, the first command learns it later."""
    if isinstance(redis, RedisCluster):
        try:
            await redis.initialize()
        except (RedisError, OSError) as exc:
            log.warning("redis_cluster_unreachable_at_start", error=repr(exc))


@asynccontextmanager
async def open_services(settings: Settings) -> AsyncIterator[Services]:
    """Connect to PostgreSQL and Redis and build every service; close them all on exit."""
    if settings.database_url is None or settings.redis_url is None:
        raise RuntimeError("open_services needs database_url and redis_url (admitone up sets them)")
    pool, replica = await create_pools(settings)
    redis = create_redis(settings.redis_url)
    await _learn_cluster(redis)
    prefix = settings.redis_key_prefix
    gateway: SandboxGateway | None = None
    seat_events: SeatEvents | None = None
    live_stats = LiveStats(redis, settings.redis_key_prefix)
    try:
        keys = KeyRing.load(settings.data_dir / "keys")
        tokens = TokenService(keys, settings.access_token_issuer, settings.access_token_audience)
        seat_events = SeatEvents(redis, settings.seat_map_cache_seconds, prefix)
        webhook_secret = settings.payment_webhook_secret or load_or_create_secret(
            settings.data_dir, "payment-webhook-secret"
        )
        gateway = SandboxGateway(pool, settings, webhook_secret)
        if settings.sandbox_payments:
            # Loud on purpose: a sandbox that reached production would sell free tickets.
            log.warning(
                "sandbox_payments_enabled",
                detail="DEVELOPMENT MODE: the sandbox payment gateway is on and takes no money;"
                " every booking paid through it is free. Never run it in production"
                " (ADMITONE_SANDBOX_PAYMENTS=0).",
                payment_provider=settings.payment_provider,
            )
        provider = build_provider(pool, settings)
        charges: PaymentProvider = provider or gateway
        payments = PaymentService(
            pool, charges, seat_events, live_stats,
            others=(gateway, *other_providers(pool, settings)),
        )
        catalog = CatalogService(pool, settings.max_seats_per_visitor, read_pool=replica)
        seat_inventory = SeatInventory(pool)

        async def inventory(show_id: str) -> Inventory:
            counts = await seat_inventory.counts(show_id)
            return Inventory(available=counts.available, locked=counts.locked,
                             booked=counts.booked, orders=counts.orders,
                             seats_ordered=counts.booked)

        outbox = OutboxWorker(
            pool,
            catalog,
            payments,
            base_url=settings.base_url,
            smtp_url=settings.smtp_url,
            smtp_from=settings.smtp_from,
            tokens=tokens,
        )
        admission = build_admission(settings, pool, redis, tokens, inventory=inventory,
                                    send_code=outbox.send_identity_code,
                                    recorder=live_stats)
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
                SeatLockRepository(pool, read_pool=replica,
                                   lock_batch=settings.lock_batch),
                seat_events,
                lock_seconds=settings.lock_seconds,
                max_seats_per_lock=settings.max_seats_per_lock,
                max_hold_seconds=settings.lock_hold_seconds,
                max_seats_per_network=settings.max_seats_per_network,
                stats=live_stats,
            ),
            gateway=charges,
            payments=payments,
            provider_payments=ProviderPayments(payments, provider, settings.base_url),
            reconciler=PaymentReconciler(payments, after_seconds=settings.reconcile_after_seconds),
            sandbox=gateway if settings.sandbox_payments else None,
            checkout=CheckoutService(
                pool,
                charges,
                lock_seconds=settings.lock_seconds,
                payment_timeout_seconds=settings.payment_timeout_seconds,
                base_url=settings.base_url,
                stats=live_stats,
                review_score=settings.fraud_review_score,
            ),
            bookings=BookingService(
                pool,
                catalog,
                tokens,
                seat_events,
                base_url=settings.base_url,
                booking_token_seconds=settings.booking_token_seconds,
            ),
            outbox=outbox,
            rate_limiter=RateLimiter(redis, prefix),
            seat_hub=SeatEventHub(redis, prefix),
            stream_tickets=StreamTickets(redis, prefix),
            revocations=admission.revocations,
            admission=admission,
            replica_pool=replica,
            monitoring=MonitoringService(
                pool, redis, queue=admission.store,
                # A sweep or settlement still under way is not a broken invariant.
                invariant_grace_seconds=max(60.0, 10 * settings.sweep_interval_seconds),
            ),
            live_stats=live_stats,
            backoffice=BackOffice(pool, seat_events),
            tickets=TicketService(pool, catalog, tokens),
            reviews=ReviewService(pool, seat_events),
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
        if replica is not None:
            await replica.close()
