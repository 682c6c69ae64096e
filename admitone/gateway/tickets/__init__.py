"""Tickets at the door: each show's signed list of revoked tickets and the online check."""
