"""Signed tokens: access tokens (queue → booking core), booking tokens, ticket payloads, and
queue tokens.

Access, booking, ticket and revocation tokens are JWTs signed with Ed25519 (``alg: EdDSA``) and
a ``kid`` header, so anyone with the JWKS verifies them offline. Their verification accepts
EdDSA only, so ``alg: none`` and HMAC-signed-with-the-public-key tokens are refused before any
key is used.

Queue tokens are only ever verified by admitone itself, so they are JWTs with an HMAC-SHA256
signature (``alg: HS256``) under a secret derived from the signing key named by ``kid``
(``SigningKey.queue_secret``): microseconds to sign on every join instead of an Ed25519
signature. Their header must be byte for byte the one admitone writes for that ``kid``, so no
other algorithm and no other key can be slipped in. Queue tokens signed with Ed25519 before
this change are still accepted until they expire (``ADMITONE_QUEUE_TOKEN_SECONDS``, a day by
default), with the same checks, so fans waiting during an upgrade keep their places.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import secrets
import time
from collections import OrderedDict
from typing import Any

import jwt
import msgspec
import structlog

from admitone.admission.signing_keys import KeyRing
from admitone.errors import TokenExpiredError, TokenInvalidError, TokenWrongShowError

ALGORITHM = "EdDSA"
QUEUE_ALGORITHM = "HS256"
BOOKING_AUDIENCE = "admitone-booking-lookup"
QUEUE_AUDIENCE = "admitone-queue"
TICKET_AUDIENCE = "admitone-venue"
# A show's signed list of revoked tickets: its own audience, so it can never pass as a ticket.
REVOCATION_AUDIENCE = "admitone-venue-revocations"
TICKET_TYPE = "admitone-ticket+jwt"
REVOCATION_TYPE = "admitone-revocations+jwt"
_LEEWAY_SECONDS = 5


class AccessTokenClaims(msgspec.Struct, frozen=True, rename="camel"):
    """What an admitted visitor's access token says."""

    sub: str
    show_id: str
    jti: str
    exp: int
    iat: int


class BookingTokenClaims(msgspec.Struct, frozen=True, rename="camel"):
    """A short-lived token for one booking, handed out by booking lookup."""

    sub: str
    booking_id: str
    exp: int
    # The booking's show: the revocation check reads it. "" in a token signed before booking
    # tokens named their show (they last minutes): the guard refuses those on writes.
    show_id: str = ""


class QueueTokenClaims(msgspec.Struct, frozen=True, rename="camel"):
    """A queue token: the visitor's place in one show's queue, bound to one client.

    ``tkt`` is the ticket number (0 while a random pre-queue is not numbered yet), ``ep`` the
    epoch of the room state it was issued in, ``cnf`` the hash of the client it was issued to.
    """

    sub: str
    show_id: str
    tkt: int
    ep: str
    cnf: str
    exp: int


class _QueueTokenHeader(msgspec.Struct):
    alg: str
    kid: str = ""


class _QueueTokenBody(msgspec.Struct, frozen=True, rename="camel", forbid_unknown_fields=True):
    """Every claim of an HS256 queue token, all required, of exactly these types."""

    iss: str
    aud: str
    sub: str
    show_id: str
    tkt: int
    ep: str
    cnf: str
    iat: int
    nbf: int
    exp: int


_HEADER_DECODER = msgspec.json.Decoder(_QueueTokenHeader)
_BODY_DECODER = msgspec.json.Decoder(_QueueTokenBody)
_BODY_ENCODER = msgspec.json.Encoder()
_QUEUE_CLAIMS = ["iss", "aud", "sub", "showId", "tkt", "ep", "cnf", "iat", "nbf", "exp"]


def _b64(raw: bytes) -> bytes:
    return base64.urlsafe_b64encode(raw).rstrip(b"=")


def _unb64(text: bytes) -> bytes:
    """Strict base64url without padding: anything else is not one of our tokens."""
    try:
        return base64.b64decode(text + b"=" * (-len(text) % 4), altchars=b"-_", validate=True)
    except (binascii.Error, ValueError) as exc:
        raise TokenInvalidError("The token is not a well-formed JWT") from exc


def _queue_header(kid: str) -> bytes:
    """The exact base64url header of an HS256 queue token under ``kid``."""
    return _b64(_BODY_ENCODER.encode({"alg": QUEUE_ALGORITHM, "kid": kid, "typ": "JWT"}))


class TokenService:
    """Issues and verifies every token admitone signs."""

    def __init__(self, keys: KeyRing, issuer: str, audience: str, cache_size: int = 65536) -> None:
        self.keys = keys
        self.issuer = issuer
        self.audience = audience
        self._cache: OrderedDict[str, AccessTokenClaims] = OrderedDict()
        self._queue_cache: OrderedDict[str, QueueTokenClaims] = OrderedDict()
        self._queue_headers: dict[str, bytes] = {}  # kid -> its HS256 header, base64url
        self._cache_size = cache_size

    # Signing -----------------------------------------------------------------

    def _sign(self, claims: dict[str, Any], typ: str | None = None) -> str:
        key = self.keys.current
        headers = {"kid": key.kid} if typ is None else {"kid": key.kid, "typ": typ}
        return jwt.encode(claims, key.private_key, algorithm=ALGORITHM, headers=headers)

    def issue_access_token(
        self, *, show_id: str, visitor_id: str, expires_at: int, jti: str | None = None
    ) -> str:
        """An access token for ``visitor_id`` on ``show_id`` valid until ``expires_at`` (unix s)."""
        now = int(time.time())
        return self._sign(
            {
                "iss": self.issuer,
                "aud": self.audience,
                "sub": visitor_id,
                "showId": show_id,
                "jti": jti or secrets.token_urlsafe(16),
                "iat": now,
                "nbf": now,
                "exp": expires_at,
            }
        )

    def issue_booking_token(
        self, *, booking_id: str, visitor_id: str, ttl_seconds: int, show_id: str = ""
    ) -> str:
        now = int(time.time())
        return self._sign(
            {
                "iss": self.issuer,
                "aud": BOOKING_AUDIENCE,
                "sub": visitor_id,
                "bookingId": booking_id,
                "iat": now,
                "nbf": now,
                "exp": now + ttl_seconds,
                **({"showId": show_id} if show_id else {}),
            }
        )

    def sign_ticket(self, payload: dict[str, Any]) -> str:
        """A compact JWS a venue scanner verifies offline with the JWKS."""
        return self._sign({"iss": self.issuer, "aud": TICKET_AUDIENCE, **payload}, TICKET_TYPE)

    def sign_revocation_list(self, payload: dict[str, Any]) -> str:
        """A show's revoked tickets as a compact JWS, verified with the same JWKS. Ed25519
        signatures are deterministic, so one payload under one key is always the same text."""
        return self._sign({"iss": self.issuer, "aud": REVOCATION_AUDIENCE, **payload},
                          REVOCATION_TYPE)

    def verify_ticket(self, token: str) -> dict[str, Any]:
        """A ticket's claims once its signature, issuer and audience hold. Its expiry is not
        checked here: the caller tells an expired ticket from a forged one."""
        return self._decode(token, TICKET_AUDIENCE, ["iss", "aud", "bookingId", "showId", "seats"],
                            verify_exp=False)

    # Verifying ---------------------------------------------------------------

    def _decode(
        self, token: str, audience: str, required: list[str], *, verify_exp: bool = True
    ) -> dict[str, Any]:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise TokenInvalidError("The token is not a well-formed JWT") from exc
        if header.get("alg") != ALGORITHM:
            raise TokenInvalidError("The token is not signed with an accepted algorithm")
        public_key = self.keys.public_key(str(header.get("kid", "")))
        if public_key is None:
            raise TokenInvalidError("The token's signing key is unknown")
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                public_key,
                algorithms=[ALGORITHM],
                audience=audience,
                issuer=self.issuer,
                leeway=_LEEWAY_SECONDS,
                options={"require": required, "verify_exp": verify_exp},
            )
        except jwt.ExpiredSignatureError as exc:
            raise TokenExpiredError("The token has expired") from exc
        except jwt.ImmatureSignatureError as exc:
            raise TokenInvalidError("The token is not valid yet") from exc
        except jwt.InvalidAudienceError as exc:
            raise TokenInvalidError("The token is for another audience") from exc
        except jwt.PyJWTError as exc:
            raise TokenInvalidError(f"The token is invalid: {exc}") from exc
        return claims

    def verify_access_token(self, token: str, show_id: str | None = None) -> AccessTokenClaims:
        """Verify signature and claims; with ``show_id``, also that the token is for that show.

        Verified tokens are remembered (bounded LRU) so a fan's repeated calls cost one dict
        lookup and an expiry check, not a signature check each.
        """
        claims = self._cache.get(token)
        if claims is None or claims.exp < time.time() - _LEEWAY_SECONDS:
            raw = self._decode(
                token, self.audience, ["iss", "aud", "sub", "showId", "jti", "iat", "nbf", "exp"]
            )
            try:
                claims = msgspec.convert(raw, AccessTokenClaims, from_attributes=False)
            except msgspec.ValidationError as exc:
                raise TokenInvalidError(f"The token's claims are malformed: {exc}") from exc
            self._cache[token] = claims
            if len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        if show_id is not None and claims.show_id != show_id:
            raise TokenWrongShowError(
                "This access token is for another show", tokenShowId=claims.show_id
            )
        # Every log line of the request from here on names the visitor and its show.
        structlog.contextvars.bind_contextvars(visitor_id=claims.sub, show_id=claims.show_id)
        return claims

    def verify_booking_token(self, token: str) -> BookingTokenClaims:
        raw = self._decode(token, BOOKING_AUDIENCE, ["iss", "aud", "sub", "bookingId", "exp"])
        try:
            return msgspec.convert(raw, BookingTokenClaims)
        except msgspec.ValidationError as exc:
            raise TokenInvalidError(f"The token's claims are malformed: {exc}") from exc

    # Queue tokens ------------------------------------------------------------------------------

    def _header_of(self, kid: str) -> bytes:
        header = self._queue_headers.get(kid)
        if header is None:
            header = self._queue_headers[kid] = _queue_header(kid)
        return header

    def issue_queue_token(
        self, *, show_id: str, visitor_id: str, ticket: int, epoch: str, binding: str,
        ttl_seconds: int,
    ) -> str:
        """A queue token naming visitor, show and ticket, bound to the client ``binding``: an
        HS256 JWT under the current signing key's queue secret."""
        now = int(time.time())
        key = self.keys.current
        body = _BODY_ENCODER.encode({
            "iss": self.issuer, "aud": QUEUE_AUDIENCE, "sub": visitor_id, "showId": show_id,
            "tkt": ticket, "ep": epoch, "cnf": binding, "iat": now, "nbf": now,
            "exp": now + ttl_seconds,
        })
        signing_input = self._header_of(key.kid) + b"." + _b64(body)
        signature = _b64(hmac.digest(key.queue_secret, signing_input, "sha256"))
        return (signing_input + b"." + signature).decode()

    def _decode_queue_token(self, token: str) -> QueueTokenClaims:
        """The claims of an HS256 queue token (or an Ed25519 one of before), all checked."""
        try:
            raw = token.encode("ascii")
        except UnicodeEncodeError as exc:
            raise TokenInvalidError("The token is not a well-formed JWT") from exc
        parts = raw.split(b".")
        if len(parts) != 3:  # noqa: PLR2004 - header, claims, signature
            raise TokenInvalidError("The token is not a well-formed JWT")
        head, body, signature = parts
        try:
            header = _HEADER_DECODER.decode(_unb64(head))
        except msgspec.DecodeError as exc:
            raise TokenInvalidError("The token is not a well-formed JWT") from exc
        if header.alg == ALGORITHM:  # issued before queue tokens were HMACs
            return self._decode_legacy_queue_token(token)
        key = self.keys.get(header.kid)
        if header.alg != QUEUE_ALGORITHM or key is None or head != self._header_of(key.kid):
            raise TokenInvalidError("The token is not signed with an accepted algorithm or key")
        expected = _b64(hmac.digest(key.queue_secret, head + b"." + body, "sha256"))
        if not hmac.compare_digest(expected, signature):
            raise TokenInvalidError("The token is invalid: its signature does not match")
        try:
            claims = _BODY_DECODER.decode(_unb64(body))
        except msgspec.DecodeError as exc:
            raise TokenInvalidError(f"The token's claims are malformed: {exc}") from exc
        if claims.iss != self.issuer or claims.aud != QUEUE_AUDIENCE:
            raise TokenInvalidError("The token is for another issuer or audience")
        now = time.time()
        if claims.nbf > now + _LEEWAY_SECONDS:
            raise TokenInvalidError("The token is not valid yet")
        if claims.exp < now - _LEEWAY_SECONDS:
            raise TokenExpiredError("The token has expired")
        return QueueTokenClaims(sub=claims.sub, show_id=claims.show_id, tkt=claims.tkt,
                                ep=claims.ep, cnf=claims.cnf, exp=claims.exp)

    def _decode_legacy_queue_token(self, token: str) -> QueueTokenClaims:
        raw = self._decode(token, QUEUE_AUDIENCE, _QUEUE_CLAIMS)
        try:
            return msgspec.convert(raw, QueueTokenClaims)
        except msgspec.ValidationError as exc:
            raise TokenInvalidError(f"The token's claims are malformed: {exc}") from exc

    def verify_queue_token(self, token: str, show_id: str, binding: str) -> QueueTokenClaims:
        """Verify a queue token for ``show_id`` presented by the client ``binding``.

        Another show's token, or one presented by another client than it was issued to, is
        refused as invalid (401), like a forged one: a place cannot be read or taken by anyone
        else. Verified tokens are remembered (bounded LRU), as access tokens are.
        """
        claims = self._queue_cache.get(token)
        if claims is None or claims.exp < time.time() - _LEEWAY_SECONDS:
            claims = self._decode_queue_token(token)
            self._queue_cache[token] = claims
            if len(self._queue_cache) > self._cache_size:
                self._queue_cache.popitem(last=False)
        if claims.show_id != show_id:
            raise TokenInvalidError("This queue token is for another show")
        if not hmac.compare_digest(claims.cnf, binding):
            raise TokenInvalidError("This queue token was issued to another client")
        return claims

    def is_booking_token(self, token: str) -> bool:
        """Whether a bearer token claims the booking-lookup audience (unverified peek)."""
        try:
            aud = jwt.decode(token, options={"verify_signature": False}).get("aud")
        except jwt.PyJWTError:
            return False
        return bool(aud == BOOKING_AUDIENCE)
