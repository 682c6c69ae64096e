"""Operator console sessions and form tokens: signed values, no server state (pure, no I/O).

A session cookie is ``<payload>.<signature>``: the payload (base64url JSON) names a random
session id, when it was issued and expires, and the operator's time zone; the signature is an
HMAC-SHA256 under a key derived from a hash of the *current* operator token. Rotating the token
(``ADMITONE_OPERATOR_TOKEN``) therefore ends every session at once.

Form tokens (CSRF) are ``<nonce>.<mac>`` with the MAC over the session id and the nonce: a
token is only good in the session it was made for. The console spends each one when the change
it guards is applied (``BackOffice.spend_form_token``), so a replayed form changes nothing.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time

import msgspec

SESSION_COOKIE = "admitone_operator"
SESSION_SECONDS = 8 * 3600  # one working shift
_KEY_CONTEXT = b"admitone operator console v1"


class OperatorSession(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    sid: str  # random, names the session in the audit log
    iat: int  # unix seconds
    exp: int
    tz: str  # the operator's time zone (IANA name)

    @property
    def label(self) -> str:
        """How the audit log names this session."""
        return f"console:{self.sid[:8]}"


_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.Decoder(OperatorSession).decode


def _key(operator_token: str) -> bytes:
    return hmac.new(_KEY_CONTEXT, hashlib.sha256(operator_token.encode()).digest(),
                    hashlib.sha256).digest()


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(key: bytes, message: str) -> str:
    return _b64(hmac.new(key, message.encode(), hashlib.sha256).digest())


def new_session(timezone: str, now: float | None = None,
                lifetime_seconds: int = SESSION_SECONDS) -> OperatorSession:
    issued = int(time.time() if now is None else now)
    return OperatorSession(sid=secrets.token_urlsafe(16), iat=issued,
                           exp=issued + lifetime_seconds, tz=timezone)


def sign_session(operator_token: str, session: OperatorSession) -> str:
    """The cookie value of ``session``."""
    payload = _b64(_encode(session))
    return f"{payload}.{_mac(_key(operator_token), 's.' + payload)}"


def read_session(operator_token: str, value: str | None,
                 now: float | None = None) -> OperatorSession | None:
    """The session of a cookie value, or None if it is missing, forged, signed under another
    operator token, malformed or expired."""
    if not value or value.count(".") != 1 or len(value) > 1024:  # noqa: PLR2004 - a sane cap
        return None
    payload, signature = value.split(".")
    expected = _mac(_key(operator_token), "s." + payload)
    if not hmac.compare_digest(signature.encode(), expected.encode()):
        return None
    try:
        session = _decode(_unb64(payload))
    except (msgspec.DecodeError, msgspec.ValidationError, ValueError):
        return None
    moment = time.time() if now is None else now
    return session if session.iat <= moment + 60 and moment < session.exp else None


def form_token(operator_token: str, session: OperatorSession) -> str:
    """A fresh form token for one form of this session."""
    nonce = secrets.token_urlsafe(16)
    return f"{nonce}.{_mac(_key(operator_token), f'f.{session.sid}.{nonce}')}"


def form_token_valid(operator_token: str, session: OperatorSession, token: str | None) -> bool:
    """Whether ``token`` was made by :func:`form_token` for this session (not yet whether it
    was spent)."""
    if not token or token.count(".") != 1 or len(token) > 256:  # noqa: PLR2004 - a sane cap
        return False
    nonce, mac = token.split(".")
    expected = _mac(_key(operator_token), f"f.{session.sid}.{nonce}")
    return hmac.compare_digest(mac.encode(), expected.encode())
