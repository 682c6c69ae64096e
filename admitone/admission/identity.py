"""One place per person: verified identities for the queue.

A queue token is bound to one device; a person with five tabs or two phones could still hold
five places. A room can therefore take a verified identity on join, and holds one place per
identity (``queue/scripts/join.lua`` merges a second place into the better one). Two ways to
prove one:

- an e-mail one-time code: ``POST /api/v1/queue/{showId}/identity`` sends a six-digit code
  through the outbox, ``…/identity/verify`` trades the right code for an identity token
  (sent back on join as ``X-Identity-Token``);
- a booking frontend that signs its fans in passes its account id in a signed header
  (``X-Identity``: an HS256 JWT made with ``ADMITONE_IDENTITY_SECRET``, audience
  ``admitone-identity``, claims ``sub`` and ``exp``).

What Redis and the tokens hold is a hash of the identity, never the e-mail itself.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from collections.abc import Awaitable, Callable

import jwt

from admitone.admission.rooms import canonical_show_id
from admitone.emails import EMAIL_MAX_CHARS, EMAIL_PATTERN
from admitone.errors import IdentityCodeInvalidError, IdentityInvalidError, RateLimitedError
from admitone.queue.store import QueueStore

CODE_DIGITS = 6
CODE_TTL_SECONDS = 600
CODE_ATTEMPTS = 5  # wrong codes before a code is spent
CODES_PER_EMAIL = 3  # codes sent to one address within CODE_TTL_SECONDS
IDENTITY_TOKEN_SECONDS = 6 * 3600
FRONTEND_AUDIENCE = "admitone-identity"
EMAIL = re.compile(EMAIL_PATTERN)

SendCode = Callable[[str, str, str, int], Awaitable[None]]  # (show, e-mail, code, minutes)


def email_identity(email: str) -> str:
    """The identity of an e-mail address: a hash, so no address is kept in Redis."""
    normal = email.strip().lower()
    return "e:" + hashlib.sha256(normal.encode()).hexdigest()[:32]


def account_identity(account: str) -> str:
    return "a:" + hashlib.sha256(account.encode()).hexdigest()[:32]


class IdentityProofs:
    """Issues and checks the proofs of identity the queue accepts."""

    def __init__(
        self, store: QueueStore, secret: bytes, *, frontend_secret: str | None,
        send_code: SendCode | None,
    ) -> None:
        self.store = store
        self.secret = secret
        self.frontend_secret = frontend_secret
        self.send_code = send_code

    # E-mail codes ------------------------------------------------------------------------------

    async def send_email_code(self, show_id: str, email: str) -> None:
        """Send a fresh one-time code to ``email`` for this show's queue."""
        if len(email) > EMAIL_MAX_CHARS or not EMAIL.match(email.strip()):
            raise IdentityInvalidError("Enter a valid e-mail address")
        if self.send_code is None:
            raise IdentityInvalidError("E-mail codes are not available here")
        identity = email_identity(email)
        sent = await self.store.count_identity_code(show_id, identity, CODE_TTL_SECONDS)
        if sent > CODES_PER_EMAIL:
            raise RateLimitedError(CODE_TTL_SECONDS)
        code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
        await self.store.put_identity_code(
            show_id, identity, self._code_hash(show_id, identity, code), CODE_TTL_SECONDS
        )
        await self.send_code(show_id, email.strip(), code, CODE_TTL_SECONDS // 60)

    async def verify_email_code(self, show_id: str, email: str, code: str) -> str:
        """An identity token for the right code (each code works once, five tries at most)."""
        identity = email_identity(email)
        expected = self._code_hash(show_id, identity, code.strip())
        if not await self.store.take_identity_code(show_id, identity, expected, CODE_ATTEMPTS):
            raise IdentityCodeInvalidError("That code is wrong or has expired; ask for a new one")
        return self.issue_token(show_id, identity)

    def _code_hash(self, show_id: str, identity: str, code: str) -> str:
        message = f"code|{show_id}|{identity}|{code}".encode()
        return hmac.new(self.secret, message, hashlib.sha256).hexdigest()

    # Identity tokens ---------------------------------------------------------------------------

    def issue_token(self, show_id: str, identity: str, now: float | None = None) -> str:
        expires = int((now or time.time()) + IDENTITY_TOKEN_SECONDS)
        body = f"{show_id}.{identity}.{expires}"
        mac = hmac.new(self.secret, f"idt|{body}".encode(), hashlib.sha256).hexdigest()
        return f"{body}.{mac}"

    def identity_of(
        self, show_id: str, *, identity_token: str | None, frontend_header: str | None,
        now: float | None = None,
    ) -> str:
        """The verified identity a join presents ('' for none); a bad proof is refused."""
        if not frontend_header and not identity_token:
            return ""
        show_id = canonical_show_id(show_id)
        if frontend_header:
            return self._from_frontend(frontend_header)
        if not identity_token:
            return ""
        show, _, rest = identity_token.partition(".")
        identity, _, rest = rest.partition(".")
        expires, _, mac = rest.partition(".")
        body = f"{show}.{identity}.{expires}"
        good = hmac.new(self.secret, f"idt|{body}".encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(mac, good) or show != show_id:
            raise IdentityInvalidError("This identity token is not valid for this show")
        if not expires.isdigit() or int(expires) < (now or time.time()):
            raise IdentityInvalidError("This identity token has expired; verify again")
        return identity

    def _from_frontend(self, header: str) -> str:
        if not self.frontend_secret:
            raise IdentityInvalidError("Signed identities are not configured here")
        try:
            claims = jwt.decode(
                header, self.frontend_secret, algorithms=["HS256"], audience=FRONTEND_AUDIENCE,
                options={"require": ["sub", "exp", "aud"]},
            )
        except jwt.PyJWTError as exc:
            raise IdentityInvalidError("The signed identity header is not valid") from exc
        return account_identity(str(claims["sub"]))
