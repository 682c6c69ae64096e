"""Locust scenarios of admitone (seed §15.3): a surge into the waiting room, then booking.

``queue_surge`` waits in a show's queue until admitted, ``booking`` locks seats and checks out or
releases them, ``http`` records expected outcomes (409 contention, 429 back-pressure) apart from
errors, and ``bounds`` keeps every run on this machine and finite.
"""
