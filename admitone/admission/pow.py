"""Proof of work on join: a room can make each new place cost the client some CPU.

The client fetches a challenge and finds a nonce so that ``sha256(challenge + nonce)`` starts
with ``bits`` zero bits (about 2**bits hashes; 20 bits take a browser about a second); the
server checks it with one hash. A challenge is an HMAC-signed, self-describing string (no
storage to issue it), bound to one show, short-lived; join.lua spends it (single use).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass

from admitone.errors import ProofOfWorkError, ProofOfWorkInvalidError

_VERSION = "p1"
_MAX_NONCE_CHARS = 64
_MAX_CHALLENGE_CHARS = 128


@dataclass(frozen=True)
class Challenge:
    text: str
    bits: int
    expires_at: int  # unix seconds


@dataclass(frozen=True)
class Solved:
    challenge_id: str  # what join.lua remembers to refuse a second use
    bits: int
    ttl_ms: int


def leading_zero_bits(digest: bytes) -> int:
    """How many zero bits a digest starts with."""
    value = int.from_bytes(digest, "big")
    return len(digest) * 8 - value.bit_length()


def solve(challenge: str, bits: int) -> str:
    """Find a nonce for ``challenge`` (what a client does; tests and tools use it)."""
    counter = 0
    while True:
        nonce = format(counter, "x")
        if leading_zero_bits(hashlib.sha256((challenge + nonce).encode()).digest()) >= bits:
            return nonce
        counter += 1


class ProofOfWork:
    """Issues and checks proof-of-work challenges with a server secret."""

    def __init__(self, secret: str, ttl_seconds: int = 120) -> None:
        self._key = secret.encode()
        self.ttl_seconds = ttl_seconds

    def _mac(self, show_id: str, body: str) -> str:
        digest = hmac.new(self._key, f"{show_id}|{body}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest[:12]).decode()

    def issue(self, show_id: str, bits: int, now: float | None = None) -> Challenge:
        expires = int(now if now is not None else time.time()) + self.ttl_seconds
        body = f"{_VERSION}.{bits}.{expires}.{secrets.token_urlsafe(12)}"
        return Challenge(f"{body}.{self._mac(show_id, body)}", bits, expires)

    def check(self, show_id: str, challenge: str, nonce: str, now: float | None = None) -> Solved:
        """Verify a presented answer; raise ProofOfWorkInvalidError when anything is off."""
        if len(challenge) > _MAX_CHALLENGE_CHARS or not 0 < len(nonce) <= _MAX_NONCE_CHARS:
            raise ProofOfWorkInvalidError("The proof-of-work challenge or nonce is malformed")
        parts = challenge.split(".")
        if len(parts) != 5 or parts[0] != _VERSION:  # noqa: PLR2004 - version.bits.exp.id.mac
            raise ProofOfWorkInvalidError("The proof-of-work challenge is malformed")
        body, mac = challenge.rpartition(".")[0], parts[4]
        if not hmac.compare_digest(mac, self._mac(show_id, body)):
            raise ProofOfWorkInvalidError(
                "The proof-of-work challenge is not ours or not for this show"
            )
        try:
            bits, expires = int(parts[1]), int(parts[2])
        except ValueError:
            raise ProofOfWorkInvalidError("The proof-of-work challenge is malformed") from None
        left = expires - (now if now is not None else time.time())
        if left <= 0:
            raise ProofOfWorkInvalidError(
                "The proof-of-work challenge has expired; fetch a new one"
            )
        digest = hashlib.sha256((challenge + nonce).encode()).digest()
        if leading_zero_bits(digest) < bits:
            raise ProofOfWorkInvalidError("The nonce does not solve the challenge")
        return Solved(challenge_id=parts[3], bits=bits, ttl_ms=int(left * 1000) + 1000)


def required(bits: int, challenge_url: str) -> ProofOfWorkError:
    """The error a join without a (sufficient) proof of work gets."""
    return ProofOfWorkError(
        f"This queue asks for a proof of work of {bits} bits: GET {challenge_url}, then join "
        "with headers X-PoW-Challenge and X-PoW-Nonce",
        difficultyBits=bits, challengeUrl=challenge_url,
    )
