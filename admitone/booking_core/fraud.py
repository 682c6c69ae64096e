"""A risk score per checkout, from the fraud signals of the seed design (§14.3) that admitone
can see itself. Each signal is a pure function of facts read at checkout; the score is their
sum. A checkout scoring more than ``ADMITONE_FRAUD_REVIEW_SCORE`` is marked for review: once
paid, its booking is REVIEW (money captured, seats held) until an operator approves or rejects
it (``backoffice.ReviewService``).

The signals, counted per normalised e-mail (``policy.email_key``), the identity a checkout
must give:

- ``REPEAT_BOOKINGS``: several bookings of the same show within an hour;
- ``MANY_PAYMENT_METHODS``: many payment instruments (or methods) within a day;
- ``VELOCITY``: many checkout attempts (by the e-mail or the visitor) within ten minutes;
- ``BULK_ON_FRESH_IDENTITY``: many seats bought by an e-mail first seen less than a day ago.

No signal alone reaches the default threshold (60): a fan who rebooks after a failed payment,
or a family buying six seats, is not held; two signals together are.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

MAX_SCORE = 100
REPEAT_WINDOW = timedelta(hours=1)
METHODS_WINDOW = timedelta(days=1)
VELOCITY_WINDOW = timedelta(minutes=10)
FRESH_IDENTITY = timedelta(days=1)

REPEAT_FROM = 2  # earlier bookings of the show within the hour that start to count
METHODS_FROM = 3  # distinct instruments within the day, this checkout's included
VELOCITY_FROM = 5  # checkouts within ten minutes, this one included
BULK_FROM = 4  # seats in one checkout by a fresh identity


@dataclass(frozen=True, slots=True)
class Reason:
    """One signal that fired: its code, its points, and a sentence for the operator."""

    signal: str
    points: int
    detail: str


@dataclass(frozen=True, slots=True)
class CheckoutFacts:
    """What checkout reads before scoring (``sql/fraud_facts.sql``)."""

    show_bookings_last_hour: int  # earlier bookings of this show by the e-mail, any outcome
    instruments_last_day: int  # distinct instruments (or methods) of the e-mail, this one too
    attempts_last_10_minutes: int  # checkouts by the e-mail or the visitor, this one too
    identity_age: timedelta | None  # since the e-mail's first booking; None: this is its first
    seats: int  # seats in this checkout


def repeat_bookings(earlier: int) -> Reason | None:
    """Several bookings of one show by one identity within an hour: 20 points a booking from
    the second earlier one, at most 60."""
    if earlier < REPEAT_FROM:
        return None
    return Reason("REPEAT_BOOKINGS", min(60, 20 * earlier),
                  f"{earlier} earlier bookings of this show by this e-mail within an hour")


def many_payment_methods(instruments: int) -> Reason | None:
    """Many payment instruments for one identity within a day: 30 points from three, 10 more
    for each further one, at most 50."""
    if instruments < METHODS_FROM:
        return None
    return Reason("MANY_PAYMENT_METHODS", min(50, 30 + 10 * (instruments - METHODS_FROM)),
                  f"{instruments} payment instruments used by this e-mail within a day")


def velocity(attempts: int) -> Reason | None:
    """Many checkout attempts within ten minutes: 30 points from five, 50 from ten."""
    if attempts < VELOCITY_FROM:
        return None
    points = 50 if attempts >= 2 * VELOCITY_FROM else 30
    return Reason("VELOCITY", points, f"{attempts} checkouts within ten minutes")


def bulk_on_fresh_identity(seats: int, identity_age: timedelta | None) -> Reason | None:
    """Many seats on an identity first seen less than a day ago (or never before): 30 points
    from four seats, 40 from eight."""
    if seats < BULK_FROM or (identity_age is not None and identity_age >= FRESH_IDENTITY):
        return None
    points = 40 if seats >= 2 * BULK_FROM else 30
    return Reason("BULK_ON_FRESH_IDENTITY", points,
                  f"{seats} seats on an e-mail first seen less than a day ago")


def reasons(facts: CheckoutFacts) -> list[Reason]:
    """Every signal that fires for ``facts``, in a fixed order."""
    found = (
        repeat_bookings(facts.show_bookings_last_hour),
        many_payment_methods(facts.instruments_last_day),
        velocity(facts.attempts_last_10_minutes),
        bulk_on_fresh_identity(facts.seats, facts.identity_age),
    )
    return [reason for reason in found if reason is not None]


def score(found: list[Reason]) -> int:
    """The risk score of a checkout: the sum of its signals' points, at most 100."""
    return min(MAX_SCORE, sum(reason.points for reason in found))


def needs_review(risk: int, threshold: int) -> bool:
    """A score above ``threshold`` is held for review; a threshold of 0 turns review off."""
    return threshold > 0 and risk > threshold
