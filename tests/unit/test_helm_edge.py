"""The chart's values for the edge: trusted proxies, stream caps, the metrics token and the
ServiceMonitor that sends it."""

from __future__ import annotations

from typing import Any

from tests.unit.test_helm_chart import URLS, _env, _render


def _by_kind(docs: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [doc for doc in docs if doc["kind"] == kind]


def test_trusted_proxies_and_stream_caps_reach_the_pods() -> None:
    docs = _render(*URLS, "--set", "ingress.enabled=true",
                   "--set-string", "config.trustedProxies=10.0.0.0/8\\,192.168.0.0/16",
                   "--set", "config.streamsPerClient=5")
    config = _by_kind(docs, "ConfigMap")[0]["data"]
    assert config["ADMITONE_TRUSTED_PROXIES"] == "10.0.0.0/8,192.168.0.0/16"
    assert config["ADMITONE_STREAMS_PER_CLIENT"] == "5"
    assert config["ADMITONE_LIMIT_CONCURRENCY"] == "2000"


def test_the_service_monitor_sends_the_metrics_token() -> None:
    docs = _render(*URLS, "--set", "monitoring.serviceMonitor.enabled=true",
                   "--set", "secret.metricsToken=metrics-token-0123456789",
                   "--set", "config.metricsAllow=10.0.0.0/8")
    secret = _by_kind(docs, "Secret")
    assert any("metrics-token" in doc.get("data", {}) for doc in secret)
    monitor = _by_kind(docs, "ServiceMonitor")[0]
    endpoint = monitor["spec"]["endpoints"][0]
    assert endpoint["path"] == "/metrics"
    assert endpoint["bearerTokenSecret"]["key"] == "metrics-token"
    gateway = next(d for d in _by_kind(docs, "Deployment") if d["metadata"]["name"].endswith(
        "gateway"))
    assert _env(gateway)["ADMITONE_METRICS_TOKEN"]["secretKeyRef"]["key"] == "metrics-token"
    assert _by_kind(docs, "ConfigMap")[0]["data"]["ADMITONE_METRICS_ALLOW"] == "10.0.0.0/8"
    # Off by default: no ServiceMonitor, no token.
    plain = _render(*URLS)
    assert not _by_kind(plain, "ServiceMonitor")
