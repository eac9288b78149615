"""Delay-risk and quality-risk alerts."""

from __future__ import annotations

from datetime import date

from pydantic import Field

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


@event("predictions.quality_risk", PREDICTIONS_ALERTS)
class QualityRisk(Payload):
    """Advisory: how likely the order's next lot inspection is rejected (never a verdict; the
    lot decision stays with the ISO 2859-1 inspection)."""

    order_id: str
    order_number: str | None = None
    buyer_id: str | None = None
    supplier_id: str | None = None
    risk_level: str = Field(description="low | medium | high")
    previous_risk_level: str | None = None
    probability: float = Field(description="P(the next inspection is rejected)")
    baseline_probability: float = Field(
        description="the supplier's historical rejection rate (beta prior for a new supplier)"
    )
    inspection_stage: str = Field(description="the QC stage whose inspection is next")
    inspection_round: int = Field(default=1, description="1 = first inspection of the stage")
    drivers: list[str]
    recommended_actions: list[str]
    model_version: str
    baseline: bool = Field(default=False, description="scored by the baseline (no model)")
