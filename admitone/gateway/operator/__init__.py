"""The operator: its JSON API under /api/v1/admin (``api.py``) and the console under /admin
(sign-in, set-up forms, the live view and controls, seat map, funnel, audit log)."""
