"""Prometheus metrics per model and device: requests by outcome, queue depth, latency."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
LATENCY_BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                   0.25, 0.5, 1.0, 2.5, 5.0, 10.0)  # fmt: skip


class Metrics:
    """The server's metrics in their own registry (several servers may share a process)."""

    def __init__(self, models: Iterable[Any]) -> None:
        disable_created_metrics()  # the *_created series only double the page
        self.registry = CollectorRegistry()
        labels = ("model", "device")
        self.requests = Counter(
            "ovlite_serve_requests",
            "Infer requests answered, by HTTP status",
            (*labels, "status"),
            registry=self.registry,
        )
        self.latency = Histogram(
            "ovlite_serve_request_duration_seconds",
            "Time from a decoded infer request to its encoded response",
            labels,
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.registry.register(_QueueCollector(list(models)))

    def observe(self, model: Any, status: int, seconds: float | None) -> None:
        self.requests.labels(model.name, model.device, str(status)).inc()
        if seconds is not None:
            self.latency.labels(model.name, model.device).observe(seconds)

    def render(self) -> bytes:
        return generate_latest(self.registry)


class _QueueCollector:
    """Reads each model's queue when scraped, so the figures are never stale."""

    def __init__(self, models: list[Any]) -> None:
        self.models = models

    def collect(self) -> Iterable[GaugeMetricFamily]:
        depth = GaugeMetricFamily(
            "ovlite_serve_queue_depth",
            "Infer requests waiting for a device slot",
            labels=("model", "device"),
        )
        running = GaugeMetricFamily(
            "ovlite_serve_requests_running",
            "Infer requests on the device now",
            labels=("model", "device"),
        )
        slots = GaugeMetricFamily(
            "ovlite_serve_slots",
            "Concurrent inferences per model (OPTIMAL_NUMBER_OF_INFER_REQUESTS)",
            labels=("model", "device"),
        )
        for m in self.models:
            depth.add_metric((m.name, m.device), m.admitted - m.running)
            running.add_metric((m.name, m.device), m.running)
            slots.add_metric((m.name, m.device), m.slots)
        yield from (depth, running, slots)
