"""Service routes: health, readiness, keys, token introspection, metrics."""
