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
    # the model's interval of the delay (None from the baseline rule, which gives none):
    # the delay lies between delay_p10_days and delay_p90_days with probability
    # interval_level (0.8 = P10 to P90); expected_delay_days is the P50
    delay_p10_days: float | None = None
    delay_p90_days: float | None = None
    interval_level: float | None = None
    # the completion date range of that interval (target date + P10 / P90 of the lateness)
    projected_completion_earliest: date | None = None
    projected_completion_latest: date | None = None
