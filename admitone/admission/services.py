"""The waiting room's services of one process, built once beside the booking core's."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import structlog

from admitone.admission.draws import DrawRepository, Draws
from admitone.admission.identity import IdentityProofs, SendCode
from admitone.admission.inventory import InventorySource
from admitone.admission.lease import SchedulerLease
from admitone.admission.models import WaitingRoomIn
from admitone.admission.pow import ProofOfWork
from admitone.admission.ratelimit import RateLimiter
from admitone.admission.recorder import RoomEventRecorder
from admitone.admission.revocation import Revocations
from admitone.admission.rooms import RoomRepository, RoomSettings
from admitone.admission.scheduler import AdmissionScheduler
from admitone.admission.signing_keys import KeyRing
from admitone.admission.tokens import TokenService
from admitone.admission.waiting_room import WaitingRoomService
from admitone.errors import WaitingRoomNotFoundError
from admitone.queue.store import QueueStore
from admitone.redis_client import RedisClient
from admitone.secrets_store import load_or_create_secret
from admitone.settings import Settings

log = structlog.get_logger(__name__)


@dataclass
class AdmissionServices:
    """Queue store, room settings, the fans' service, revocations and the scheduler."""

    store: QueueStore
    identities: IdentityProofs
    settings: RoomSettings
    rooms: WaitingRoomService
    revocations: Revocations
    scheduler: AdmissionScheduler
    draws: Draws
    tokens: TokenService
    keys_folder: Path

    async def reload_signing_keys(self) -> bool:
        """Pick up keys added by ``admitone keys rotate``: the newest signs from now on, the
        previous one still verifies (and both are in the JWKS). Whether anything changed."""
        ring = KeyRing.load(self.keys_folder)
        if [key.kid for key in ring.keys] == [key.kid for key in self.tokens.keys.keys]:
            return False
        self.tokens.keys = ring
        log.info("signing_keys_reloaded", current=ring.current.kid, keys=len(ring.keys))
        return True

    async def enable_demo_room(self, show_id: str) -> None:
        """``admitone up --demo``: an open FIFO room for the demo show (kept if one exists)."""
        if await self.settings.repository.get(show_id) is not None:
            return
        room = WaitingRoomIn(enabled=True, release_rate_per_minute=60, max_active=50,
                             session_seconds=600, queue_mode="FIFO")
        await self.settings.put(show_id, room, "demo")

    async def on_booking_confirmed(self, payload: dict[str, Any]) -> bool:
        """Outbox listener of ``booking.confirmed``: the visitor who booked frees its slot in
        ``maxActive`` for the next fan (its access token stays valid to see its booking).

        The payload names the show and the visitor (``showId``, ``visitorId``); one that does
        not frees nothing. Whether a slot was freed.
        """
        show_id, visitor_id = payload.get("showId"), payload.get("visitorId")
        if not isinstance(show_id, str) or not isinstance(visitor_id, str) or not visitor_id:
            log.warning("booking_confirmed_without_visitor", booking_id=payload.get("bookingId"))
            return False
        try:
            return await self.rooms.release(show_id, visitor_id)
        except WaitingRoomNotFoundError:  # not a show id: nothing to free
            return False


def build_admission(
    settings: Settings, pool: asyncpg.Pool, redis: RedisClient, tokens: TokenService, *,
    inventory: InventorySource | None = None, send_code: SendCode | None = None,
    recorder: RoomEventRecorder | None = None,
) -> AdmissionServices:
    store = QueueStore(redis, prefix=settings.redis_key_prefix,
                       auto_pipeline=settings.queue_auto_pipeline)
    room_settings = RoomSettings(RoomRepository(pool), store)
    draws = Draws(DrawRepository(pool), store)
    pow_checker = ProofOfWork(
        load_or_create_secret(settings.data_dir, "pow-secret"), settings.pow_challenge_seconds
    )
    identities = IdentityProofs(
        store, load_or_create_secret(settings.data_dir, "identity-secret").encode(),
        frontend_secret=settings.identity_secret, send_code=send_code,
    )
    limiter = RateLimiter(redis, settings.redis_key_prefix)
    per_second = settings.roomless_admissions_per_minute / 60
    burst = settings.roomless_admission_burst

    async def roomless_limit(subject: str) -> tuple[bool, float]:
        return await limiter.allows("roomless-admit", subject, per_second, burst)

    return AdmissionServices(
        store=store,
        identities=identities,
        settings=room_settings,
        rooms=WaitingRoomService(
            store, room_settings, tokens, pow_checker,
            queue_token_seconds=settings.queue_token_seconds, draws=draws, recorder=recorder,
            roomless_limit=roomless_limit,
        ),
        revocations=Revocations(store, room_settings),
        scheduler=AdmissionScheduler(
            store, room_settings, SchedulerLease(store, settings.scheduler_lease_seconds),
            tick_seconds=settings.admission_tick_seconds, draws=draws, inventory=inventory,
            recorder=recorder,
        ),
        draws=draws,
        tokens=tokens,
        keys_folder=settings.data_dir / "keys",
    )
