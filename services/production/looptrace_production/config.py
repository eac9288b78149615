"""Settings of the production service (environment variables; see the README)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from pydantic import Field

from looptrace_shared.ports import SERVICES
from looptrace_shared.settings import ServiceSettings

# decoded plans the plan cache keeps (see plan_cache.py for what one costs)
PLAN_CACHE_SIZE = 15_000


class ProductionSettings(ServiceSettings):
    service_name: str = "production"
    http_port: int = SERVICES["production"]
    # larger batches in four lanes: every row a progress report touches belongs to its own
    # order, so two orders' transactions never wait on each other; while the last lane waits
    # on PostgreSQL the others are done (measured: bench/production_kafka_bench.py)
    kafka_max_batch: int = Field(default=5000, ge=1)
    kafka_batch_lanes: int = Field(default=4, ge=1)

    buffer_days: int = Field(
        default=2, ge=0, description="working days kept free before the target date"
    )
    clock_skew_s: float = Field(
        default=300.0, ge=0, description="how far in the future reported_at may be"
    )
    sweep_interval_s: float = Field(
        default=60.0, gt=0, description="how often late stages are marked delayed"
    )
    sweep_batch: int = Field(default=500, ge=1, description="plans per sweeper transaction")
    templates_file: Path | None = Field(
        default=None, description="stage templates YAML (default: built in)"
    )
    photo_dir: Path = Field(
        default=Path(".looptrace/photos"), description="where uploaded photos are stored"
    )
    photo_max_bytes: int = Field(
        default=10 * 1024 * 1024, ge=1, description="largest photo accepted"
    )
    photo_thumbnail_px: int = Field(
        default=320, ge=16, le=4096, description="longest side of a thumbnail"
    )
    photo_max_pixels: int = Field(
        default=40_000_000, ge=1, description="largest photo accepted, in pixels (width x height)"
    )
    document_dir: Path = Field(
        default=Path(".looptrace/documents"), description="where order documents are stored"
    )
    document_max_bytes: int = Field(
        default=10 * 1024 * 1024, ge=1, description="largest order document accepted"
    )
    plan_cache_size: int = Field(
        default=PLAN_CACHE_SIZE,
        ge=0,
        description="decoded plans kept in memory between batches (least recently used "
        "dropped first; a plan not kept is read from the database); about 4.7 KB of Python "
        "objects each for 10 stages",
    )
    utilisation_fold_s: float = Field(
        default=5.0,
        gt=0,
        description="how often planned-load changes are folded into the "
        "supplier-week utilisation (and overload / recovery events emitted)",
    )
    gc_threshold: tuple[int, int, int] = Field(
        default=(500_000, 100, 1000),
        description="Python's cyclic GC thresholds (gc.set_threshold): with the defaults "
        "(700, 10, 10) the collector keeps re-scanning the plan cache's long-lived plans",
    )

    @property
    def clock_skew(self) -> timedelta:
        return timedelta(seconds=self.clock_skew_s)
