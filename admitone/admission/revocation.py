"""Revocation: an operator takes a visitor's access tokens out of service at once.

Revoked visitors live in a per-show sorted set in Redis and in PostgreSQL (the truth, restored
into Redis with the room's settings after a Redis restart). Each process reads a show's set at
most every ``SNAPSHOT_SECONDS`` (one read however many requests arrive meanwhile), so the
booking routes' guard costs no Redis round trip per request: a revocation takes effect at once
in the process that made it and within half a second everywhere else.

When Redis does not answer, the set is read from PostgreSQL instead (admitted fans keep
booking, revoked ones stay out: ``tests/integration/test_revocation_outage.py``). Only when
neither answers is the answer unknown, and then the caller says what to do: ``fail_open=False``
(the default, and every booking-core write: lock, checkout, cancel) raises
``DependencyUnavailableError`` (a 503 with Retry-After); ``fail_open=True`` (reads such as the
seat map) lets the token through and logs it. Booking tokens from lookup name their show and
are checked the same way (``gateway/guards.py``).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import time
from typing import Protocol

import structlog

from admitone.admission.rooms import RoomSettings, canonical_show_id
from admitone.errors import (
    DependencyUnavailableError,
    InvalidRequestError,
    QueueUnavailableError,
)
from admitone.outages import REDIS_DOWN
from admitone.queue.store import QueueStore

log = structlog.get_logger(__name__)

CHECK_TIMEOUT_SECONDS = 0.5
SNAPSHOT_SECONDS = 0.5
_MAX_VISITOR_ID = 64
_MAX_SNAPSHOTS = 4096


class RevocableClaims(Protocol):
    """What a revocation check reads of a token: its visitor and its show (access tokens, and
    booking tokens from lookup)."""

    @property
    def sub(self) -> str: ...

    @property
    def show_id(self) -> str: ...


def session_jti(show_id: str, visitor_id: str, session_ends_ms: int) -> str:
    """The ``jti`` of every access token of one admission (re-minting keeps it)."""
    digest = hashlib.sha256(f"{show_id}|{visitor_id}|{session_ends_ms}".encode()).digest()
    return base64.urlsafe_b64encode(digest[:16]).rstrip(b"=").decode()


class Revocations:
    """``is_revoked`` for the access guard (``Services.revocations``), and ``revoke``."""

    def __init__(self, store: QueueStore, settings: RoomSettings) -> None:
        self.store = store
        self.settings = settings
        # show id -> (monotonic time the snapshot goes stale, visitor -> revoked until, unix ms)
        self._snapshots: dict[str, tuple[float, dict[str, int]]] = {}
        self._loading: dict[str, asyncio.Task[dict[str, int]]] = {}

    async def is_revoked(self, claims: RevocableClaims, *, fail_open: bool = False) -> bool:
        """Whether the token's visitor was revoked for its show. When neither Redis nor
        PostgreSQL answers: ``False`` with ``fail_open``, else DependencyUnavailableError."""
        snapshot = self._snapshots.get(claims.show_id)
        if snapshot is None or snapshot[0] < time.monotonic():
            try:
                revoked = await self._load(claims.show_id)
            except DependencyUnavailableError as exc:
                if not fail_open:
                    log.warning("revocation_unknown_refused", show_id=claims.show_id,
                                dependency=exc.dependency)
                    raise DependencyUnavailableError(exc.dependency) from exc
                log.warning("revocation_check_skipped", show_id=claims.show_id,
                            dependency=exc.dependency, error=repr(exc))
                return False
        else:
            revoked = snapshot[1]
        until = revoked.get(claims.sub)
        return until is not None and until > time.time() * 1000

    async def _load(self, show_id: str) -> dict[str, int]:
        """The show's revocations; concurrent callers share one read."""
        task = self._loading.get(show_id)
        if task is None:
            task = asyncio.ensure_future(self._read(show_id))
            self._loading[show_id] = task
            task.add_done_callback(lambda _: self._loading.pop(show_id, None))
        return await asyncio.shield(task)

    async def _read(self, show_id: str) -> dict[str, int]:
        """From Redis; from PostgreSQL when Redis does not answer (DependencyUnavailableError
        when neither does)."""
        try:
            async with asyncio.timeout(CHECK_TIMEOUT_SECONDS):
                revoked = await self.store.revoked(show_id)
        except REDIS_DOWN as exc:
            log.info("revocations_read_from_postgresql", show_id=show_id, error=repr(exc))
            try:
                async with asyncio.timeout(CHECK_TIMEOUT_SECONDS):
                    rows = await self.settings.repository.revocations(show_id)
            except TimeoutError as slow:
                raise DependencyUnavailableError("PostgreSQL") from slow
            revoked = dict(rows)
        if len(self._snapshots) > _MAX_SNAPSHOTS:
            self._snapshots.clear()
        self._snapshots[show_id] = (time.monotonic() + SNAPSHOT_SECONDS, revoked)
        return revoked

    async def revoke(self, show_id: str, visitor_id: str, actor: str) -> None:
        """Revoke in PostgreSQL (audited), then in Redis, where it takes effect at once."""
        show = canonical_show_id(show_id)
        if not 0 < len(visitor_id) <= _MAX_VISITOR_ID or not visitor_id.isprintable():
            raise InvalidRequestError("visitorId must be 1 to 64 printable characters")
        until = await self.settings.revoke(show, visitor_id, actor)
        until_ms = int(until.timestamp() * 1000)
        snapshot = self._snapshots.get(show)
        if snapshot is not None:
            snapshot[1][visitor_id] = until_ms  # at once in this process
        try:
            await self.store.revoke(show, visitor_id, until_ms)
        except REDIS_DOWN as exc:
            # Recorded in PostgreSQL; the operator's retry (same request) makes it effective.
            log.warning("revocation_not_in_redis", show_id=show, error=repr(exc))
            raise QueueUnavailableError from exc
        log.info("visitor_revoked", show_id=show, visitor_id=visitor_id, actor=actor)
