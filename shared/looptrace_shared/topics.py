"""Topic names, in one place. ``<domain>.<kind>.v<major>``; dead letters on ``<topic>.dlq``."""

from __future__ import annotations

ORDERS_INBOUND = "orders.inbound.v1"
ORDERS_EVENTS = "orders.events.v1"
PRODUCTION_PROGRESS = "production.progress.v1"
PRODUCTION_EVENTS = "production.events.v1"
# supplier master data from upstream systems (its own topic: progress keeps one event type,
# which lets production parse a report in one validation pass)
PRODUCTION_SUPPLIERS = "production.suppliers.v1"
QUALITY_INBOUND = "quality.inbound.v1"
QUALITY_EVENTS = "quality.events.v1"
PREDICTIONS_ALERTS = "predictions.alerts.v1"
NOTIFICATIONS_OUTBOUND = "notifications.outbound.v1"

ALL_TOPICS: tuple[str, ...] = (
    ORDERS_INBOUND,
    ORDERS_EVENTS,
    PRODUCTION_PROGRESS,
    PRODUCTION_EVENTS,
    PRODUCTION_SUPPLIERS,
    QUALITY_INBOUND,
    QUALITY_EVENTS,
    PREDICTIONS_ALERTS,
    NOTIFICATIONS_OUTBOUND,
)

DLQ_SUFFIX = ".dlq"


def dlq(topic: str) -> str:
    return topic if topic.endswith(DLQ_SUFFIX) else topic + DLQ_SUFFIX


def all_topics_with_dlq() -> list[str]:
    return [*ALL_TOPICS, *(dlq(t) for t in ALL_TOPICS)]
