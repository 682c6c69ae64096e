"""A stateful hypothesis test of the seat lifecycle against real PostgreSQL and Redis.

Rules lock, extend, release, expire, sweep, check out, pay (success or failure) and cancel, in
any order, for three visitors on a six-seat show; after every step the database must agree
with a simple model and with the invariants of DESIGN.md.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar

import httpx
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    invariant,
    multiple,
    rule,
    run_state_machine_as_test,
)

from admitone.booking_core.models import (
    LayoutIn,
    LockIn,
    LockOut,
    MovieIn,
    RowIn,
    ScreenIn,
    ShowIn,
    TheaterIn,
)
from admitone.errors import SeatLimitError, SeatUnavailableError
from admitone.gateway.app import create_app
from admitone.runtime import Services, open_services
from admitone.settings import Settings

SEATS = [f"A{n}" for n in range(1, 7)]
LIMIT = 4
T = TypeVar("T")


@dataclass
class Lock:
    id: str
    visitor: int
    seats: list[str]
    status: str = "ACTIVE"  # ACTIVE, RELEASED, EXPIRED, CONVERTED
    expired: bool = False
    booking: str | None = None


@dataclass
class Booking:
    id: str
    lock: Lock
    payment_id: str
    status: str = "PENDING"  # PENDING, CONFIRMED, FAILED, CANCELLED
    charge: str = "PENDING"  # the sandbox charge: PENDING, SUCCESS, FAILED
    seats: list[str] = field(default_factory=list)


class Harness:
    """One event loop, app and client for the whole state-machine run."""

    def __init__(self, settings: Settings) -> None:
        self.loop = asyncio.new_event_loop()
        self._services_cm = open_services(settings)
        self.services: Services = self.run(self._services_cm.__aenter__())
        app = create_app(settings, services=self.services)
        self.client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://admitone.test"
        )

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return self.loop.run_until_complete(coro)

    def close(self) -> None:
        self.run(self.client.aclose())
        self.run(self._services_cm.__aexit__(None, None, None))
        self.loop.close()

    async def new_show(self) -> str:
        catalog = self.services.catalog
        movie = await catalog.create_movie(
            MovieIn(title="Lifecycle", duration_minutes=90, language="Hindi", genre="Drama")
        )
        theater = await catalog.create_theater(TheaterIn(name="T", city="Pune", address="1 Rd"))
        screen = await catalog.create_screen(
            theater.id,
            ScreenIn(name="S", layout=LayoutIn(rows=[RowIn(name="A", seats=len(SEATS))])),
        )
        show = await catalog.create_show(
            ShowIn(
                movie_id=movie.id,
                screen_id=screen.id,
                show_time=datetime.now(UTC) + timedelta(days=3),
                base_price=Decimal("100.00"),
                currency="INR",
                max_seats_per_visitor=LIMIT,
            )
        )
        return show.id


class SeatLifecycle(RuleBasedStateMachine):
    harness: Harness

    locks = Bundle("locks")
    bookings = Bundle("bookings")

    def __init__(self) -> None:
        super().__init__()
        h = self.harness
        self.show_id = h.run(h.new_show())
        self.visitor_ids = [f"v{i}-{uuid.uuid4().hex[:8]}" for i in range(3)]
        self.tokens = [
            h.services.tokens.issue_access_token(
                show_id=self.show_id, visitor_id=visitor, expires_at=int(time.time()) + 3600
            )
            for visitor in self.visitor_ids
        ]
        # seat -> ("AVAILABLE", None) | ("LOCKED", Lock) | ("BOOKED", Booking)
        self.seats: dict[str, tuple[str, Any]] = dict.fromkeys(SEATS, ("AVAILABLE", None))

    # Helpers ---------------------------------------------------------------

    def call(
        self, method: str, path: str, visitor: int | None = None, **kwargs: Any
    ) -> httpx.Response:
        headers = kwargs.pop("headers", {})
        if visitor is not None:
            headers["Authorization"] = f"Bearer {self.tokens[visitor]}"
        return self.harness.run(
            self.harness.client.request(method, path, headers=headers, **kwargs)
        )

    def free(self, seat: str) -> bool:
        state, owner = self.seats[seat]
        return state == "AVAILABLE" or (state == "LOCKED" and owner.expired)

    def held(self, visitor: int) -> int:
        count = 0
        for state, owner in self.seats.values():
            if state == "LOCKED" and owner.visitor == visitor and not owner.expired:
                count += 1
            if state == "BOOKED" and owner.lock.visitor == visitor:
                count += 1
        return count

    def holds_all(self, lock: Lock) -> bool:
        return all(self.seats[s] == ("LOCKED", lock) for s in lock.seats)

    def free_seats_of(self, lock: Lock) -> None:
        for seat in lock.seats:
            if self.seats[seat] == ("LOCKED", lock):
                self.seats[seat] = ("AVAILABLE", None)

    # Rules -----------------------------------------------------------------

    @rule(
        target=locks,
        visitor=st.integers(0, 2),
        wanted=st.lists(st.sampled_from(SEATS), min_size=1, max_size=3, unique=True),
    )
    def lock(self, visitor: int, wanted: list[str]) -> Any:
        response = self.call(
            "POST",
            "/api/v1/bookings/lock",
            visitor,
            json={"showId": self.show_id, "seatIds": wanted},
        )
        taken = sorted(s for s in wanted if not self.free(s))
        if taken:
            assert response.status_code == 409, response.text
            assert response.json()["error"] == "SEAT_UNAVAILABLE"
            assert sorted(response.json()["unavailableSeats"]) == taken
            return multiple()
        if self.held(visitor) + len(wanted) > LIMIT:
            assert response.status_code == 409, response.text
            assert response.json()["error"] == "SEAT_LIMIT_EXCEEDED"
            return multiple()
        assert response.status_code == 200, response.text
        lock = Lock(response.json()["lockId"], visitor, sorted(wanted))
        self._all_locks().append(lock)
        for seat in wanted:
            self.seats[seat] = ("LOCKED", lock)
        return lock

    @rule(lock=locks)
    def extend(self, lock: Lock) -> None:
        response = self.call("PUT", f"/api/v1/bookings/lock/{lock.id}/extend", lock.visitor)
        if lock.status == "CONVERTED":
            assert response.status_code == 409, response.text
        elif lock.status == "ACTIVE" and not lock.expired and self.holds_all(lock):
            assert response.status_code == 200, response.text
        else:
            assert response.status_code == 410, response.text
            assert response.json()["error"] == "LOCK_EXPIRED"

    @rule(lock=locks)
    def release(self, lock: Lock) -> None:
        response = self.call("DELETE", f"/api/v1/bookings/lock/{lock.id}", lock.visitor)
        pending = lock.booking is not None and self.booking_status(lock) == "PENDING"
        if lock.status == "CONVERTED" or pending:
            assert response.status_code == 409, response.text
            return
        assert response.status_code == 200, response.text
        self.free_seats_of(lock)
        if lock.status == "ACTIVE":
            lock.status = "RELEASED"

    @rule(lock=locks)
    def expire(self, lock: Lock) -> None:
        if lock.status != "ACTIVE":
            return
        lid = uuid.UUID(lock.id)
        pool = self.harness.services.pool
        self.harness.run(
            pool.execute(
                "UPDATE show_seats SET locked_until = clock_timestamp() - interval '1 s' WHERE lock_id = $1",
                lid,
            )
        )
        self.harness.run(
            pool.execute(
                "UPDATE seat_locks SET expires_at = clock_timestamp() - interval '1 s' WHERE id = $1",
                lid,
            )
        )
        lock.expired = True

    @rule()
    def sweep(self) -> None:
        self.harness.run(self.harness.services.seats.sweep_expired())
        for seat, (state, owner) in list(self.seats.items()):
            if state == "LOCKED" and owner.expired:
                self.seats[seat] = ("AVAILABLE", None)
        for lock in self._all_locks():
            if lock.status == "ACTIVE" and lock.expired:
                lock.status = "EXPIRED"

    @rule(target=bookings, lock=locks)
    def checkout(self, lock: Lock) -> Any:
        response = self.call(
            "POST",
            "/api/v1/bookings",
            lock.visitor,
            headers={"Idempotency-Key": uuid.uuid4().hex},
            json={"lockId": lock.id, "paymentMethod": "CARD",
                  "email": f"fan{lock.visitor}@example.in"},  # one fan, one address
        )
        live = lock.booking is not None and self.booking_status(lock) in {"PENDING", "CONFIRMED"}
        if live:
            assert response.status_code == 409, response.text
            return multiple()
        if lock.status != "ACTIVE" or lock.expired or not self.holds_all(lock):
            assert response.status_code == 410, response.text
            return multiple()
        assert response.status_code == 201, response.text
        body = response.json()
        booking = Booking(body["bookingId"], lock, body["paymentId"], seats=list(lock.seats))
        lock.booking = booking.id
        self._bookings[booking.id] = booking
        return booking

    @rule(booking=bookings, success=st.booleans())
    def pay(self, booking: Booking, success: bool) -> None:
        if booking.charge == "SUCCESS":
            return  # the sandbox refuses to take money twice; nothing to model
        response = self.call(
            "POST",
            f"/sandbox/payments/{booking.payment_id}/complete", booking.lock.visitor,
            json={"outcome": "SUCCESS" if success else "FAILED"},
        )
        assert response.status_code in {200, 202}, response.text
        lock = booking.lock
        if not success:
            booking.charge = "FAILED"
            if booking.status == "PENDING":
                booking.status = "FAILED"
                # The hold stays for a retry while the lock lasts; an expired one is freed.
                if lock.status != "ACTIVE" or lock.expired:
                    self.free_seats_of(lock)
                    if lock.status == "ACTIVE":
                        lock.status = "EXPIRED"
            return
        booking.charge = "SUCCESS"
        if (
            booking.status == "PENDING"
            and lock.status == "ACTIVE"
            and not lock.expired
            and self.holds_all(lock)
        ):
            booking.status = "CONFIRMED"
            lock.status = "CONVERTED"
            for seat in lock.seats:
                self.seats[seat] = ("BOOKED", booking)
        elif booking.status == "PENDING":
            # Money taken after the lock ran out: refunded at once, the booking fails and
            # whatever the lock still held goes back on sale.
            booking.status = "FAILED"
            self.free_seats_of(lock)
            if lock.status == "ACTIVE":
                lock.status = "RELEASED"
        elif booking.status == "FAILED" and lock.status == "ACTIVE" and lock.expired:
            # A late success of a payment already failed is refunded; the hold kept for a
            # retry has run out meanwhile, so its seats go back on sale.
            self.free_seats_of(lock)
            lock.status = "EXPIRED"

    @rule(booking=bookings)
    def cancel(self, booking: Booking) -> None:
        response = self.call("DELETE", f"/api/v1/bookings/{booking.id}", booking.lock.visitor)
        if booking.status in {"CONFIRMED", "CANCELLED"}:
            assert response.status_code == 200, response.text
            assert response.json()["refundAmount"] == f"{100 * len(booking.seats)}.00"
            if booking.status == "CONFIRMED":
                for seat in booking.seats:
                    self.seats[seat] = ("AVAILABLE", None)
                booking.status = "CANCELLED"
        else:
            assert response.status_code == 409, response.text

    # Model bookkeeping -------------------------------------------------------

    @property
    def _bookings(self) -> dict[str, Booking]:
        if not hasattr(self, "_booking_map"):
            self._booking_map: dict[str, Booking] = {}
        return self._booking_map

    def booking_status(self, lock: Lock) -> str:
        return self._bookings[lock.booking].status if lock.booking else ""

    def _all_locks(self) -> list[Lock]:
        if not hasattr(self, "_lock_list"):
            self._lock_list: list[Lock] = []
        return self._lock_list

    # Invariants ----------------------------------------------------------------

    @invariant()
    def database_agrees_with_the_model(self) -> None:
        rows = self.harness.run(
            self.harness.services.pool.fetch(
                "SELECT seat_id, status, lock_id, booking_id FROM show_seats WHERE show_id = $1",
                uuid.UUID(self.show_id),
            )
        )
        for row in rows:
            state, owner = self.seats[row["seat_id"]]
            assert row["status"] == state, (row["seat_id"], row["status"], state)
            if state == "LOCKED":
                assert str(row["lock_id"]) == owner.id
            if state == "BOOKED":
                assert str(row["booking_id"]) == owner.id
        for booking in self._bookings.values():
            status = self.harness.run(
                self.harness.services.pool.fetchval(
                    "SELECT status FROM bookings WHERE id = $1", uuid.UUID(booking.id)
                )
            )
            assert status == booking.status, (booking.id, status, booking.status)

    @invariant()
    def money_and_seats_never_diverge(self) -> None:
        pool = self.harness.services.pool
        show = uuid.UUID(self.show_id)
        doubly = self.harness.run(
            pool.fetchval(
                "SELECT count(*) FROM (SELECT seat_id FROM booking_seats WHERE show_id = $1 AND held"
                " GROUP BY seat_id HAVING count(*) > 1) d",
                show,
            )
        )
        assert doubly == 0
        unpaid = self.harness.run(
            pool.fetchval(
                "SELECT count(*) FROM bookings b WHERE b.show_id = $1 AND b.status = 'CONFIRMED'"
                " AND NOT EXISTS (SELECT 1 FROM payments p WHERE p.booking_id = b.id AND p.status = 'SUCCESS')",
                show,
            )
        )
        assert unpaid == 0
        # Every captured payment whose booking is not live has a refund.
        unrefunded = self.harness.run(
            pool.fetchval(
                "SELECT count(*) FROM payments p JOIN bookings b ON b.id = p.booking_id"
                " WHERE b.show_id = $1 AND b.status IN ('FAILED', 'CANCELLED')"
                " AND p.status IN ('SUCCESS', 'REFUNDED')"
                " AND NOT EXISTS (SELECT 1 FROM refunds r WHERE r.payment_id = p.id)",
                show,
            )
        )
        assert unrefunded == 0
        booked_rows = self.harness.run(
            pool.fetchval(
                "SELECT count(*) FROM show_seats WHERE show_id = $1 AND status = 'BOOKED'", show
            )
        )
        held_rows = self.harness.run(
            pool.fetchval("SELECT count(*) FROM booking_seats WHERE show_id = $1 AND held", show)
        )
        assert booked_rows == held_rows


class BatchedSeatLifecycle(SeatLifecycle):
    """The same machine, plus locks sent at once so that they go as one batch (migration 0028,
    booking_core/lock_batches.py): the model decides them one after the other in the order
    they were sent, as the batch must."""

    @rule(
        target=SeatLifecycle.locks,
        wanted=st.lists(
            st.tuples(
                st.integers(0, 2),
                st.lists(st.sampled_from(SEATS), min_size=1, max_size=3, unique=True),
            ),
            min_size=3,
            max_size=6,
        ),
    )
    def lock_together(self, wanted: list[tuple[int, list[str]]]) -> Any:
        seats = self.harness.services.seats
        coalescer = seats.repository.coalescer
        assert coalescer is not None
        sent = coalescer.stats.batch_calls

        async def at_once() -> list[LockOut | BaseException]:
            # Tasks start in this order and reach the coalescer before any answer: the
            # first goes alone, the others wait for it and then go as one batch.
            return await asyncio.gather(
                *(
                    seats.lock_seats(
                        self.visitor_ids[visitor],
                        LockIn(show_id=self.show_id, seat_ids=wanted_seats),
                    )
                    for visitor, wanted_seats in wanted
                ),
                return_exceptions=True,
            )

        results = self.harness.run(at_once())
        assert coalescer.stats.batch_calls == sent + 1
        made = []
        for (visitor, wanted_seats), result in zip(wanted, results, strict=True):
            taken = sorted(s for s in wanted_seats if not self.free(s))
            if taken:
                assert isinstance(result, SeatUnavailableError), result
                assert sorted(result.context["unavailableSeats"]) == taken
                continue
            if self.held(visitor) + len(wanted_seats) > LIMIT:
                assert isinstance(result, SeatLimitError), result
                continue
            assert isinstance(result, LockOut), result
            lock = Lock(result.lock_id, visitor, sorted(wanted_seats))
            self._all_locks().append(lock)
            for seat in wanted_seats:
                self.seats[seat] = ("LOCKED", lock)
            made.append(lock)
        return multiple(*made)


@pytest.mark.timeout(300)  # a state machine of many steps on real servers: ~10 s idle, 50 s loaded
@pytest.mark.parametrize(
    ("machine", "lock_batch"), [(SeatLifecycle, 0), (BatchedSeatLifecycle, 8)],
    ids=["single-calls", "batched"],
)
def test_seat_lifecycle(
    make_settings: Callable[..., Settings], machine: type[SeatLifecycle], lock_batch: int
) -> None:
    """Any sequence of lock/extend/release/expire/sweep/checkout/pay/cancel keeps the model's
    seat states, never books a seat twice, never confirms without money, and refunds money
    whose seats were lost; with batching on, locks sent together are decided in their order."""
    # The model confirms every paid booking: fraud review (its own tests) is off here.
    harness = Harness(make_settings(fraud_review_score=0, lock_batch=lock_batch))
    coalescer = harness.services.seats.repository.coalescer
    if coalescer is not None:
        coalescer.lanes = 1  # one call in flight: locks sent together are decided in order
    machine.harness = harness
    try:
        run_state_machine_as_test(
            machine,
            settings=settings(
                max_examples=50,
                stateful_step_count=30,
                deadline=None,
                suppress_health_check=[HealthCheck.too_slow],
            ),
        )
    finally:
        harness.close()

