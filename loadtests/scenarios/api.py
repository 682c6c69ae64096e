"""Paths of the admitone API (CONTRACT.md) and the names they are reported under.

Reported names put placeholders where ids go, so locust's statistics have one row per route,
not one per show, lock or booking.
"""

from __future__ import annotations


def join_path(show_id: str) -> str:
    return f"/api/v1/queue/{show_id}/join"


def status_path(show_id: str) -> str:
    return f"/api/v1/queue/{show_id}/status"


def progress_path(show_id: str) -> str:
    return f"/api/v1/queue/{show_id}/progress"


def leave_path(show_id: str) -> str:
    return f"/api/v1/queue/{show_id}/leave"


def seats_path(show_id: str) -> str:
    return f"/api/v1/shows/{show_id}/seats"


LOCK_PATH = "/api/v1/bookings/lock"
BOOKINGS_PATH = "/api/v1/bookings"


def lock_release_path(lock_id: str) -> str:
    return f"/api/v1/bookings/lock/{lock_id}"


def booking_path(booking_id: str) -> str:
    return f"/api/v1/bookings/{booking_id}"


def sandbox_complete_path(payment_id: str) -> str:
    return f"/sandbox/payments/{payment_id}/complete"


JOIN = "/api/v1/queue/[showId]/join"
STATUS = "/api/v1/queue/[showId]/status"
PROGRESS = "/api/v1/queue/[showId]/progress"
LEAVE = "/api/v1/queue/[showId]/leave"
SEATS = "/api/v1/shows/[showId]/seats"
LOCK = "/api/v1/bookings/lock"
RELEASE = "/api/v1/bookings/lock/[lockId]"
CHECKOUT = "/api/v1/bookings"
CHECKOUT_RETRY = "/api/v1/bookings (same Idempotency-Key again)"
BOOKING = "/api/v1/bookings/[bookingId]"
PAY = "/sandbox/payments/[paymentId]/complete"
