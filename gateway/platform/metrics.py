"""Prometheus metrics, one registry per app (no global state, so tests can build many apps).

Outbox depth, deliveries and dead letters are read from the database at scrape time: the worker
is a separate process, and the database is the one place that knows the truth for both.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

OutboxCounts = Callable[[], tuple[dict[str, int], dict[str, int]]]


class OutboxCollector(Collector):
    """``(messages by status, delivery attempts by outcome)`` from the database."""

    def __init__(self, counts: OutboxCounts) -> None:
        self.counts = counts

    def collect(self) -> Iterator[Metric]:
        by_status, attempts = self.counts()
        depth = GaugeMetricFamily("wijkgateway_outbox_messages",
                                  "Outbox messages by status (pending, delivered, dead, withheld, "
                                  "feed).",
                                  labels=["status"])
        for status in ("pending", "delivering", "delivered", "dead", "withheld", "feed"):
            depth.add_metric([status], by_status.get(status, 0))
        yield depth
        tries = CounterMetricFamily("wijkgateway_delivery_attempts",
                                    "Webhook delivery attempts by outcome.", labels=["outcome"])
        for outcome in ("success", "failure"):
            tries.add_metric([outcome], attempts.get(outcome, 0))
        yield tries


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("wijkgateway_http_requests", "HTTP requests by route and status.",
                                ["method", "route", "status"], registry=self.registry)
        self.latency = Histogram("wijkgateway_http_request_duration_seconds",
                                 "HTTP request latency by route.", ["method", "route"],
                                 registry=self.registry,
                                 buckets=(.0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5))
        self.referrals = Counter("wijkgateway_referrals_received", "Referrals accepted.",
                                 registry=self.registry)
        self.inbound = Counter("wijkgateway_inbound_messages", "Inbound messages by system, "
                               "transport, the pipeline stage they ended at and outcome "
                               "(rejected, or how they went through).",
                               ["system", "transport", "stage", "outcome"],
                               registry=self.registry)

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        self.requests.labels(method, route, str(status)).inc()
        self.latency.labels(method, route).observe(seconds)

    def watch_outbox(self, counts: OutboxCounts) -> None:
        self.registry.register(OutboxCollector(counts))
