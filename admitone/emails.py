"""What admitone accepts as an e-mail address, defined once: checkout, booking lookup, the
waiting room's one-place-per-person codes, and the pages' scripts (the templates render the
pattern onto the inputs) all use it."""

from __future__ import annotations

from typing import Annotated

from msgspec import Meta

EMAIL_PATTERN = r"^[^@\s]{1,64}@[^@\s]{1,255}\.[^@\s]{1,63}$"
EMAIL_MAX_CHARS = 320
Email = Annotated[str, Meta(pattern=EMAIL_PATTERN, max_length=EMAIL_MAX_CHARS)]
