"""Signing keys: Ed25519 key pairs kept under ``ADMITONE_DATA_DIR/keys``, published as JWKS.

The newest key signs; every key still in the folder verifies, so tokens signed before a
rotation stay valid until they expire (``admitone keys rotate`` adds a key, and keeps the
newest ``KEEP`` keys).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from admitone.secrets_store import create_exclusive

KEEP = 2  # the current key and the previous one
# Queue tokens are HMACs under a secret derived from each signing key (see ``queue_secret``).
_QUEUE_SECRET_LABEL = b"admitone queue-token HMAC-SHA256 v1"


@dataclass(frozen=True)
class SigningKey:
    kid: str
    private_key: Ed25519PrivateKey

    @property
    def public_key(self) -> Ed25519PublicKey:
        return self.private_key.public_key()

    @functools.cached_property
    def queue_secret(self) -> bytes:
        """The HMAC-SHA256 key of queue tokens signed under this key's ``kid``.

        Derived one way from the private key (HMAC of a fixed label under the raw key bytes),
        so every worker and machine sharing the keys folder shares it, rotation rotates it,
        and it reveals nothing of the Ed25519 key. Never published (not in the JWKS)."""
        raw = self.private_key.private_bytes(
            serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        )
        return hmac.digest(raw, _QUEUE_SECRET_LABEL, "sha256")

    def jwk(self) -> dict[str, str]:
        """The public half as an RFC 8037 OKP JSON Web Key."""
        raw = self.public_key.public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        return {
            "kty": "OKP",
            "crv": "Ed25519",
            "x": _b64(raw),
            "kid": self.kid,
            "use": "sig",
            "alg": "EdDSA",
        }


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _thumbprint(private_key: Ed25519PrivateKey) -> str:
    """RFC 7638 thumbprint of the public key: a stable, content-derived ``kid``."""
    raw = private_key.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    canonical = json.dumps({"crv": "Ed25519", "kty": "OKP", "x": _b64(raw)}, separators=(",", ":"))
    return _b64(hashlib.sha256(canonical.encode()).digest())[:16]


class KeyRing:
    """The signing keys in a folder, newest first."""

    def __init__(self, keys: list[SigningKey]) -> None:
        if not keys:
            raise ValueError("a key ring needs at least one key")
        self.keys = keys
        self._by_kid = {key.kid: key for key in keys}

    @property
    def current(self) -> SigningKey:
        return self.keys[0]

    def public_key(self, kid: str) -> Ed25519PublicKey | None:
        key = self._by_kid.get(kid)
        return key.public_key if key else None

    def get(self, kid: str) -> SigningKey | None:
        return self._by_kid.get(kid)

    def jwks(self) -> dict[str, Any]:
        return {"keys": [key.jwk() for key in self.keys]}

    @classmethod
    def load(cls, folder: Path) -> KeyRing:
        """Read the folder's keys; create the first one if there are none."""
        if not _key_files(folder):
            # Processes starting at once on a fresh folder all try key number 1; one makes it
            # and the others read that one.
            _add_key(folder, 1)
        keys = []
        for path in _key_files(folder):
            private_key = serialization.load_pem_private_key(path.read_bytes(), password=None)
            if not isinstance(private_key, Ed25519PrivateKey):
                raise TypeError(f"{path} is not an Ed25519 private key")
            keys.append(SigningKey(_thumbprint(private_key), private_key))
        return cls(keys)


def _key_files(folder: Path) -> list[Path]:
    """Key files, newest first (names are zero-padded sequence numbers)."""
    if not folder.is_dir():
        return []
    return sorted(folder.glob("signing-*.pem"), reverse=True)


def rotate_keys(folder: Path) -> str:
    """Add a new signing key to the folder, drop all but the newest ``KEEP``; return its kid."""
    existing = _key_files(folder)
    number = int(existing[0].stem.removeprefix("signing-")) + 1 if existing else 1
    kid = _add_key(folder, number)
    if kid is None:
        raise FileExistsError(f"signing key {number} was made by another process meanwhile")
    for old in _key_files(folder)[KEEP:]:
        old.unlink(missing_ok=True)
    return kid


def _add_key(folder: Path, number: int) -> str | None:
    """Write key ``number`` whole (never seen half written); its kid, or None if it exists."""
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    private_key = Ed25519PrivateKey.generate()
    pem = private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    if not create_exclusive(folder / f"signing-{number:06d}.pem", pem):
        return None
    return _thumbprint(private_key)
