"""The inventory-aware queue's decisions (admission/inventory.py), pure."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from admitone.admission.inventory import (
    Inventory,
    conversion,
    seats_per_order,
    ticket_chance,
)

LEVEL = {"LIKELY": 0, "UNCERTAIN": 1, "UNLIKELY": 2}
positions = st.integers(1, 100_000)
seats = st.integers(0, 100_000)
actives = st.integers(0, 10_000)
per_orders = st.floats(1, 10)
shares = st.floats(0, 1)


@given(position=positions, active=actives, left=seats, per_order=per_orders, share=shares,
       more=st.integers(1, 1000))
def test_further_back_is_never_more_likely(
    position: int, active: int, left: int, per_order: float, share: float, more: int
) -> None:
    """Standing further back never improves the chance."""
    here = ticket_chance(position=position, active=active, seats_left=left, per_order=per_order,
                         buying_share=share)
    behind = ticket_chance(position=position + more, active=active, seats_left=left,
                           per_order=per_order, buying_share=share)
    assert LEVEL[behind.level] >= LEVEL[here.level]
    assert behind.people_ahead == here.people_ahead + more


@given(position=positions, active=actives, left=seats, per_order=per_orders, share=shares,
       more=st.integers(1, 1000))
def test_more_seats_are_never_less_likely(
    position: int, active: int, left: int, per_order: float, share: float, more: int
) -> None:
    """Seats coming back never make the chance worse."""
    now = ticket_chance(position=position, active=active, seats_left=left, per_order=per_order,
                        buying_share=share)
    later = ticket_chance(position=position, active=active, seats_left=left + more,
                          per_order=per_order, buying_share=share)
    assert LEVEL[later.level] <= LEVEL[now.level]


@given(position=positions, active=actives, per_order=per_orders, share=shares)
def test_nothing_left_is_unlikely(position: int, active: int, per_order: float,
                                  share: float) -> None:
    """With no seat left the answer is always 'unlikely'."""
    chance = ticket_chance(position=position, active=active, seats_left=0, per_order=per_order,
                           buying_share=share)
    assert chance.level == "UNLIKELY"
    assert chance.seats_left == 0


def test_the_front_of_a_full_hall_is_likely_and_the_back_unlikely() -> None:
    """500 seats, 2 seats an order, everyone buys: fan 1 is likely, fan 220 uncertain, fan
    400 unlikely, and the reasoning counts the people ahead and the seats they will take."""
    def level(position: int) -> str:
        return ticket_chance(position=position, active=0, seats_left=500, per_order=2.0,
                             buying_share=1.0).level

    assert level(1) == "LIKELY"
    assert level(220) == "UNCERTAIN"
    assert level(400) == "UNLIKELY"
    chance = ticket_chance(position=101, active=20, seats_left=500, per_order=2.0,
                           buying_share=0.5)
    assert chance.people_ahead == 120
    assert chance.expected_demand_ahead == 120


@given(orders=st.integers(0, 10_000), extra=st.integers(0, 10_000))
def test_seats_per_order_start_at_the_prior_and_follow_the_orders(orders: int,
                                                                  extra: int) -> None:
    """With no order it is the prior (2); with many it is the observed average."""
    assert seats_per_order(0, 0) == 2.0
    spo = seats_per_order(orders, orders + extra)
    assert spo >= 1.0  # an order has at least one seat
    if orders >= 10_000:
        assert abs(spo - (orders + extra) / orders) < 0.01 * spo + 0.01


@given(orders=st.integers(0, 10_000), admitted=st.integers(0, 10_000))
def test_the_buying_share_is_a_share(orders: int, admitted: int) -> None:
    """The share of admitted fans who buy stays in [0, 1] and is 1 before anyone is admitted."""
    assert conversion(0, 0) == 1.0
    assert 0.0 <= conversion(min(orders, admitted), admitted) <= 1.0


def test_sold_out_means_nothing_free_and_nothing_held() -> None:
    """A held seat may come back, so a show is sold out only with nothing free nor held."""
    assert Inventory(available=0, locked=0, booked=8, orders=4, seats_ordered=8).sold_out
    assert not Inventory(available=0, locked=1, booked=7, orders=4, seats_ordered=7).sold_out
    assert not Inventory(available=1, locked=0, booked=7, orders=4, seats_ordered=7).sold_out
