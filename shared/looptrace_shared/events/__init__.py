"""Wire contracts: one pydantic model per event type, registered with its topic.

Payload changes within a major version are additive only (new optional fields).
"""

from __future__ import annotations

from looptrace_shared.events.registry import (
    EVENT_TYPES,
    EventSpec,
    UnknownEventType,
    event_spec,
)

from . import notifications, orders, predictions, production, quality  # noqa: F401  (register)

__all__ = ["EVENT_TYPES", "EventSpec", "UnknownEventType", "event_spec"]
