"""The waiting room as fans see it: join, status, leave, progress — and fail open or closed
when Redis does not answer, as the room says (``tests/integration/test_queue_failures.py``)."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Literal, TypeVar

import msgspec
import structlog

from admitone import observability
from admitone.admission import draw, eta
from admitone.admission import pow as proof
from admitone.admission.draws import Draws
from admitone.admission.inventory import Chance, ticket_chance
from admitone.admission.models import (
    ChallengeOut,
    EtaErrorOut,
    JoinOut,
    NoEtaReason,
    ProgressOut,
    RoomStats,
    StatusOut,
)
from admitone.admission.ratelimit import retry_after_header
from admitone.admission.recorder import NoRecorder, RoomEventRecorder
from admitone.admission.revocation import session_jti
from admitone.admission.rooms import RoomSettings, canonical_show_id
from admitone.admission.tokens import QueueTokenClaims, TokenService
from admitone.errors import (
    DependencyUnavailableError,
    IdentityRequiredError,
    ProofOfWorkInvalidError,
    QueueClosedError,
    QueueNotOpenError,
    QueuePlaceGoneError,
    QueueUnavailableError,
    RateLimitedError,
    TokenInvalidError,
    WaitingRoomNotFoundError,
)
from admitone.outages import REDIS_DOWN
from admitone.queue.models import Place, Progress, WaitingRoom
from admitone.queue.store import (
    DrawSeedNeededError,
    JoinLimit,
    JoinRateLimitedError,
    QueueStore,
    RoomStateMissingError,
    new_visitor_id,
)
from admitone.ttl_cache import TtlCache

log = structlog.get_logger(__name__)
# How long an access token for a show without a waiting room lasts: browse, pick, pay.
OPEN_SESSION_SECONDS = 1800
T = TypeVar("T")

PROGRESS_CACHE_SECONDS = 1.0
# An admitted fan's status polls get the access token already issued for that session (same
# show, visitor and end; only iat differs) instead of a fresh Ed25519 signature each poll.
ISSUED_ACCESS_SECONDS = 60.0
_ISSUED_ACCESS = 65_536
_CACHED_SHOWS = 10_000
_PROGRESS_STATUS = {
    "OPEN": "OPEN", "PREQUEUE": "PREQUEUE", "PAUSED": "PAUSED", "SOLDOUT": "SOLD_OUT",
}
_encode = msgspec.json.Encoder().encode
# Asks a rate limit for one more admission of ``subject``: (allowed, seconds until it would be).
RoomlessLimit = Callable[[str], Awaitable[tuple[bool, float]]]


def _waiting_status(place: Place) -> Literal["WAITING", "PREQUEUE", "SOLD_OUT"]:
    if place.status == "PREQUEUE":
        return "PREQUEUE"
    return "SOLD_OUT" if place.status == "SOLDOUT" else "WAITING"


def _no_eta_reason(place: Place, *, numbered: bool) -> NoEtaReason | None:
    """Why a waiting fan gets no estimated wait, if it gets none: a number then would be a
    promise nobody can keep (a paused room used to tell everyone about a second)."""
    if place.status == "SOLDOUT":
        return "SOLD_OUT"
    if place.phase == "PAUSED":
        return "PAUSED"
    if not numbered:
        return "DRAW_PENDING"  # a random pre-queue: places are drawn at startsAt
    return None


def _eta(place: Place) -> int | None:
    """The wait the room's script predicted (admission/eta.py), in whole seconds; none while
    nobody is let in (sold out, paused)."""
    if _no_eta_reason(place, numbered=True) is not None or place.predicted_wait_ms is None:
        return None  # nobody is let in now (sold out, paused): no time to promise
    return eta.answered_seconds(place.predicted_wait_ms)


def _eta_error(summary: eta.ErrorSummary) -> EtaErrorOut:
    return EtaErrorOut(fans=summary.fans, median_percent=summary.median_percent,
                       p90_percent=summary.p90_percent)


def _chance(place: Place) -> Chance | None:
    """How likely tickets are at the fan's place, once the room knows its seats."""
    if place.seats_left < 0:
        return None
    return ticket_chance(position=place.position, active=place.active,
                         seats_left=place.seats_left, per_order=place.seats_per_order,
                         buying_share=place.buying_share)


def _seats_for_admitted(place: Place) -> tuple[int | None, bool | None]:
    """Seats left, and whether fewer are left than admitted fans choosing (this one too)."""
    if place.seats_left < 0:
        return None, None
    return place.seats_left, place.seats_left < place.active


def _draw_scorer(seed: bytes) -> Callable[[str], float | None]:
    return lambda visitor: draw.draw_score(seed, draw.entry_id(visitor))


def _no_score(_visitor: str) -> float | None:
    return None


def _moment(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


class WaitingRoomService:
    """Fans' side of the waiting room: queue tokens in, places and access tokens out."""

    def __init__(
        self, store: QueueStore, settings: RoomSettings, tokens: TokenService,
        pow_checker: proof.ProofOfWork, *, queue_token_seconds: int,
        draws: Draws | None = None, recorder: RoomEventRecorder | None = None,
        roomless_limit: RoomlessLimit | None = None,
    ) -> None:
        self.store = store
        # New visitors admitted at once to a show without a room, per client network: each is
        # a fresh visitor id (and seat allowance), so minting them is rate-limited.
        self.roomless_limit = roomless_limit
        self.draws = draws
        self.recorder: RoomEventRecorder = recorder or NoRecorder()
        self.settings = settings
        self.tokens = tokens
        self.pow = pow_checker
        self.queue_token_seconds = queue_token_seconds
        self._progress: dict[str, tuple[float, bytes]] = {}
        self._progress_loading: dict[str, asyncio.Future[bytes]] = {}
        self._issued: TtlCache[tuple[str, str, int], str] = TtlCache(
            ISSUED_ACCESS_SECONDS, _ISSUED_ACCESS
        )

    async def _mirrored(self, show_id: str, call: Callable[[], Awaitable[T]]) -> T:
        """Run a room script; if Redis lost the room's settings, restore them and run it again."""
        try:
            return await call()
        except RoomStateMissingError:
            await self.settings.restore(show_id)
            return await call()

    def _verify(self, show_id: str, token: str | None, binding: str) -> QueueTokenClaims:
        if not token:
            raise TokenInvalidError("Send your queue token as header X-Queue-Token")
        claims = self.tokens.verify_queue_token(token, show_id, binding)
        structlog.contextvars.bind_contextvars(visitor_id=claims.sub)
        return claims

    # Join ----------------------------------------------------------------------------------------

    async def join(
        self, show_id: str, *, binding: str, queue_token: str | None,
        pow_answer: tuple[str, str] | None, identity: str = "",
        network: Callable[[], str] | None = None, limit: JoinLimit | None = None,
    ) -> JoinOut:
        """A place in the queue (the same one again for a valid queue token, and for the same
        verified ``identity``: one identity, one place). ``network`` gives the client's network
        (``policy.lock_network``), which limits new visitors of shows without a room; it is
        asked for only there (parsing an address is a few microseconds of every join). With
        ``limit``, the client's join bucket of the show gives a token first in the same script
        call, or the join is refused (429 RATE_LIMITED) having changed nothing; if Redis is down
        the join decides alone."""
        show = canonical_show_id(show_id)
        answer = await self._join(show, binding, queue_token, pow_answer, identity, network,
                                  limit=limit)
        observability.count_join(show, answer.status)
        return answer

    async def _join(  # noqa: PLR0917 - the join's inputs, passed on as they came
        self, show: str, binding: str, queue_token: str | None,
        pow_answer: tuple[str, str] | None, identity: str,
        network: Callable[[], str] | None, *, limit: JoinLimit | None,
    ) -> JoinOut:
        started = time.perf_counter()
        claims = self._verify(show, queue_token, binding) if queue_token else None
        solved = self.pow.check(show, *pow_answer) if pow_answer else None
        untaken = limit  # the first script call takes the join's token, later ones none

        def join(scorer: Callable[[str], float | None] | None) -> Awaitable[Place]:
            nonlocal untaken
            take, untaken = untaken, None
            return self.store.join(
                show, token_visitor=claims.sub if claims else "",
                token_ticket=claims.tkt if claims else 0, token_epoch=claims.ep if claims else "",
                pow_challenge=solved.challenge_id if solved else "",
                pow_bits=solved.bits if solved else 0, pow_ttl_ms=solved.ttl_ms if solved else 0,
                prequeue_score=scorer, identity=identity, limit=take,
            )

        try:
            try:
                place = await self._mirrored(show, lambda: join(self._scorer(show)))
            except DrawSeedNeededError:
                seed = await self.draws.seed(show) if self.draws else None
                place = await self._mirrored(
                    show, lambda: join(None if seed is None else _draw_scorer(seed))
                )
        except JoinRateLimitedError as exc:
            raise RateLimitedError(retry_after_header(exc.retry_after_seconds)) from exc
        except REDIS_DOWN as exc:
            return await self._join_without_redis(show, claims, binding, exc)
        except WaitingRoomNotFoundError:
            return await self._join_without_room(show, claims, binding, network)
        if place.status == "POW_REQUIRED":
            raise proof.required(place.position, f"/api/v1/queue/{show}/challenge")
        if place.status == "POW_REUSED":
            raise ProofOfWorkInvalidError("This proof-of-work challenge was used already")
        if place.status == "IDENTITY_REQUIRED":
            raise IdentityRequiredError(
                "This queue lets in one place per person: verify your e-mail first"
            )
        self._refuse_closed(place)
        if place.status == "GONE":  # not answered by join.lua; kept for completeness
            raise QueuePlaceGoneError("Your place in the queue has expired")
        self._record_join(show, place.visitor_id, started, fresh=claims is None)
        token = self.tokens.issue_queue_token(
            show_id=show, visitor_id=place.visitor_id, ticket=place.ticket, epoch=place.epoch,
            binding=binding, ttl_seconds=self.queue_token_seconds,
        )
        if place.status == "ADMITTED":
            access, expires = self._access_token(show, place.visitor_id, place.at_ms)
            seats_left, few = _seats_for_admitted(place)
            return JoinOut(status="ADMITTED", token=token, ticket_number=place.ticket or None,
                           position=0, total_in_queue=0, estimated_wait_seconds=0,
                           access_token=access, access_expires_at=expires,
                           seats_left=seats_left, few_seats_left=few)
        numbered = place.ticket > 0
        return JoinOut(
            status=_waiting_status(place), token=token,
            ticket_number=place.ticket if numbered else None,
            position=place.position if numbered else None, total_in_queue=place.total,
            estimated_wait_seconds=_eta(place) if numbered else None,
            estimated_wait_reason=_no_eta_reason(place, numbered=numbered),
            entry_id=self._entry_id(show, place), chance=_chance(place) if numbered else None,
        )

    def _scorer(self, show: str) -> Callable[[str], float | None] | None:
        """The draw score of a new pre-queue fan when the room's seed is known here; a
        function answering ``None`` (join.lua then asks for it) while it is not; no function at
        all in a process without draws (a random score then)."""
        if self.draws is None:
            return None
        seed = self.draws.cached_seed(show)
        return _draw_scorer(seed) if seed is not None else _no_score

    def _entry_id(self, show: str, place: Place) -> str | None:
        """The fan's public entry id in the show's draw (pre-queue places, and places in a
        room that has a draw)."""
        if place.status == "PREQUEUE" or (
            self.draws is not None and self.draws.cached_seed(show) is not None
        ):
            return draw.entry_id(place.visitor_id)
        return None

    def _record_join(self, show: str, visitor: str, started: float, *, fresh: bool) -> None:
        """For the operator console: the join's time, and the fan in the funnel."""
        if fresh:
            self.recorder.count(show, "joined")
        self.recorder.observe(show, "join", time.perf_counter() - started)
        self.recorder.visit(show, "joined", [visitor])

    def _refuse_closed(self, place: Place) -> None:
        if place.status == "CLOSED":
            raise QueueClosedError("The queue of this show is closed")
        if place.status == "NOTOPEN":
            opens = _moment(place.at_ms)
            wait = max(1, math.ceil(place.at_ms / 1000 - time.time()))
            raise QueueNotOpenError(opens, wait)

    async def _join_without_redis(
        self, show: str, claims: QueueTokenClaims | None, binding: str, exc: Exception
    ) -> JoinOut:
        room = await self._room_or_unavailable(show, exc)
        visitor = claims.sub if claims else new_visitor_id()
        access, expires = self._fail_open_access(room, visitor)
        token = self.tokens.issue_queue_token(
            show_id=show, visitor_id=visitor, ticket=0, epoch="", binding=binding,
            ttl_seconds=self.queue_token_seconds,
        )
        return JoinOut(status="ADMITTED", token=token, ticket_number=None, position=0,
                       total_in_queue=0, estimated_wait_seconds=0, access_token=access,
                       access_expires_at=expires)

    async def _join_without_room(
        self, show: str, claims: QueueTokenClaims | None, binding: str,
        network_of: Callable[[], str] | None,
    ) -> JoinOut:
        """A show on sale with no waiting room has no queue: its fans are admitted at once.

        Every way to the booking core goes through an access token, so a show without a flash
        sale is bookable through the same door, just without waiting behind it. A new visitor
        (no queue token) counts against its network's admissions
        (``ADMITONE_ROOMLESS_ADMISSIONS_PER_MINUTE``): 429 with Retry-After beyond. A client
        without a network (loopback: a local proxy or load test, see ``policy.lock_network``)
        is not counted.
        """
        if not await self.settings.repository.show_on_sale(show):
            raise WaitingRoomNotFoundError(f"Show {show} is not on sale")
        network = network_of() if network_of is not None else ""
        if claims is None and self.roomless_limit is not None and network:
            allowed, retry = await self.roomless_limit(f"{show}:{network}")
            if not allowed:
                log.info("roomless_admission_limited", show_id=show, network=network)
                raise RateLimitedError(max(1, math.ceil(retry)))
        visitor = claims.sub if claims else new_visitor_id()
        ends_ms = int(time.time() + OPEN_SESSION_SECONDS) * 1000
        access, expires = self._access_token(show, visitor, ends_ms)
        token = self.tokens.issue_queue_token(
            show_id=show, visitor_id=visitor, ticket=0, epoch="", binding=binding,
            ttl_seconds=self.queue_token_seconds,
        )
        log.info("fan_admitted_without_room", show_id=show, visitor_id=visitor)
        self.recorder.visit(show, "joined", [visitor])
        self.recorder.visit(show, "admitted", [visitor])
        return JoinOut(status="ADMITTED", token=token, ticket_number=None, position=0,
                       total_in_queue=0, estimated_wait_seconds=0, access_token=access,
                       access_expires_at=expires)

    async def _room_or_unavailable(self, show: str, exc: Exception) -> WaitingRoom:
        """Redis is down: the room's settings (PostgreSQL / cache) if it fails open and is open
        now; otherwise the room fails closed (503 QUEUE_UNAVAILABLE)."""
        log.warning("queue_redis_unavailable", show_id=show, error=repr(exc))
        try:
            room = await self.settings.get(show)
        except WaitingRoomNotFoundError:
            # No room: the show may well be on sale (joining admits at once, but only through
            # Redis, which is down). "Closed" would be a lie: retry shortly. An unknown show,
            # or one not on sale, is still a 404 (PostgreSQL says so).
            if not await self.settings.repository.show_on_sale(show):
                raise
            raise DependencyUnavailableError("Redis") from exc
        if not room.fail_open or room.phase_at(datetime.now(UTC)) not in {"OPEN", "PAUSED"}:
            raise QueueUnavailableError from exc
        return room

    def _fail_open_access(self, room: WaitingRoom, visitor: str) -> tuple[str, datetime]:
        ends_ms = int(time.time() + room.session_seconds) * 1000
        log.info("fan_admitted_fail_open", show_id=room.show_id, visitor_id=visitor)
        return self._access_token(room.show_id, visitor, ends_ms)

    def _access_token(self, show: str, visitor: str, ends_ms: int) -> tuple[str, datetime]:
        key = (show, visitor, ends_ms)
        token = self._issued.get(key)
        if token is None:
            token = self._issued.put(key, self.tokens.issue_access_token(
                show_id=show, visitor_id=visitor, expires_at=ends_ms // 1000,
                jti=session_jti(show, visitor, ends_ms),
            ))
        return token, _moment(ends_ms // 1000 * 1000)

    async def challenge(self, show_id: str) -> ChallengeOut:
        """A fresh proof-of-work challenge at the room's current difficulty (0 = not needed)."""
        show = canonical_show_id(show_id)
        room = await self.settings.get(show)
        issued = self.pow.issue(show, room.pow_difficulty_bits)
        return ChallengeOut(challenge=issued.text, difficulty_bits=issued.bits,
                            expires_at=_moment(issued.expires_at * 1000))

    # Status and leave ----------------------------------------------------------------------------

    async def status(self, show_id: str, *, binding: str, queue_token: str | None) -> StatusOut:
        """Where the token's visitor stands; keeps its place alive."""
        show = canonical_show_id(show_id)
        claims = self._verify(show, queue_token, binding)
        try:
            place = await self._mirrored(
                show, lambda: self.store.status(show, claims.sub, claims.tkt, claims.ep)
            )
        except REDIS_DOWN as exc:
            room = await self._room_or_unavailable(show, exc)
            access, expires = self._fail_open_access(room, claims.sub)
            return StatusOut(status="ADMITTED", access_token=access, access_expires_at=expires)
        self._refuse_closed(place)
        if place.status == "GONE":
            raise QueuePlaceGoneError(
                "Your place in the queue has expired (left, inactive too long, or the session "
                "ended); join again"
            )
        if place.status == "ADMITTED":
            access, expires = self._access_token(show, place.visitor_id, place.at_ms)
            seats_left, few = _seats_for_admitted(place)
            return StatusOut(status="ADMITTED", access_token=access, access_expires_at=expires,
                             seats_left=seats_left, few_seats_left=few)
        numbered = place.ticket > 0
        return StatusOut(
            status=_waiting_status(place),
            position=place.position if numbered else None, total_in_queue=place.total,
            estimated_wait_seconds=_eta(place) if numbered else None,
            ticket_number=place.ticket if numbered else None,
            estimated_wait_reason=_no_eta_reason(place, numbered=numbered),
            entry_id=self._entry_id(show, place), chance=_chance(place) if numbered else None,
        )

    async def leave(self, show_id: str, *, binding: str, queue_token: str | None) -> None:
        """Leave at once (a waiting place or an admitted slot)."""
        show = canonical_show_id(show_id)
        claims = self._verify(show, queue_token, binding)
        try:
            await self._mirrored(show, lambda: self.store.leave(show, claims.sub))
        except REDIS_DOWN as exc:
            raise QueueUnavailableError from exc
        await self._end_session(show, claims.sub)

    async def release(self, show_id: str, visitor_id: str) -> bool:
        """Free an admitted visitor's slot (its booking is confirmed)."""
        show = canonical_show_id(show_id)
        freed = await self.store.leave(show, visitor_id)
        await self._end_session(show, visitor_id)
        return freed

    async def _end_session(self, show: str, visitor: str) -> None:
        """The recorded session is over too: a rebuilt active set must not hold the slot. If
        PostgreSQL does not answer, the slot stays held in a rebuild until the session ends
        (never more fans than maxActive, a slot fewer for a while)."""
        try:
            await self.settings.repository.end_session(show, visitor)
        except DependencyUnavailableError as exc:
            log.warning("admission_session_not_ended", show_id=show, dependency=exc.dependency,
                        error=repr(exc))

    # The whole room ------------------------------------------------------------------------------

    async def progress_json(self, show_id: str) -> bytes:
        """The progress answer, the same for every fan; computed at most once a second per show
        and process, however many fans ask at once."""
        show = canonical_show_id(show_id)
        fresh = self.fresh_progress(show)
        if fresh is not None:
            return fresh
        loading = self._progress_loading.get(show)
        if loading is not None:
            return await asyncio.shield(loading)
        future: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        self._progress_loading[show] = future
        try:
            body = await self._load_progress(show)
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: waiting callers re-raise it, nobody else must
            raise
        finally:
            self._progress_loading.pop(show, None)
        future.set_result(body)
        if len(self._progress) > _CACHED_SHOWS:
            self._progress.clear()
        self._progress[show] = (time.monotonic(), body)
        return body

    def fresh_progress(self, show: str) -> bytes | None:
        """The progress answer this process holds for ``show`` (a canonical show id) if it is
        younger than a second, else None; never asks Redis (the gateway's fast lane)."""
        cached = self._progress.get(show)
        if cached is not None and time.monotonic() - cached[0] < PROGRESS_CACHE_SECONDS:
            return cached[1]
        return None

    async def _load_progress(self, show: str) -> bytes:
        try:
            progress = await self._mirrored(show, lambda: self.store.progress(show))
        except REDIS_DOWN as exc:
            await self._room_or_unavailable(show, exc)  # fails closed unless the room fails open
            now = datetime.now(UTC)
            return _encode(ProgressOut(status="OPEN", admitted_through=0, total_in_queue=0,
                                       observed_admissions_per_minute=0.0, updated_at=now))
        status = _PROGRESS_STATUS.get(progress.phase, "CLOSED")
        return _encode(ProgressOut(
            status=status,  # type: ignore[arg-type]  # one of ProgressStatus by the map above
            admitted_through=progress.admitted_through, total_in_queue=progress.waiting,
            observed_admissions_per_minute=progress.observed_per_minute,
            updated_at=_moment(progress.now_ms),
        ))

    async def stats(self, show_id: str) -> RoomStats:
        """The operator's view of a room."""
        show = canonical_show_id(show_id)
        room = await self.settings.get(show)
        try:
            progress: Progress = await self._mirrored(show, lambda: self.store.progress(show))
            errors = eta.accuracy(await self.store.eta_errors(show), progress.now_ms)
        except REDIS_DOWN as exc:
            raise QueueUnavailableError from exc
        return RoomStats(
            status=progress.phase, waiting=progress.waiting, active=progress.active,
            admitted_total=progress.admitted_total, abandoned_total=progress.abandoned_total,
            admitted_through=progress.admitted_through,
            release_rate_per_minute=room.release_rate_per_minute,
            observed_admissions_per_minute=progress.observed_per_minute,
            max_active=room.max_active, session_seconds=room.session_seconds,
            paused=room.paused, enabled=room.enabled, merged_duplicates=progress.merged_total,
            eta_error_at_join=_eta_error(errors.at_join),
            eta_error_last_10_minutes=_eta_error(errors.last_10_minutes),
            eta_error_any_answer=_eta_error(errors.any_answer),
            eta_error_any_answer_last_10_minutes=_eta_error(errors.any_answer_last_10_minutes),
        )
