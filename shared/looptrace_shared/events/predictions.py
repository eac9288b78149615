"""Delay-risk alerts."""

from __future__ import annotations

from datetime import date

from looptrace_shared.events.registry import Payload, event
from looptrace_shared.topics import PREDICTIONS_ALERTS


@event("predictions.delay_risk", PREDICTIONS_ALERTS)
class DelayRisk(Payload):
    order_id: str
    order_number: str | None = None
    risk_level: str
    previous_risk_level: str | None = None
    probability: float
    expected_delay_days: float
    projected_completion: date | None = None
    drivers: list[str]
    recommended_actions: list[str]
    model_version: str
    baseline: bool = False
