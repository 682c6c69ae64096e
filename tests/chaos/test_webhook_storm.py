"""Chaos: one storm of payment webhooks — duplicated, reordered, late and forged — delivered
concurrently in a shuffled order (the seed's §15.4), on a Redis of the test's own.

Per payment, one story: paid (each event three times, with and without an event id), failed
then paid or paid then failed (in either order, at once), paid with a late replay of it too,
or only forged (wrong secret, tampered body) so it must stay unpaid. Afterwards every answer
was a 2xx or a 401 (never a 5xx), forged and late deliveries changed nothing, every paid
booking was confirmed exactly once, and the load-test checker's booking-core lines hold.
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections.abc import Callable
from typing import Any

import httpx

from admitone.runtime import Services
from admitone.settings import Settings
from loadtests import check
from tests.chaos.servers import private_redis
from tests.conftest import MakeShow
from tests.integration.payment_support import (
    WEBHOOK,
    Checkout,
    lock_and_checkout,
    outbox_topics,
    signed,
    state_of,
)
from tests.integration.queue_support import app_client

STORIES = ("paid", "paid", "failed_then_paid", "paid_then_failed", "late_replay", "forged")
PER_STORY = 2


def _genuine(checkout: Checkout, status: str, event: str | None) -> dict[str, Any]:
    payload: dict[str, Any] = {"paymentId": checkout.payment_id, "status": status,
                               "amount": checkout.amount, "currency": "INR"}
    if event is not None:
        payload["eventId"] = event
    return payload


def _deliveries(story: str, checkout: Checkout,
                tolerance: int) -> list[tuple[str, bytes, dict[str, str]]]:
    """(what, body, headers) of each delivery of one payment's story."""
    tag = uuid.uuid4().hex[:8]
    out: list[tuple[str, bytes, dict[str, str]]] = []
    if story in {"paid", "late_replay"}:
        out += [("genuine", *signed(_genuine(checkout, "SUCCESS", event)))
                for event in (f"evt-{tag}-ok", f"evt-{tag}-ok", None)]
    if story in {"failed_then_paid", "paid_then_failed"}:
        out.append(("genuine", *signed(_genuine(checkout, "FAILED", f"evt-{tag}-fail"))))
        out.append(("genuine", *signed(_genuine(checkout, "SUCCESS", f"evt-{tag}-ok"))))
        out.append(("genuine", *signed(_genuine(checkout, "SUCCESS", f"evt-{tag}-ok"))))
    if story == "late_replay":
        old = int(time.time()) - tolerance - 30
        out.append(("late", *signed(_genuine(checkout, "FAILED", f"evt-{tag}-late"), at=old)))
    if story == "forged":
        out.append(("forged", *signed(_genuine(checkout, "SUCCESS", f"evt-{tag}-forged"),
                                      secret="an-attacker-guessing-the-secret-000")))
        body, headers = signed(_genuine(checkout, "SUCCESS", f"evt-{tag}-tampered"))
        out.append(("forged", body.replace(b'"SUCCESS"', b'"FAILED"'), headers))
    return out


async def _storm(make_settings: Callable[..., Settings], make_show: MakeShow,
                 access_token: Callable[..., str]) -> None:
    with private_redis("redis_webhooks", appendonly=False) as redis:
        async with app_client(make_settings(redis_url=redis.url)) as (services, client):
            await _run(services, client, make_show, access_token)


async def _run(services: Services, client: httpx.AsyncClient, make_show: MakeShow,
               access_token: Callable[..., str]) -> None:
    show = await make_show(rows=3, seats_per_row=10)
    seats = [f"{row}{n}" for row in "ABC" for n in range(1, 11)]
    stories = [story for story in STORIES for _ in range(PER_STORY)]
    checkouts = [await lock_and_checkout(client, show, access_token, seats[2 * i:2 * i + 2])
                 for i in range(len(stories))]
    tolerance = services.settings.webhook_tolerance_seconds
    deliveries = [(story, checkout, *delivery) for story, checkout in zip(stories, checkouts,
                                                                          strict=True)
                  for delivery in _deliveries(story, checkout, tolerance)]
    random.Random(154).shuffle(deliveries)
    # "paid_then_failed": its failure arrives after its success was processed (a second wave);
    # everything else arrives at once, in the shuffled order.
    def late_failure(d: tuple[Any, ...]) -> bool:
        return bool(d[0] == "paid_then_failed" and b'"FAILED"' in d[3])

    answers = []
    for wave in ([d for d in deliveries if not late_failure(d)],
                 [d for d in deliveries if late_failure(d)]):
        answers += await asyncio.gather(*(client.post(WEBHOOK, content=body, headers=headers)
                                          for _, _, _, body, headers in wave))
    deliveries = [d for d in deliveries if not late_failure(d)] + [
        d for d in deliveries if late_failure(d)]
    for (story, _, what, _, _), answer in zip(deliveries, answers, strict=True):
        assert answer.status_code < 500, (story, what, answer.text)
        if what in {"forged", "late"}:
            assert answer.status_code == 401, (story, what, answer.text)
            assert answer.json()["error"] == "SIGNATURE_INVALID"

    for story, checkout in zip(stories, checkouts, strict=True):
        state = await state_of(services, checkout, show.id)
        topics = await outbox_topics(services, checkout.booking_id)
        if story == "forged":
            assert (state.payment, state.booking) == ("INITIATED", "PENDING"), story
            assert set(state.seats.values()) == {"LOCKED"}
            continue
        if story in {"paid", "late_replay", "paid_then_failed"}:
            assert (state.payment, state.booking) == ("SUCCESS", "CONFIRMED"), (story, state)
            assert set(state.seats.values()) == {"BOOKED"}
        else:  # failed and paid at once: one way or the other, never both
            assert (state.payment, state.booking) in {
                ("SUCCESS", "CONFIRMED"), ("REFUNDED", "FAILED")}, (story, state)
        assert topics.count("booking.confirmed") <= 1, (story, topics)
        confirmed = state.booking == "CONFIRMED"
        assert topics.count("booking.confirmed") == int(confirmed), (story, topics)

    async with services.pool.acquire() as conn:
        lines = await check.database_lines(conn, show.id, 5.0)
    for line in lines:
        assert not line.broken, (line.check, line.value)


async def test_a_storm_of_duplicated_reordered_late_and_forged_webhooks(
    make_settings: Callable[..., Settings], make_show: MakeShow,
    access_token: Callable[..., str],
) -> None:
    await asyncio.wait_for(_storm(make_settings, make_show, access_token), 55)
