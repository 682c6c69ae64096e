"""Secrets that admitone generates on first start and keeps under ``ADMITONE_DATA_DIR``."""

from __future__ import annotations

import os
import secrets
from pathlib import Path


def load_or_create_secret(data_dir: Path, name: str) -> str:
    """The secret in ``data_dir/secrets/<name>``, created (0600) the first time it is asked for."""
    folder = data_dir / "secrets"
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = folder / name
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text(encoding="utf-8").strip()
    value = secrets.token_urlsafe(32)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(value)
    return value
