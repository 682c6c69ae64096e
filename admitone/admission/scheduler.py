"""The admission scheduler: ticks every open room at least once a second.

Each tick of a room is one Lua script (``queue/scripts/admit.lua``): expire sessions, refill
the bucket, admit the first waiting fans. Only the holder of the scheduler lease ticks, with
its fencing number. Rooms and their settings come from PostgreSQL (refreshed every few
seconds); a room whose settings Redis lost, or holds in an older version, is mirrored again
before its next tick — that is how a room recovers after a Redis restart.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable

import structlog

from admitone import observability
from admitone.admission.draws import Draws
from admitone.admission.inventory import InventorySource, conversion, seats_per_order
from admitone.admission.lease import SchedulerLease
from admitone.admission.recorder import NoRecorder, RoomEventRecorder
from admitone.admission.rooms import RoomSettings
from admitone.errors import DependencyUnavailableError
from admitone.outages import REDIS_DOWN
from admitone.queue.models import TickResult, WaitingRoom
from admitone.queue.store import QueueStore, RoomStateMissingError

log = structlog.get_logger(__name__)
PRUNE_SECONDS = 300.0  # how often ended sessions are forgotten in PostgreSQL


class AdmissionScheduler:
    """Lets fans in at each room's rate and capacity; ``run`` is its loop."""

    def __init__(
        self, store: QueueStore, settings: RoomSettings, lease: SchedulerLease, *,
        tick_seconds: float = 1.0, refresh_seconds: float = 2.0, max_looked: int = 10_000,
        on_tick: Callable[[dict[str, TickResult]], None] | None = None,
        draws: Draws | None = None, inventory: InventorySource | None = None,
        recorder: RoomEventRecorder | None = None,
    ) -> None:
        self.draws = draws
        self.inventory = inventory  # the booking core's seat counts of a show
        self._published: set[str] = set()  # rooms whose pre-queue draw is in PostgreSQL
        self.store = store
        self.recorder: RoomEventRecorder = recorder or NoRecorder()
        self.settings = settings
        self.lease = lease
        self.tick_seconds = tick_seconds
        self.refresh_seconds = refresh_seconds
        self.max_looked = max_looked
        self.rooms: dict[str, WaitingRoom] = {}
        self._tickets: dict[str, int] = {}  # each room's ticket counter at its last tick
        self._floored: set[str] = set()
        self._refreshed_at = float("-inf")
        self._pruned_at = float("-inf")
        self.ticks = 0
        self.on_tick = on_tick  # sees every round's results (metrics, tests)

    async def run(self) -> None:
        """Tick every ``tick_seconds`` until cancelled; give the lease up on the way out."""
        loop = asyncio.get_running_loop()
        deadline = loop.time()
        try:
            while True:
                try:
                    await self.step()
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # noqa: BLE001 - the loop outlives a bad tick
                    log.warning("admission_step_failed", error=repr(exc))
                deadline += self.tick_seconds
                delay = deadline - loop.time()
                if delay < 0:  # fell behind (a slow tick or a stall): start afresh from now
                    deadline, delay = loop.time(), 0
                await asyncio.sleep(delay)
        finally:
            observability.ADMISSION_LEADER.set(0)
            with contextlib.suppress(Exception):
                async with asyncio.timeout(1):
                    await self.lease.release()

    async def step(self) -> dict[str, TickResult]:
        """One round: hold the lease, then tick every enabled room (nothing if not the holder)."""
        try:
            fence = await self.lease.hold()
        except REDIS_DOWN as exc:
            observability.ADMISSION_LEADER.set(0)
            log.warning("scheduler_lease_unavailable", error=repr(exc))
            return {}
        observability.ADMISSION_LEADER.set(1 if fence else 0)
        if not fence:
            return {}
        if time.monotonic() - self._refreshed_at >= self.refresh_seconds:
            await self.refresh()
        started = time.perf_counter()
        results = await asyncio.gather(
            *(self._tick_room(room, fence) for room in list(self.rooms.values()))
        )
        observability.ADMISSION_ROUND.observe(time.perf_counter() - started)
        self.ticks += 1
        done = {show: result for show, result in results if result is not None}
        if self.on_tick is not None:
            self.on_tick(done)
        return done

    async def refresh(self) -> None:
        """Read the enabled rooms from PostgreSQL."""
        rooms = await self.settings.enabled_rooms()
        self.rooms = {room.show_id: room for room in rooms}
        self._refreshed_at = time.monotonic()
        if self._refreshed_at - self._pruned_at >= PRUNE_SECONDS:
            self._pruned_at = self._refreshed_at
            await self.settings.repository.prune_sessions()

    async def _tick_room(self, room: WaitingRoom, fence: int) -> tuple[str, TickResult | None]:
        show = room.show_id
        tick_ms = int(self.tick_seconds * 1000)
        try:
            await self._sync_inventory(show)
            try:
                result = await self.store.tick(show, fence, tick_ms, self.max_looked)
            except RoomStateMissingError:
                await self.settings.mirror(room)
                log.info("waiting_room_restored", show_id=show)
                result = await self.store.tick(show, fence, tick_ms, self.max_looked)
        except REDIS_DOWN as exc:
            log.warning("admission_tick_failed", show_id=show, error=repr(exc))
            return show, None
        if result is None:
            log.warning("admission_tick_stale", show_id=show, fence=fence)
            return show, None
        if result.config_version != room.version:
            await self._resync(show)
        await self._record_sessions(show, result.admitted)
        await self._keep_ticket_floor(show, result.tickets_issued)
        await self._publish_draw(room, result)
        self._record(self.rooms.get(show, room), result)
        if result.admitted or result.abandoned:
            log.info("batch_admitted", show_id=show, count=len(result.admitted),
                     abandoned=result.abandoned, active=result.active, waiting=result.waiting)
        return show, result

    async def _record_sessions(self, show: str, admitted: list[str]) -> None:
        """Keep the sessions just handed out in PostgreSQL: if Redis loses the room's state,
        its active set is rebuilt from them (sync.lua) before anyone else is admitted. A fan
        whose record is lost (either server down right now) is logged, not kept out."""
        if not admitted:
            return
        try:
            sessions = await self.store.session_ends(show, admitted)
            await self.settings.repository.record_sessions(show, sessions)
        except REDIS_DOWN as exc:
            log.warning("admission_sessions_not_recorded", show_id=show, dependency="Redis",
                        count=len(admitted), error=repr(exc))
        except DependencyUnavailableError as exc:
            log.warning("admission_sessions_not_recorded", show_id=show,
                        dependency=exc.dependency, count=len(admitted), error=repr(exc))

    async def _sync_inventory(self, show: str) -> None:
        """Before each tick, tell the room what is left behind it (lib.lua ``phase``: with
        nothing left it admits nobody until seats come back)."""
        if self.inventory is None:
            return
        try:
            seats = await self.inventory(show)
        except DependencyUnavailableError as exc:  # admission goes on with the last counts
            log.warning("room_inventory_unavailable", show_id=show, error=repr(exc))
            return
        admitted = await self.store.admitted_total(show)
        await self.store.set_inventory(
            show, seats_left=seats.seats_left,
            seats_per_order=seats_per_order(seats.orders, seats.seats_ordered),
            buying_share=conversion(seats.orders, admitted),
        )

    async def _publish_draw(self, room: WaitingRoom, result: TickResult) -> None:
        """Right after a random pre-queue is drawn, keep the draw in PostgreSQL (and so
        publish it), before anything can make Redis forget it."""
        show = room.show_id
        if (self.draws is None or room.queue_mode != "RANDOM_PREQUEUE"
                or result.phase in {"PREQUEUE", "NOTOPEN", "CLOSED"} or show in self._published):
            return
        try:
            published = await self.draws.published(show)
        except DependencyUnavailableError as exc:  # kept at a later tick (Redis holds it)
            log.warning("prequeue_draw_not_kept", show_id=show, error=repr(exc))
            return
        if published.status == "DRAWN":
            self._published.add(show)

    def _record(self, room: WaitingRoom, result: TickResult) -> None:
        """The tick for the operator console: levels sampled, admissions and skips counted."""
        show, recorder = room.show_id, self.recorder
        recorder.gauge(show, "waiting", result.waiting)
        recorder.gauge(show, "active", result.active)
        recorder.gauge(show, "rate", room.release_rate_per_minute)
        if result.admitted:
            recorder.count(show, "admitted", len(result.admitted))
            recorder.visit(show, "admitted", result.admitted)
        if result.abandoned:
            recorder.count(show, "abandoned", result.abandoned)

    async def _keep_ticket_floor(self, show: str, issued: int) -> None:
        """Keep PostgreSQL's ticket floor above every ticket handed out, with room for as many
        again as in the last tick, so that after a Redis restart newcomers queue behind the fans
        who get their old places back."""
        before = self._tickets.get(show, issued)
        self._tickets[show] = issued
        if issued != before or show not in self._floored:
            self._floored.add(show)
            floor = issued + max(0, issued - before)
            await self.settings.repository.raise_ticket_floor(show, floor)

    async def _resync(self, show: str) -> None:
        """Redis holds other settings than PostgreSQL (a mirror write failed): mirror again."""
        room = await self.settings.repository.get(show)
        if room is None:
            return
        self.rooms[show] = room
        await self.settings.mirror(room)
        log.info("waiting_room_resynced", show_id=show)
