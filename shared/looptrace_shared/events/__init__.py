"""Wire contracts: one pydantic model per event type, registered with its topic.

Payload changes within a major version are additive only (new optional fields).
"""

from __future__ import annotations

from looptrace_shared.events import (  # noqa: F401  (register)
    notifications,
    orders,
    predictions,
    production,
    quality,
    suppliers,
)
from looptrace_shared.events.registry import (
    EVENT_TYPES,
    EventSpec,
    UnknownEventType,
    event_spec,
)

__all__ = ["EVENT_TYPES", "EventSpec", "UnknownEventType", "event_spec"]
