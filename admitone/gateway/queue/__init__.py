"""The fans' queue: its JSON and SSE routes and the queue page."""
