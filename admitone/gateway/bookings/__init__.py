"""Bookings: checkout, booking, ticket, lookup and cancellation, and the booking pages."""
