"""Settings of the predictions service (environment variables; see the README)."""

from __future__ import annotations

from pydantic import Field

from looptrace_shared.ports import SERVICES
from looptrace_shared.settings import ServiceSettings


class PredictionsSettings(ServiceSettings):
    service_name: str = "predictions"
    http_port: int = SERVICES["predictions"]
    predictions_model_dir: str = Field(
        default=".looptrace/models",
        description="PREDICTIONS_MODEL_DIR: the model registry (versions + ACTIVE); "
        "no active version = the baseline rule serves",
    )
    predictions_quality_model_dir: str | None = Field(
        default=None,
        description="PREDICTIONS_QUALITY_MODEL_DIR: the quality-risk model registry; default "
        "<model dir>/quality; no active version = the supplier baseline serves",
    )
    hysteresis_margin: float = Field(
        default=0.05, ge=0.0, le=0.2, description="P(late) margin before a level changes"
    )
    model_reload_s: float = Field(
        default=10.0, gt=0, description="how often the worker checks for a newly promoted model"
    )
    rescore_interval_s: float = Field(
        default=3600.0, gt=0, description="how often open orders not scored today are rescored"
    )

    @property
    def model_dir(self) -> str:
        return self.predictions_model_dir

    @property
    def quality_model_dir(self) -> str:
        return self.predictions_quality_model_dir or f"{self.predictions_model_dir}/quality"
