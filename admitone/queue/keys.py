"""Every Redis key of the waiting room, built in one place.

Each key starts with the deployment's prefix (``Settings.redis_key_prefix``), so deployments
sharing one Redis keep their rooms and scheduler leases apart. One show's keys share the Cluster
hash tag ``{show:<id>}`` so a Lua script may touch them all on one slot; the scheduler's lease
keys share the tag ``{scheduler}``. The prefix holds no braces (settings.py refuses them), so
the tag stays the first ``{…}`` of every key.
"""

from __future__ import annotations

from typing import NamedTuple

PART = "wr"


def _tag(prefix: str, show_id: str) -> str:
    return f"{prefix}:{PART}:{{show:{show_id}}}"


def config_key(prefix: str, show_id: str) -> str:
    """Hash: the room's settings, mirrored from PostgreSQL (``sync.lua`` writes it)."""
    return f"{_tag(prefix, show_id)}:config"


def state_key(prefix: str, show_id: str) -> str:
    """Hash: epoch, ticket counter, admittedThrough, totals, token bucket, fence, observed rate."""
    return f"{_tag(prefix, show_id)}:state"


def waiting_key(prefix: str, show_id: str) -> str:
    """Sorted set: waiting visitor ids scored by ticket number (a random score in pre-queue)."""
    return f"{_tag(prefix, show_id)}:waiting"


def visitors_key(prefix: str, show_id: str) -> str:
    """Hash: visitor id → packed ``"<ticket>,<lastSeen>[,<joined>,<waitAtJoin>,<lastWait>]"``
    of each waiting or admitted fan (one hash per show rather than one per fan: see
    ``store.py``; the fields: ``scripts/lib.lua``)."""
    return f"{_tag(prefix, show_id)}:visitors"


def active_key(prefix: str, show_id: str) -> str:
    """Sorted set: admitted visitor ids scored by the end of their session (unix ms)."""
    return f"{_tag(prefix, show_id)}:active"


def admissions_key(prefix: str, show_id: str) -> str:
    """Hash: unix second → admissions in that tick, the last minute of it (observed rate)."""
    return f"{_tag(prefix, show_id)}:admissions"


def admission_log_key(prefix: str, show_id: str) -> str:
    """Stream: one entry per admission tick that had fans waiting or let any in, with the fans
    it let in (``scripts/admit.lua``); capped, read by ``loadtests/check.py``."""
    return f"{_tag(prefix, show_id)}:admission-log"


def eta_errors_key(prefix: str, show_id: str) -> str:
    """Hash: counts of admitted fans per bucket of how far the wait predicted at join was off,
    since the room began and per minute of the last ten (``scripts/admit.lua``)."""
    return f"{_tag(prefix, show_id)}:eta-errors"


def revoked_key(prefix: str, show_id: str) -> str:
    """Sorted set: revoked visitor ids scored by when their tokens would have expired (unix ms)."""
    return f"{_tag(prefix, show_id)}:revoked"


def identities_key(prefix: str, show_id: str) -> str:
    """Hash: verified identity (hashed, see admission/identity.py) -> the visitor holding that
    identity's one place in the room."""
    return f"{_tag(prefix, show_id)}:identities"


def identity_code_key(prefix: str, show_id: str, identity: str) -> str:
    """String: the keyed hash of the one-time code last sent to an identity, expiring with it."""
    return f"{_tag(prefix, show_id)}:idcode:{identity}"


def identity_tries_key(prefix: str, show_id: str, identity: str) -> str:
    """Hash: codes sent (``sent``) and wrong codes tried (``wrong``) for an identity lately."""
    return f"{_tag(prefix, show_id)}:idtries:{identity}"


def pow_key(prefix: str, show_id: str, challenge_id: str) -> str:
    """String: a spent proof-of-work challenge (single use), expiring with the challenge."""
    return f"{_tag(prefix, show_id)}:pow:{challenge_id}"


def join_limit_key(prefix: str, show_id: str, client: str) -> str:
    """Hash: one client address's token bucket of joins to this show (``join.lua``), on the
    room's slot so that the join script may take from it; gone when full again."""
    return f"{_tag(prefix, show_id)}:join-limit:{client}"


def lease_key(prefix: str) -> str:
    """String: ``"<holder>:<fence>"`` of the scheduler that may admit, with a short TTL."""
    return f"{prefix}:{PART}:{{scheduler}}:lease"


def fence_key(prefix: str) -> str:
    """String: the last fencing number handed out with the lease (only grows)."""
    return f"{prefix}:{PART}:{{scheduler}}:fence"


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
    def of(cls, prefix: str, show_id: str) -> RoomKeys:
        return cls(
            config_key(prefix, show_id), state_key(prefix, show_id), waiting_key(prefix, show_id),
            visitors_key(prefix, show_id), active_key(prefix, show_id),
            admissions_key(prefix, show_id), revoked_key(prefix, show_id),
        )
