"""The pre-queue lottery that anyone can check: commit to a seed, draw, reveal.

When a ``RANDOM_PREQUEUE`` room is set up it gets a secret 32-byte seed, and only the seed's
SHA-256 (the *commitment*) is published. Each fan who enters the pre-queue gets a public entry
id derived from its visitor id. At ``startsAt`` the order of the pre-queue is the order of
``HMAC-SHA256(seed, entry id)`` — nothing else. Right after the draw the seed and the entry ids
are published, so anyone can recompute the commitment and every position
(``admitone verify-draw``): an operator who wanted to favour someone would have had to know
the entry ids before choosing the seed, and cannot change the seed after publishing its hash.

Everything here is pure: the queue store turns :func:`draw_score` into the Redis sorted-set
score a fan enters the pre-queue with, so the sorted set *is* the draw.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

ALGORITHM = (
    "commitment = sha256(seed); order = entries sorted by the first 52 bits of "
    "hmac_sha256(seed, entryId), ascending; entryId = sha1(\"entry:\" + visitorId)[:16]"
)
SEED_BYTES = 32
ENTRY_ID_CHARS = 16
# A Redis score is a double: 52 bits of the HMAC fit exactly, so scores compare as the digests'
# first 52 bits do. Two entries tie on 52 bits with odds of about n² / 2⁵³ (1 in 900,000 at
# 100,000 entries); tied entries may stand in either order, and the check accepts both.
SCORE_BITS = 52


def new_seed() -> bytes:
    return secrets.token_bytes(SEED_BYTES)


def commitment(seed: bytes) -> str:
    """What is published before the draw: the seed's SHA-256, hex."""
    return hashlib.sha256(seed).hexdigest()


def entry_id(visitor_id: str) -> str:
    """A fan's public entry id: the visitor id itself never leaves the fan's own tokens.

    Lua computes the same (``redis.sha1hex``) when it records the drawn order, so it is SHA-1
    here: a public label, not a secret (the visitor id it hides is 72 random bits).
    """
    return hashlib.sha1(f"entry:{visitor_id}".encode(), usedforsecurity=False).hexdigest()[
        :ENTRY_ID_CHARS
    ]


def draw_digest(seed: bytes, entry: str) -> bytes:
    return hmac.new(seed, entry.encode(), hashlib.sha256).digest()


def draw_score(seed: bytes, entry: str) -> float:
    """The entry's place in [0, 1) as a Redis score: the first 52 bits of its HMAC."""
    top = int.from_bytes(draw_digest(seed, entry)[:7], "big") >> (56 - SCORE_BITS)
    return top / (1 << SCORE_BITS)


def draw_order(seed: bytes, entries: Iterable[str]) -> list[str]:
    """The drawn order of ``entries``: by score (ties, which practically never happen, by
    entry id)."""
    return sorted(set(entries), key=lambda entry: (draw_score(seed, entry), entry))


@dataclass(frozen=True)
class DrawCheck:
    """The outcome of checking a published draw: ``ok`` and, if not, every reason why not."""

    ok: bool
    problems: tuple[str, ...]


def verify_draw(
    published_commitment: str, seed_hex: str, entries_in_order: Sequence[str]
) -> DrawCheck:
    """Check a published draw: the seed matches the commitment made before the draw, and the
    published order is exactly the order the seed gives those entries."""
    problems: list[str] = []
    try:
        seed = bytes.fromhex(seed_hex)
    except ValueError:
        return DrawCheck(False, ("the seed is not hexadecimal",))
    if not hmac.compare_digest(commitment(seed), published_commitment.lower()):
        problems.append("the seed does not match the commitment published before the draw")
    if len(set(entries_in_order)) != len(entries_in_order):
        problems.append("an entry id appears more than once")
    scores = [draw_score(seed, entry) for entry in entries_in_order]
    for position in range(1, len(scores)):
        if scores[position] < scores[position - 1]:
            ahead, behind = entries_in_order[position - 1], entries_in_order[position]
            problems.append(
                f"positions {position} and {position + 1}: the seed puts {behind} ahead of "
                f"{ahead}"
            )
            break
    return DrawCheck(not problems, tuple(problems))
