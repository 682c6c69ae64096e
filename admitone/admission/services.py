"""The waiting room's services of one process, built once beside the booking core's."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import structlog
from redis.asyncio import Redis

from admitone.admission.keys import KeyRing
from admitone.admission.lease import SchedulerLease
from admitone.admission.models import WaitingRoomIn
from admitone.admission.pow import ProofOfWork
from admitone.admission.recorder import RoomEventRecorder
from admitone.admission.revocation import Revocations
from admitone.admission.rooms import RoomRepository, RoomSettings
from admitone.admission.scheduler import AdmissionScheduler
from admitone.admission.tokens import TokenService
from admitone.admission.waiting_room import WaitingRoomService
from admitone.queue.store import QueueStore
from admitone.secrets_store import load_or_create_secret
from admitone.settings import Settings

log = structlog.get_logger(__name__)


@dataclass
class AdmissionServices:
    """Queue store, room settings, the fans' service, revocations and the scheduler."""

    store: QueueStore
    settings: RoomSettings
    rooms: WaitingRoomService
    revocations: Revocations
    scheduler: AdmissionScheduler
    tokens: TokenService
    keys_folder: Path
    pool: asyncpg.Pool

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
        ``maxActive`` for the next fan (its access token stays valid to see its booking)."""
        try:
            booking = uuid.UUID(str(payload.get("bookingId")))
        except ValueError:
            return False
        row = await self.pool.fetchrow(
            "SELECT show_id, visitor_id FROM bookings WHERE id = $1", booking
        )
        if row is None:
            return False
        return await self.rooms.release(str(row["show_id"]), row["visitor_id"])


def build_admission(
    settings: Settings, pool: asyncpg.Pool, redis: Redis, tokens: TokenService,
    recorder: RoomEventRecorder | None = None,
) -> AdmissionServices:
    store = QueueStore(redis)
    room_settings = RoomSettings(RoomRepository(pool), store)
    pow_checker = ProofOfWork(
        load_or_create_secret(settings.data_dir, "pow-secret"), settings.pow_challenge_seconds
    )
    return AdmissionServices(
        store=store,
        settings=room_settings,
        rooms=WaitingRoomService(
            store, room_settings, tokens, pow_checker,
            queue_token_seconds=settings.queue_token_seconds, recorder=recorder,
        ),
        revocations=Revocations(store, room_settings),
        scheduler=AdmissionScheduler(
            store, room_settings, SchedulerLease(store, settings.scheduler_lease_seconds),
            tick_seconds=settings.admission_tick_seconds, recorder=recorder,
        ),
        tokens=tokens,
        keys_folder=settings.data_dir / "keys",
        pool=pool,
    )
