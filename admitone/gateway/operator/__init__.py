"""The operator: its JSON API under /api/v1/admin."""
