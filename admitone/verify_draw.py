"""``admitone verify-draw``: check a room's published pre-queue draw from outside.

Fetches ``GET /api/v1/queue/{showId}/draw`` and checks that the revealed seed hashes to the
commitment (the one published before the draw, or better the one you wrote down yourself
then, given as ``--commitment``) and that every entry stands where that seed puts it. With
``--entry`` it also says where your own entry stands. It needs nothing of admitone's but the
public route, so anyone can run it; the maths is in ``admission/draw.py``.
"""

from __future__ import annotations

import sys
from typing import Any, TextIO

import httpx

from admitone.admission.draw import verify_draw

EXIT_OK, EXIT_FAILED, EXIT_NOT_DRAWN = 0, 1, 3


def run(
    base_url: str, show_id: str, *, commitment: str | None = None, entry: str | None = None,
    client: httpx.Client | None = None, out: TextIO = sys.stdout,
) -> int:
    """Check one show's draw; print what was checked. Exit code: 0 ok, 1 failed, 3 not drawn."""
    published = _fetch(base_url, show_id, client, out)
    if published is None:
        return EXIT_FAILED
    print(f"show        {published['showId']}", file=out)
    print(f"commitment  {published['commitment']} (published {published['committedAt']})",
          file=out)
    if commitment is not None and commitment.lower() != published["commitment"].lower():
        print("FAILED: the published commitment is not the one you noted before the draw",
              file=out)
        return EXIT_FAILED
    if published["status"] != "DRAWN":
        print("not drawn yet: note the commitment now and check again after startsAt", file=out)
        return EXIT_NOT_DRAWN
    return _check(published, entry, out)


def _fetch(
    base_url: str, show_id: str, client: httpx.Client | None, out: TextIO
) -> dict[str, Any] | None:
    http = client or httpx.Client(base_url=base_url.rstrip("/"), timeout=30)
    try:
        answer = http.get(f"/api/v1/queue/{show_id}/draw")
    except httpx.HTTPError as exc:
        print(f"could not fetch the draw: {exc}", file=out)
        return None
    finally:
        if client is None:
            http.close()
    if answer.status_code != 200:  # noqa: PLR2004 - any other answer is a failed fetch
        print(f"could not fetch the draw: HTTP {answer.status_code}", file=out)
        return None
    published: dict[str, Any] = answer.json()
    return published


def _check(published: dict[str, Any], entry: str | None, out: TextIO) -> int:
    entries: list[str] = published["entries"]
    print(f"seed        {published['seed']} (drawn {published['drawnAt']})", file=out)
    print(f"entries     {len(entries)}, tickets {published['firstTicket']} onwards", file=out)
    check = verify_draw(published["commitment"], published["seed"], entries)
    for problem in check.problems:
        print(f"FAILED: {problem}", file=out)
    if entry is not None:
        if entry not in entries:
            print(f"FAILED: your entry {entry} is not in the draw", file=out)
            return EXIT_FAILED
        place = entries.index(entry)
        print(f"your entry  {entry}: place {place + 1}, ticket "
              f"{published['firstTicket'] + place}", file=out)
    if not check.ok:
        return EXIT_FAILED
    print("OK: the seed matches the commitment and every entry is where the seed puts it",
          file=out)
    return EXIT_OK
