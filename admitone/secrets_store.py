"""Secrets that admitone generates on first start and keeps under ``ADMITONE_DATA_DIR``.

Several processes may start at once on one fresh folder (``up``'s workers and jobs, two jobs
pods on one volume), so a file is never seen half written: it is written whole under a private
name and then linked into place, which fails if another process got there first."""

from __future__ import annotations

import os
import secrets
from pathlib import Path


def create_exclusive(path: Path, data: bytes) -> bool:
    """Create ``path`` (0600) holding ``data``, all at once; False if it already exists."""
    scratch = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(scratch, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.link(scratch, path)  # atomic, and refuses an existing name
    except FileExistsError:
        return False
    finally:
        scratch.unlink(missing_ok=True)
    return True


def load_or_create_secret(data_dir: Path, name: str) -> str:
    """The secret in ``data_dir/secrets/<name>``, created (0600) the first time it is asked for."""
    folder = data_dir / "secrets"
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = folder / name
    if not path.exists():  # made once; every later start only reads it
        value = secrets.token_urlsafe(32)
        if create_exclusive(path, value.encode()):
            return value
    return path.read_text(encoding="utf-8").strip()
