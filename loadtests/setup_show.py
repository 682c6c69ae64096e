"""Create a show with a waiting room through the operator API and print its id.

    SHOW_ID=$(python loadtests/setup_show.py --rows 10 --seats-per-row 20 --rate 600)

Needs the operator token (``--operator-token`` or ``ADMITONE_OPERATOR_TOKEN``) and the base URL
(``--base-url`` or ``ADMITONE_BASE_URL``, default http://127.0.0.1:8000); only loopback hosts are
accepted. The show id alone goes to standard output, everything else to standard error.
"""

from __future__ import annotations

import argparse
import json
import os
import string
import sys
import urllib.error
import urllib.request
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from scenarios.bounds import require_loopback

DEFAULT_BASE_URL = "http://127.0.0.1:8000"
QUEUE_MODES = ("FIFO", "RANDOM_PREQUEUE")


class SetupError(Exception):
    """The operator API refused a step; the message names it."""


def row_names(count: int) -> list[str]:
    """A, B, …, Z, AA, AB, …: the names of ``count`` rows."""
    names = []
    for index in range(count):
        name, number = "", index + 1
        while number:
            number, rest = divmod(number - 1, 26)
            name = string.ascii_uppercase[rest] + name
        names.append(name)
    return names


class OperatorClient:
    """JSON calls on the operator API (standard library only: it works under locust's gevent)."""

    def __init__(self, base_url: str, operator_token: str, timeout_seconds: float) -> None:
        self.base_url = require_loopback(base_url).rstrip("/")
        self.headers = {"Authorization": f"Bearer {operator_token}",
                        "Content-Type": "application/json", "Accept": "application/json"}
        self.timeout_seconds = timeout_seconds

    def send(self, method: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """One request; its JSON object answer, or SetupError naming the step."""
        request = urllib.request.Request(  # noqa: S310 - require_loopback allowed only http(s)
            self.base_url + path, data=json.dumps(body).encode(), headers=self.headers,
            method=method,
        )
        try:
            with urllib.request.urlopen(  # noqa: S310 - as above
                request, timeout=self.timeout_seconds
            ) as response:
                text = response.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode("utf-8", "replace")[:300]
            raise SetupError(f"{method} {path}: {exc.code} {detail}") from exc
        except OSError as exc:  # URLError, refused connections, timeouts
            raise SetupError(f"{method} {path}: {exc}") from exc
        try:
            answer = json.loads(text)
        except ValueError:
            answer = None
        if not isinstance(answer, dict):
            raise SetupError(f"{method} {path}: expected a JSON object, got {text[:100]!r}")
        return answer


def create_show(
    base_url: str,
    operator_token: str,
    *,
    rows: int = 10,
    seats_per_row: int = 20,
    release_rate_per_minute: int = 600,
    max_active: int = 200,
    session_seconds: int = 600,
    queue_mode: str = "FIFO",
    timeout_seconds: float = 10.0,
    abandon_grace_seconds: int = 60,
    starts_at: datetime | None = None,
    paused: bool = False,
) -> str:
    """Movie, theater, screen of ``rows`` x ``seats_per_row``, a show in a week, an enabled
    waiting room; answers the show id."""
    client = OperatorClient(base_url, operator_token, timeout_seconds)
    movie = client.send("POST", "/api/v1/admin/movies", {
        "title": "Load test premiere", "durationMinutes": 150, "language": "English",
        "genre": "Action",
    })
    theater = client.send("POST", "/api/v1/admin/theaters", {
        "name": "Load test hall", "city": "Loopback", "address": "127.0.0.1",
    })
    screen = client.send("POST", f"/api/v1/admin/theaters/{theater['id']}/screens", {
        "name": "Screen 1",
        "layout": {"rows": [
            {"name": name, "seats": seats_per_row, "seatType": "REGULAR", "priceMultiplier": "1.00"}
            for name in row_names(rows)
        ]},
    })
    show_time = (datetime.now(UTC) + timedelta(days=7)).replace(microsecond=0)
    show = client.send("POST", "/api/v1/admin/shows", {
        "movieId": movie["id"], "screenId": screen["id"],
        "showTime": show_time.isoformat().replace("+00:00", "Z"),
        "basePrice": "200.00", "currency": "INR",
    })
    client.send("PUT", f"/api/v1/admin/shows/{show['id']}/waiting-room", {
        "enabled": True, "releaseRatePerMinute": release_rate_per_minute,
        "maxActive": max_active, "sessionSeconds": session_seconds, "queueMode": queue_mode,
        "abandonGraceSeconds": abandon_grace_seconds,
        "paused": paused,
        **({"startsAt": starts_at.isoformat().replace("+00:00", "Z")} if starts_at else {}),
    })
    return str(show["id"])


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base-url", default=os.environ.get("ADMITONE_BASE_URL", DEFAULT_BASE_URL))
    parser.add_argument("--operator-token", default=os.environ.get("ADMITONE_OPERATOR_TOKEN"))
    parser.add_argument("--rows", type=int, default=10, help="rows of seats, 1-100")
    parser.add_argument("--seats-per-row", type=int, default=20, help="seats in a row, 1-200")
    parser.add_argument("--rate", type=int, default=600, help="releaseRatePerMinute")
    parser.add_argument("--max-active", type=int, default=200, help="maxActive sessions")
    parser.add_argument("--session-seconds", type=int, default=600, help="sessionSeconds")
    parser.add_argument("--queue-mode", choices=QUEUE_MODES, default="FIFO")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if not args.operator_token:
        sys.stderr.write("setup_show: set ADMITONE_OPERATOR_TOKEN or pass --operator-token\n")
        return 2
    try:
        show_id = create_show(
            args.base_url, args.operator_token, rows=args.rows, seats_per_row=args.seats_per_row,
            release_rate_per_minute=args.rate, max_active=args.max_active,
            session_seconds=args.session_seconds, queue_mode=args.queue_mode,
        )
    except (ValueError, SetupError) as exc:
        sys.stderr.write(f"setup_show: {exc}\n")
        return 1
    sys.stderr.write(f"show {show_id} created with an enabled waiting room at {args.base_url}\n")
    sys.stdout.write(f"{show_id}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
