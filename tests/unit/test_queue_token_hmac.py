"""Queue tokens as HMACs: the secret follows the signing keys on disk, through rotation."""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path

import jwt
import pytest

from admitone.admission.signing_keys import KEEP, KeyRing, rotate_keys
from admitone.admission.tokens import QUEUE_AUDIENCE, TokenService
from admitone.errors import TokenInvalidError


def _issue(tokens: TokenService) -> str:
    return tokens.issue_queue_token(show_id="s1", visitor_id="v1", ticket=7, epoch="e1",
                                    binding="b1", ttl_seconds=600)


def test_every_process_reading_the_keys_folder_shares_the_secret(tmp_path: Path) -> None:
    """Two workers (two loads of one folder) verify each other's queue tokens; a folder with
    other keys (another deployment) refuses them."""
    first = TokenService(KeyRing.load(tmp_path / "keys"), "admitone", "aud")
    second = TokenService(KeyRing.load(tmp_path / "keys"), "admitone", "aud")
    token = _issue(first)
    assert second.verify_queue_token(token, "s1", "b1").tkt == 7
    foreign = TokenService(KeyRing.load(tmp_path / "other"), "admitone", "aud")
    with pytest.raises(TokenInvalidError):
        foreign.verify_queue_token(token, "s1", "b1")


def test_rotation_rotates_the_queue_secret(tmp_path: Path) -> None:
    """After ``keys rotate`` new tokens use the new key's secret and the old ones still hold;
    once their key has left the folder they are refused."""
    folder = tmp_path / "keys"
    old = TokenService(KeyRing.load(folder), "admitone", "aud")
    before = _issue(old)
    rotate_keys(folder)
    rotated = TokenService(KeyRing.load(folder), "admitone", "aud")
    after = _issue(rotated)
    assert jwt.get_unverified_header(after)["kid"] != jwt.get_unverified_header(before)["kid"]
    assert rotated.keys.current.queue_secret != old.keys.current.queue_secret
    assert rotated.verify_queue_token(before, "s1", "b1").sub == "v1"
    assert rotated.verify_queue_token(after, "s1", "b1").sub == "v1"
    for _ in range(KEEP):
        rotate_keys(folder)
    later = TokenService(KeyRing.load(folder), "admitone", "aud")
    for token in (before, after):
        with pytest.raises(TokenInvalidError):
            later.verify_queue_token(token, "s1", "b1")


def test_a_queue_token_is_a_standard_hs256_jwt_with_every_claim(tmp_path: Path) -> None:
    tokens = TokenService(KeyRing.load(tmp_path / "keys"), "admitone", "aud")
    claims = jwt.decode(_issue(tokens), tokens.keys.current.queue_secret, algorithms=["HS256"],
                        audience=QUEUE_AUDIENCE, issuer="admitone")
    assert set(claims) == {"iss", "aud", "sub", "showId", "tkt", "ep", "cnf", "iat", "nbf", "exp"}
    assert (claims["tkt"], claims["ep"], claims["cnf"]) == (7, "e1", "b1")


@pytest.mark.parametrize("change", [
    {"tkt": "7"}, {"extra": 1}, {"iss": "someone"}, {"nbf": 4_000_000_000},
])
def test_a_well_signed_token_with_wrong_claims_is_refused(
    tmp_path: Path, change: dict[str, object]
) -> None:
    """Even signed with the right secret (which an attacker has not): wrong types, unknown
    claims, another issuer, not valid yet."""
    tokens = TokenService(KeyRing.load(tmp_path / "keys"), "admitone", "aud")
    claims = jwt.decode(_issue(tokens), options={"verify_signature": False})
    key = tokens.keys.current
    signed = tokens.issue_queue_token(show_id="s1", visitor_id="v1", ticket=7, epoch="e1",
                                      binding="b1", ttl_seconds=600)
    head = signed.split(".")[0]
    body = jwt.utils.base64url_encode(
        json.dumps({**claims, **change}, separators=(",", ":")).encode()).decode()
    sig = jwt.utils.base64url_encode(
        hmac.digest(key.queue_secret, f"{head}.{body}".encode(), hashlib.sha256)).decode()
    with pytest.raises(TokenInvalidError):
        tokens.verify_queue_token(f"{head}.{body}.{sig}", "s1", "b1")
