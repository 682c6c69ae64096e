"""Every Redis key of the waiting room, built in one place.

One show's keys share the Cluster hash tag ``{show:<id>}`` so a Lua script may touch them all
on one slot; the scheduler's lease keys share the tag ``{scheduler}``.
"""

from __future__ import annotations

from typing import NamedTuple

PREFIX = "wr"


def _tag(show_id: str) -> str:
    return f"{PREFIX}:{{show:{show_id}}}"


def config_key(show_id: str) -> str:
    """Hash: the room's settings, mirrored from PostgreSQL (``sync.lua`` writes it)."""
    return f"{_tag(show_id)}:config"


def state_key(show_id: str) -> str:
    """Hash: epoch, ticket counter, admittedThrough, totals, token bucket, fence, observed rate."""
    return f"{_tag(show_id)}:state"


def waiting_key(show_id: str) -> str:
    """Sorted set: waiting visitor ids scored by ticket number (a random score in pre-queue)."""
    return f"{_tag(show_id)}:waiting"


def visitors_key(show_id: str) -> str:
    """Hash: visitor id → packed ``"<ticket>,<lastSeenSeconds>"`` of each waiting or admitted
    fan (one hash per show rather than one per fan: see ``store.py``)."""
    return f"{_tag(show_id)}:visitors"


def active_key(show_id: str) -> str:
    """Sorted set: admitted visitor ids scored by the end of their session (unix ms)."""
    return f"{_tag(show_id)}:active"


def admissions_key(show_id: str) -> str:
    """Hash: unix second → admissions in that tick, the last minute of it (observed rate)."""
    return f"{_tag(show_id)}:admissions"


def admission_log_key(show_id: str) -> str:
    """Stream: one entry per admission tick that had fans waiting or let any in, with the fans
    it let in (``scripts/admit.lua``); capped, read by ``loadtests/check.py``."""
    return f"{_tag(show_id)}:admission-log"


def revoked_key(show_id: str) -> str:
    """Sorted set: revoked visitor ids scored by when their tokens would have expired (unix ms)."""
    return f"{_tag(show_id)}:revoked"


def pow_key(show_id: str, challenge_id: str) -> str:
    """String: a spent proof-of-work challenge (single use), expiring with the challenge."""
    return f"{_tag(show_id)}:pow:{challenge_id}"


def lease_key() -> str:
    """String: ``"<holder>:<fence>"`` of the scheduler that may admit, with a short TTL."""
    return f"{PREFIX}:{{scheduler}}:lease"


def fence_key() -> str:
    """String: the last fencing number handed out with the lease (only grows)."""
    return f"{PREFIX}:{{scheduler}}:fence"


class RoomKeys(NamedTuple):
    """The keys every room script takes, in the order the scripts expect them (KEYS[1..7])."""

    config: str
    state: str
    waiting: str
    visitors: str
    active: str
    admissions: str
    revoked: str

    @classmethod
    def of(cls, show_id: str) -> RoomKeys:
        return cls(
            config_key(show_id), state_key(show_id), waiting_key(show_id),
            visitors_key(show_id), active_key(show_id), admissions_key(show_id),
            revoked_key(show_id),
        )
