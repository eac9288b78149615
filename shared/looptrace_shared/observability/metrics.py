"""Prometheus metrics, per service (label ``service``)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

MESSAGES_IN = Counter(
    "looptrace_messages_in_total", "messages consumed", ["service", "topic", "outcome"]
)
MESSAGES_OUT = Counter("looptrace_messages_out_total", "messages published", ["service", "topic"])
HANDLER_LATENCY = Histogram(
    "looptrace_batch_handler_seconds",
    "time to process one consumed batch (parse, DB transaction, commit)",
    ["service"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
BATCH_SIZE = Histogram(
    "looptrace_batch_size",
    "messages per consumed batch",
    ["service"],
    buckets=(1, 5, 10, 50, 100, 250, 500, 1000, 2000, 5000),
)
DLQ = Counter(
    "looptrace_dead_letters_total",
    "messages sent to a dead-letter topic",
    ["service", "topic", "rule"],
)
PARKED = Counter(
    "looptrace_parked_total", "messages parked until their order is known", ["service"]
)
OUTBOX_LAG = Gauge(
    "looptrace_outbox_lag_seconds", "age of the oldest unpublished outbox row", ["service"]
)
RETRIES = Counter(
    "looptrace_transient_retries_total", "batches retried after a transient error", ["service"]
)
