"""Settings of the quality service (environment variables; see the README)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import Field

from looptrace_shared.http import ServiceRuntime
from looptrace_shared.ports import SERVICES
from looptrace_shared.settings import ServiceSettings


class QualitySettings(ServiceSettings):
    service_name: str = "quality"
    http_port: int = SERVICES["quality"]
    aql_critical: str = Field(default="0", description="default AQL of critical defects (0 = none)")
    aql_major: str = Field(default="2.5", description="default AQL of major defects")
    aql_minor: str = Field(default="4.0", description="default AQL of minor defects")
    inspection_level: str = Field(default="II", description="general inspection level")
    screening_model_path: Path = Field(
        default=Path(".looptrace/quality/screening-model.joblib"),
        description="photo pre-screening model; while missing, the synthetic baseline shipped "
        "with the package is used (`looptrace quality screening build|train` write this file)",
    )
    screening_preload: bool = Field(
        default=False,
        description="load the screening model (and scikit-learn, about 150 MB) in the "
        "background at start-up; false: at the first photo",
    )

    @property
    def default_aqls(self) -> dict[str, str]:
        return {"critical": self.aql_critical, "major": self.aql_major, "minor": self.aql_minor}


# What an HTTP route of this service gets as its runtime (no state of its own).
RuntimeDep = ServiceRuntime[QualitySettings, Any]
