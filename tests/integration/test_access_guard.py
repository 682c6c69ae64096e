"""Booking-core routes answer only to a valid access token for that show (CONTRACT.md)."""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Callable

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from admitone.runtime import Services
from tests.conftest import MakeShow, bearer, seat_states


def _claims(show_id: str, **changes: object) -> dict[str, object]:
    now = int(time.time())
    claims: dict[str, object] = {
        "iss": "admitone",
        "aud": "admitone-booking",
        "sub": f"v-{uuid.uuid4().hex}",
        "showId": show_id,
        "jti": uuid.uuid4().hex,
        "iat": now,
        "nbf": now,
        "exp": now + 600,
    }
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _signed(services: Services, claims: dict[str, object]) -> str:
    key = services.tokens.keys.current
    return jwt.encode(claims, key.private_key, algorithm="EdDSA", headers={"kid": key.kid})


@pytest.fixture
def forged_tokens(services: Services) -> Callable[[str], dict[str, str]]:
    """Tokens an attacker might try, by name."""

    def make(show_id: str) -> dict[str, str]:
        key = services.tokens.keys.current
        claims = _claims(show_id)
        public_pem = key.public_key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        none_token = ".".join(
            [
                _b64(json.dumps({"alg": "none", "typ": "JWT", "kid": key.kid}).encode()),
                _b64(json.dumps(claims).encode()),
                "",
            ]
        )
        hs_header = _b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": key.kid}).encode())
        hs_payload = _b64(json.dumps(claims).encode())
        import hashlib
        import hmac

        hs_sig = _b64(
            hmac.new(public_pem, f"{hs_header}.{hs_payload}".encode(), hashlib.sha256).digest()
        )
        other_key = Ed25519PrivateKey.generate()
        return {
            "alg none": none_token,
            "HS256 with the public key": f"{hs_header}.{hs_payload}.{hs_sig}",
            "signed by another key": jwt.encode(
                claims, other_key, algorithm="EdDSA", headers={"kid": key.kid}
            ),
            "expired": _signed(
                services,
                _claims(
                    show_id,
                    iat=int(time.time()) - 900,
                    nbf=int(time.time()) - 900,
                    exp=int(time.time()) - 60,
                ),
            ),
            "not yet valid": _signed(services, _claims(show_id, nbf=int(time.time()) + 600)),
            "other audience": _signed(services, _claims(show_id, aud="someone-else")),
            "other issuer": _signed(services, _claims(show_id, iss="evil")),
            "no showId": _signed(services, _claims(show_id, showId=None)),
            "garbage": "not.a.token",
            "tampered": _signed(services, claims)[:-4] + "AAAA",
        }

    return make


async def test_forged_tokens_are_refused_and_do_nothing(
    client: httpx.AsyncClient,
    make_show: MakeShow,
    services: Services,
    forged_tokens: Callable[[str], dict[str, str]],
) -> None:
    """alg none, HMAC with the public key, foreign keys, expired, early, wrong aud/iss: all 401."""
    show = await make_show(rows=1, seats_per_row=4)
    for name, token in forged_tokens(show.id).items():
        response = await client.post(
            "/api/v1/bookings/lock",
            json={"showId": show.id, "seatIds": ["A1"]},
            headers=bearer(token),
        )
        assert response.status_code == 401, name
        # Only a genuine token whose time is up is TOKEN_EXPIRED (the fan may get a new one).
        expected = "TOKEN_EXPIRED" if name == "expired" else "TOKEN_INVALID"
        assert response.json()["error"] == expected, name
        seats = await client.get(f"/api/v1/shows/{show.id}/seats", headers=bearer(token))
        assert seats.status_code == 401, name
    assert set((await seat_states(services, show.id)).values()) == {"AVAILABLE"}


async def test_no_token_no_work(client: httpx.AsyncClient, make_show: MakeShow) -> None:
    """A fan who never queued reaches none of the booking routes."""
    show = await make_show(rows=1, seats_per_row=4)
    calls = [
        client.get(f"/api/v1/shows/{show.id}/seats"),
        client.post("/api/v1/bookings/lock", json={"showId": show.id, "seatIds": ["A1"]}),
        client.put(f"/api/v1/bookings/lock/{uuid.uuid4()}/extend"),
        client.delete(f"/api/v1/bookings/lock/{uuid.uuid4()}"),
        client.post(
            "/api/v1/bookings",
            json={"lockId": str(uuid.uuid4()), "paymentMethod": "UPI", "email": "a@b.in"},
            headers={"Idempotency-Key": "k"},
        ),
    ]
    for call in calls:
        response = await call
        assert response.status_code == 401
        assert response.json()["error"] == "TOKEN_INVALID"


async def test_token_for_another_show_is_forbidden(
    client: httpx.AsyncClient,
    make_show: MakeShow,
    access_token: Callable[..., str],
    services: Services,
) -> None:
    """A valid token of show X cannot read or lock show Y: 403 TOKEN_WRONG_SHOW."""
    mine = await make_show(rows=1, seats_per_row=4)
    other = await make_show(rows=1, seats_per_row=4)
    token = access_token(mine.id)
    seats = await client.get(f"/api/v1/shows/{other.id}/seats", headers=bearer(token))
    assert seats.status_code == 403
    assert seats.json()["error"] == "TOKEN_WRONG_SHOW"
    locked = await client.post(
        "/api/v1/bookings/lock", json={"showId": other.id, "seatIds": ["A1"]}, headers=bearer(token)
    )
    assert locked.status_code == 403
    assert set((await seat_states(services, other.id)).values()) == {"AVAILABLE"}


async def test_token_from_previous_key_still_verifies(
    client: httpx.AsyncClient,
    make_show: MakeShow,
    services: Services,
) -> None:
    """After a key rotation, tokens signed by the previous key verify until they expire."""
    from admitone.admission.signing_keys import KeyRing, rotate_keys
    from admitone.admission.tokens import TokenService

    show = await make_show(rows=1, seats_per_row=4)
    folder = services.settings.data_dir / "keys-rotation-test"
    old = TokenService(KeyRing.load(folder), "admitone", "admitone-booking")
    token = old.issue_access_token(
        show_id=show.id, visitor_id="v-rot", expires_at=int(time.time()) + 60
    )
    rotate_keys(folder)
    new = TokenService(KeyRing.load(folder), "admitone", "admitone-booking")
    assert new.keys.current.kid != old.keys.current.kid
    assert new.verify_access_token(token, show.id).sub == "v-rot"
    assert {k["kid"] for k in new.keys.jwks()["keys"]} == {k.kid for k in new.keys.keys}
    assert len(new.keys.jwks()["keys"]) == 2


async def test_jwks_publishes_the_signing_key(
    client: httpx.AsyncClient, services: Services
) -> None:
    """The JWKS names the current kid, and its key verifies a fresh access token offline."""
    body = (await client.get("/.well-known/jwks.json")).json()
    jwk = next(k for k in body["keys"] if k["kid"] == services.tokens.keys.current.kid)
    assert jwk["kty"] == "OKP"
    assert jwk["crv"] == "Ed25519"
    token = services.tokens.issue_access_token(
        show_id="s", visitor_id="v", expires_at=int(time.time()) + 60
    )
    public = jwt.PyJWK(jwk).key
    claims = jwt.decode(token, public, algorithms=["EdDSA"], audience="admitone-booking")
    assert claims["sub"] == "v"
