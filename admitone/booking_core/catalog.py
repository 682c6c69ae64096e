"""The catalog: operators create movies, theaters, screens and shows; fans browse them."""

from __future__ import annotations

import re
import uuid
import zoneinfo
from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import Any, TypeVar

import asyncpg
import msgspec
import structlog

from admitone.booking_core.models import (
    Movie,
    MovieIn,
    MovieList,
    MovieSummary,
    Screen,
    ScreenIn,
    Show,
    ShowDetails,
    ShowIn,
    ShowList,
    ShowSummary,
    Theater,
    TheaterIn,
    TheaterShows,
)
from admitone.db.sql import sql_folder
from admitone.errors import InvalidRequestError, NotFoundError, ShowNotFoundError
from admitone.ids import uuid_or_404
from admitone.outages import translates
from admitone.ttl_cache import TtlCache

sql = sql_folder("admitone.booking_core")
log = structlog.get_logger(__name__)

_WORD = re.compile(r"[\w]+", re.UNICODE)
# How long a show's details and the list of cities are reused before they are read again.
SHOW_DETAILS_SECONDS = 30.0
CITIES_SECONDS = 30.0
CITY_MISS_RELOAD_SECONDS = 1.0


def parse_uuid(value: str, what: str) -> uuid.UUID:
    """A path or body id as a UUID; anything else is an unknown id (404), never a 500."""
    return uuid_or_404(value, lambda: NotFoundError(f"No {what} has the id {value[:64]!r}"))


def title_query(text: str) -> str | None:
    """A prefix-matching tsquery from free text (``"aven end"`` → ``aven:* & end:*``)."""
    words = _WORD.findall(text.lower())[:8]
    return " & ".join(f"{word}:*" for word in words) or None


def _row_to(struct: type[T], row: asyncpg.Record | None, **extra: Any) -> T:
    assert row is not None  # noqa: S101 - INSERT … RETURNING and checked reads return a row
    data = {
        key: (str(value) if isinstance(value, uuid.UUID) else value) for key, value in row.items()
    }
    data.update(extra)
    return struct(**{name: data[name] for name in struct.__struct_fields__ if name in data})


T = TypeVar("T", bound=msgspec.Struct)


@translates("PostgreSQL")
class CatalogService:
    """Operator writes and public reads of the catalog, straight on PostgreSQL.

    Fans' browsing (movies, a movie's shows, cities) reads ``read_pool``, a streaming replica
    when one is configured; writes, and the reads that pages, bookings and tickets build on
    (``get_show``, ``show_details``: an operator reads back the show just made), use the primary.
    """

    def __init__(
        self, pool: asyncpg.Pool, max_seats_per_visitor: int, *,
        read_pool: asyncpg.Pool | None = None,
    ) -> None:
        self.pool = pool
        self.replica_pool = read_pool
        self.max_seats_per_visitor = max_seats_per_visitor
        self._details: TtlCache[uuid.UUID, ShowDetails] = TtlCache(SHOW_DETAILS_SECONDS)
        self._cities: TtlCache[None, list[tuple[str, str]]] = TtlCache(CITIES_SECONDS, 1)

    @property
    def read_pool(self) -> asyncpg.Pool:
        """The replica when one is configured, else the primary (``pool``, even if replaced)."""
        return self.replica_pool or self.pool

    async def create_movie(self, data: MovieIn) -> Movie:
        row = await self.pool.fetchrow(
            sql("create_movie"),
            data.title,
            data.duration_minutes,
            data.language,
            data.genre,
            data.rating,
            data.release_date,
            data.description,
            data.poster_url,
        )
        return _movie(row)

    async def create_theater(self, data: TheaterIn) -> Theater:
        try:
            zoneinfo.ZoneInfo(data.timezone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise InvalidRequestError(f"Unknown time zone {data.timezone!r}") from None
        row = await self.pool.fetchrow(
            sql("create_theater"),
            data.name,
            data.city,
            data.address,
            data.timezone,
        )
        return _row_to(Theater, row)

    async def create_screen(self, theater_id: str, data: ScreenIn) -> Screen:
        theater = parse_uuid(theater_id, "theater")
        names = [row.name for row in data.layout.rows]
        if len(set(names)) != len(names):
            raise InvalidRequestError("Row names in a layout must be unique")
        seats = [
            (f"{row.name}{number}", row.name, index, number, row.seat_type, row.price_multiplier)
            for index, row in enumerate(data.layout.rows)
            for number in range(1, row.seats + 1)
        ]
        layout = msgspec.to_builtins(data.layout)
        async with self.pool.acquire() as conn, conn.transaction():
            if not await conn.fetchval("SELECT 1 FROM theaters WHERE id = $1", theater):
                raise NotFoundError(f"No theater has the id {theater_id}")
            screen_id = await conn.fetchval(
                sql("create_screen"),
                theater,
                data.name,
                len(seats),
                msgspec.json.encode(layout).decode(),
            )
            await conn.copy_records_to_table(
                "seats",
                records=[(screen_id, *seat) for seat in seats],
                columns=[
                    "screen_id",
                    "seat_id",
                    "row_name",
                    "row_index",
                    "seat_number",
                    "seat_type",
                    "price_multiplier",
                ],
            )
        return Screen(
            id=str(screen_id), theater_id=theater_id, name=data.name, total_seats=len(seats)
        )

    async def create_show(self, data: ShowIn) -> Show:
        movie = parse_uuid(data.movie_id, "movie")
        screen = parse_uuid(data.screen_id, "screen")
        if data.show_time.tzinfo is None:
            raise InvalidRequestError("showTime must carry a time zone (RFC 3339)")
        limit = data.max_seats_per_visitor or self.max_seats_per_visitor
        async with self.pool.acquire() as conn, conn.transaction():
            if not await conn.fetchval("SELECT 1 FROM movies WHERE id = $1", movie):
                raise NotFoundError(f"No movie has the id {data.movie_id}")
            if not await conn.fetchval("SELECT 1 FROM screens WHERE id = $1", screen):
                raise NotFoundError(f"No screen has the id {data.screen_id}")
            row = await conn.fetchrow(
                sql("create_show"),
                movie,
                screen,
                data.show_time,
                data.base_price,
                data.currency,
                limit,
            )
            assert row is not None  # noqa: S101 - INSERT … RETURNING returns the row
            await conn.execute(sql("create_show_seats"), row["id"], screen, data.base_price)
            total = await conn.fetchval("SELECT total_seats FROM screens WHERE id = $1", screen)
            await conn.execute(
                sql("add_audit"),
                "operator",
                "show",
                str(row["id"]),
                "CREATED",
                msgspec.json.encode(
                    {"movieId": data.movie_id, "screenId": data.screen_id}
                ).decode(),
            )
        await self._refresh_seat_statistics(total)
        return _row_to(Show, row, total_seats=total)

    async def _refresh_seat_statistics(self, added: int) -> None:
        """ANALYZE show_seats when the seats just added would leave its statistics stale, so
        that the show's first lock, checkout and settlement are planned for its real size.
        On sale minutes after the show was made, autovacuum may not have come by yet."""
        try:
            async with self.pool.acquire() as conn:
                if await conn.fetchval(sql("seat_statistics_stale"), added):
                    await conn.execute("ANALYZE show_seats")
        except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError) as exc:
            # e.g. not the table's owner, or the server just went away: the show is made, and
            # autovacuum gathers the statistics within its next round.
            log.warning("seat_statistics_not_refreshed", error=str(exc))

    async def get_show(self, show_id: str) -> Show:
        show = parse_uuid(show_id, "show")
        row = await self.pool.fetchrow(sql("get_show"), show)
        if row is None:
            raise ShowNotFoundError(f"No show has the id {show_id}")
        return _row_to(Show, row)

    async def show_details(self, show_id: str) -> ShowDetails:
        """Title, time and place of a show, for pages, tickets and e-mails (cached for
        ``SHOW_DETAILS_SECONDS``: shows are not edited once created)."""
        show = parse_uuid(show_id, "show")
        cached = self._details.get(show)
        if cached is not None:
            return cached
        found = await self._load_details(show, show_id)
        return self._details.put(show, found)

    async def _load_details(self, show: uuid.UUID, show_id: str) -> ShowDetails:
        row = await self.pool.fetchrow(sql("show_details"), show)
        if row is None:
            raise ShowNotFoundError(f"No show has the id {show_id}")
        limit = (await self.get_show(show_id)).max_seats_per_visitor
        return ShowDetails(
            id=str(row["id"]), movie_id=str(row["movie_id"]), title=row["title"],
            show_time=row["show_time"],
            language=row["language"], duration_minutes=row["duration_minutes"],
            theater=row["theater"], city=row["city"], address=row["address"],
            timezone=row["timezone"], screen=row["screen"], currency=row["currency"],
            max_seats_per_visitor=limit,
        )

    async def list_movies(self, city: str | None, day: date | None, q: str | None) -> MovieList:
        query = title_query(q) if q else None
        if q and query is None:
            return MovieList(movies=[])
        rows = await self.read_pool.fetch(sql("list_movies"), city, day, query)
        return MovieList(movies=[_row_to(MovieSummary, row) for row in rows])

    async def list_movie_shows(
        self, movie_id: str, city: str | None, day: date | None
    ) -> ShowList:
        movie = parse_uuid(movie_id, "movie")
        if not await self.read_pool.fetchval("SELECT 1 FROM movies WHERE id = $1", movie):
            raise NotFoundError(f"No movie has the id {movie_id}")
        rows = await self.read_pool.fetch(sql("list_movie_shows"), movie, city, day)
        return ShowList(theaters=list(_group_by_theater(rows)))

    async def next_show_day(self, city: str | None, first: date,
                            movie_id: str | None = None) -> date | None:
        """The first day from ``first`` on with an upcoming show (of ``movie_id``, in ``city``),
        in the theater's time zone; None when there is none (the browse pages' fallback)."""
        movie = parse_uuid(movie_id, "movie") if movie_id else None
        found: date | None = await self.read_pool.fetchval(sql("next_show_day"), city, first,
                                                           movie)
        return found

    async def get_movie(self, movie_id: str) -> Movie:
        """One movie (for its page); an unknown or malformed id is a NotFoundError."""
        row = await self.read_pool.fetchrow(sql("get_movie"), parse_uuid(movie_id, "movie"))
        if row is None:
            raise NotFoundError(f"No movie has the id {movie_id}")
        return _movie(row)

    async def list_cities(self) -> list[tuple[str, str]]:
        """(city, time zone) of every city with a theater, by name (the browse page's picker)."""
        rows = await self.read_pool.fetch(sql("list_cities"))
        return [(row["city"], row["timezone"]) for row in rows]

    async def city_zones(self, wanted: str | None = None) -> list[tuple[str, str]]:
        """:meth:`list_cities`, cached for ``CITIES_SECONDS`` (a crowd loads the home page).
        A ``wanted`` city missing from the cache reloads it, at most once every
        ``CITY_MISS_RELOAD_SECONDS``, so a city added a moment ago is found without letting
        made-up names query every time."""
        cities = self._cities.get(None)
        if cities is not None and wanted and all(
                city.lower() != wanted.lower() for city, _zone in cities):
            cities = self._cities.get(None, younger_than=CITY_MISS_RELOAD_SECONDS)
        if cities is None:
            cities = self._cities.put(None, await self.list_cities())
        return cities

    def forget_cities(self) -> None:
        """Drop the cached cities (the next page reads them afresh)."""
        self._cities.clear()


def _movie(row: asyncpg.Record | None) -> Movie:
    return _row_to(Movie, row)


def _group_by_theater(rows: Iterable[asyncpg.Record]) -> Iterable[TheaterShows]:
    current: dict[str, Any] | None = None
    shows: list[ShowSummary] = []
    for row in rows:
        if current is None or current["id"] != str(row["theater_id"]):
            if current is not None:
                yield TheaterShows(**current, shows=shows)
            current = {
                "id": str(row["theater_id"]),
                "name": row["theater_name"],
                "city": row["city"],
                "address": row["address"],
            }
            shows = []
        shows.append(
            ShowSummary(
                id=str(row["id"]),
                time=row["show_time"],
                price=Decimal(row["base_price"]),
                currency=row["currency"],
                screen=row["screen_name"],
            )
        )
    if current is not None:
        yield TheaterShows(**current, shows=shows)
