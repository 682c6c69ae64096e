"""Seats: the seat map, locks, the live seat stream, and the seat and checkout pages."""
