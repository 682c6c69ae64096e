"""Bad input gets a clear 4xx problem+json and changes nothing (no request gets a 500)."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import httpx
import pytest

from admitone.runtime import Services
from tests.conftest import MakeShow, bearer


async def _row_counts(services: Services) -> dict[str, int]:
    tables = [
        "movies",
        "theaters",
        "screens",
        "shows",
        "show_seats",
        "seat_locks",
        "bookings",
        "payments",
        "idempotency_keys",
    ]
    return {t: await services.pool.fetchval(f"SELECT count(*) FROM {t}") for t in tables}


def _is_problem(response: httpx.Response, status: int) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == status
    assert body["error"]
    assert body["title"]
    assert body["detail"]


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b"{not json", 400),
        (b"[]", 400),
        (b'{"showId": 5, "seatIds": ["A1"]}', 400),
        (b'{"showId": "x", "seatIds": "A1"}', 400),
        (b'{"showId": "x", "seatIds": []}', 400),
        (b'{"showId": "x", "seatIds": ["A1"], "userId": "me"}', 400),
        (b'{"seatIds": ["A1"]}', 400),
        (b'{"showId": "x", "seatIds": ["a1; DROP TABLE show_seats"]}', 400),
    ],
)
async def test_malformed_lock_requests(
    client: httpx.AsyncClient,
    make_show: MakeShow,
    access_token: Callable[..., str],
    services: Services,
    body: bytes,
    status: int,
) -> None:
    """Malformed JSON, wrong types, unknown or missing fields: 400 problem, nothing written."""
    show = await make_show(rows=1, seats_per_row=4)
    before = await _row_counts(services)
    response = await client.post(
        "/api/v1/bookings/lock",
        content=body.replace(b'"x"', f'"{show.id}"'.encode()),
        headers={**bearer(access_token(show.id)), "Content-Type": "application/json"},
    )
    _is_problem(response, status)
    assert await _row_counts(services) == before


async def test_huge_seat_list_is_refused(
    client: httpx.AsyncClient,
    make_show: MakeShow,
    access_token: Callable[..., str],
    services: Services,
) -> None:
    """A list of thousands of seats is refused before it reaches the database."""
    show = await make_show(rows=1, seats_per_row=4)
    before = await _row_counts(services)
    seats = [f"A{n}" for n in range(1, 999)] * 5
    response = await client.post(
        "/api/v1/bookings/lock",
        json={"showId": show.id, "seatIds": seats},
        headers=bearer(access_token(show.id)),
    )
    assert response.status_code in {400, 413}
    assert response.headers["content-type"].startswith("application/problem+json")
    eleven = [f"A{n}" for n in range(1, 12)]
    too_many = await client.post(
        "/api/v1/bookings/lock",
        json={"showId": show.id, "seatIds": eleven},
        headers=bearer(access_token(show.id)),
    )
    _is_problem(too_many, 422)
    dupes = await client.post(
        "/api/v1/bookings/lock",
        json={"showId": show.id, "seatIds": ["A1", "A1"]},
        headers=bearer(access_token(show.id)),
    )
    _is_problem(dupes, 422)
    assert await _row_counts(services) == before


async def test_oversized_body_is_413(
    client: httpx.AsyncClient, make_show: MakeShow, access_token: Callable[..., str]
) -> None:
    """A body over the limit answers 413 problem+json."""
    show = await make_show(rows=1, seats_per_row=4)
    response = await client.post(
        "/api/v1/bookings/lock",
        content=b'{"showId":"' + b"x" * 200_000 + b'"}',
        headers={**bearer(access_token(show.id)), "Content-Type": "application/json"},
    )
    _is_problem(response, 413)


async def test_unknown_ids_are_404(
    client: httpx.AsyncClient,
    access_token: Callable[..., str],
    operator_headers: dict[str, str],
) -> None:
    """Unknown or malformed ids anywhere answer 404 problems, never 500."""
    random_id = str(uuid.uuid4())
    token = access_token(random_id)
    for path in [f"/api/v1/shows/{random_id}/seats", "/api/v1/shows/not-a-uuid/seats"]:
        show_token = access_token(path.split("/")[4])
        _is_problem(await client.get(path, headers=bearer(show_token)), 404)
    locked = await client.post(
        "/api/v1/bookings/lock",
        json={"showId": random_id, "seatIds": ["A1"]},
        headers=bearer(token),
    )
    _is_problem(locked, 404)
    _is_problem(await client.get(f"/api/v1/movies/{random_id}/shows"), 404)
    _is_problem(await client.get("/api/v1/movies/nope/shows"), 404)
    _is_problem(await client.get("/api/v1/no/such/route"), 404)
    _is_problem(
        await client.post(
            f"/api/v1/admin/theaters/{random_id}/screens",
            headers=operator_headers,
            json={"name": "S", "layout": {"rows": [{"name": "A", "seats": 5}]}},
        ),
        404,
    )
    _is_problem(
        await client.post(
            "/api/v1/admin/shows",
            headers=operator_headers,
            json={
                "movieId": random_id,
                "screenId": random_id,
                "showTime": "2030-01-01T10:00:00Z",
                "basePrice": "100.00",
                "currency": "INR",
            },
        ),
        404,
    )


@pytest.mark.parametrize(
    ("path", "body"),
    [
        (
            "/api/v1/admin/movies",
            {"title": "", "durationMinutes": 100, "language": "Hindi", "genre": "X"},
        ),
        (
            "/api/v1/admin/movies",
            {"title": "T", "durationMinutes": -5, "language": "Hindi", "genre": "X"},
        ),
        (
            "/api/v1/admin/movies",
            {
                "title": "T",
                "durationMinutes": 100,
                "language": "Hindi",
                "genre": "X",
                "rating": "11.5",
            },
        ),
        ("/api/v1/admin/theaters", {"name": "T", "city": "Pune"}),
        (
            "/api/v1/admin/theaters",
            {"name": "T", "city": "Pune", "address": "x", "timezone": "Mars/Base"},
        ),
        (
            "/api/v1/admin/shows",
            {
                "movieId": "m",
                "screenId": "s",
                "showTime": "2030-01-01T10:00:00Z",
                "basePrice": "-1.00",
                "currency": "INR",
            },
        ),
        (
            "/api/v1/admin/shows",
            {
                "movieId": "m",
                "screenId": "s",
                "showTime": "2030-01-01T10:00:00Z",
                "basePrice": "1.005",
                "currency": "INR",
            },
        ),
        (
            "/api/v1/admin/shows",
            {
                "movieId": "m",
                "screenId": "s",
                "showTime": "2030-01-01T10:00:00Z",
                "basePrice": "NaN",
                "currency": "INR",
            },
        ),
        (
            "/api/v1/admin/shows",
            {
                "movieId": "m",
                "screenId": "s",
                "showTime": "soon",
                "basePrice": "10.00",
                "currency": "INR",
            },
        ),
        (
            "/api/v1/admin/shows",
            {
                "movieId": "m",
                "screenId": "s",
                "showTime": "2030-01-01T10:00:00Z",
                "basePrice": "10.00",
                "currency": "rupees",
            },
        ),
    ],
)
async def test_bad_catalog_input(
    client: httpx.AsyncClient,
    operator_headers: dict[str, str],
    services: Services,
    path: str,
    body: dict[str, object],
) -> None:
    """Negative prices, bad ratings, unknown time zones, bad times: 4xx, nothing written."""
    before = await _row_counts(services)
    response = await client.post(path, json=body, headers=operator_headers)
    assert 400 <= response.status_code < 500, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert await _row_counts(services) == before


@pytest.mark.parametrize("layout", [
    {"rows": []},
    {"rows": [{"name": "A", "seats": 5}, {"name": "A", "seats": 5}]},
    {"rows": [{"name": "A", "seats": 0}]},
    {"rows": [{"name": "A1", "seats": 5}]},
    {"rows": [{"name": "A", "seats": 5, "priceMultiplier": "0"}]},
])
async def test_bad_layouts(
    client: httpx.AsyncClient, operator_headers: dict[str, str], services: Services,
    layout: dict[str, object],
) -> None:
    """Duplicate row names, empty layouts and absurd rows are refused."""
    theater = (
        await client.post(
            "/api/v1/admin/theaters",
            headers=operator_headers,
            json={"name": "T", "city": "Pune", "address": "1 Road"},
        )
    ).json()
    before = await _row_counts(services)
    response = await client.post(
        f"/api/v1/admin/theaters/{theater['id']}/screens",
        headers=operator_headers,
        json={"name": "S", "layout": layout},
    )
    assert 400 <= response.status_code < 500, (layout, response.text)
    assert await _row_counts(services) == before


@pytest.mark.parametrize(
    "headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic abc"}])
async def test_operator_routes_need_the_operator_token(
    client: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    """Without or with a wrong operator token, operator routes answer 401."""
    body = {"title": "T", "durationMinutes": 100, "language": "Hindi", "genre": "X"}
    response = await client.post("/api/v1/admin/movies", json=body, headers=headers)
    _is_problem(response, 401)
    assert response.json()["error"] == "OPERATOR_UNAUTHORIZED"
