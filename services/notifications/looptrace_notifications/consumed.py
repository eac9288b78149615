"""What the notifications service consumes: its topics and the event types they carry.

Its own module because both the consumer (``handlers``) and the webhook rules (``webhooks``: a
webhook can carry any consumed type) need it.
"""

from __future__ import annotations

from looptrace_shared.events import EVENT_TYPES
from looptrace_shared.topics import (
    ORDERS_EVENTS,
    PREDICTIONS_ALERTS,
    PRODUCTION_EVENTS,
    QUALITY_EVENTS,
)

TOPICS = (ORDERS_EVENTS, PRODUCTION_EVENTS, QUALITY_EVENTS, PREDICTIONS_ALERTS)
CONSUMED = {t for t, spec in EVENT_TYPES.items() if spec.topic in TOPICS}
