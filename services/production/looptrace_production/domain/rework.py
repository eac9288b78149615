"""The QC side of a plan: the gate quality's inspections hold, and rework after a failure.

Rework after a failed QC reopens the last non-QC, non-skipped stage before the failed QC stage
(restarted at the time of the failure, for its full duration) and resets every stage
downstream of it (the failed QC stage included, and any other QC stage in between, so
inspections are redone after the rework).
"""

from __future__ import annotations

from datetime import datetime

from looptrace_production.domain.forecast import Forecasting
from looptrace_production.domain.stage import Stage, reset, utc
from looptrace_production.events import (
    DelayReason,
    DomainEvent,
    QualityGatePassed,
    StageReopened,
    StageStatus,
)
from looptrace_production.qc_gate import Inspections, InspectionStatus
from looptrace_production.rules import NoStageToRework, NotAQualityStage, StageWasSkipped


class QualityChecks(Forecasting):
    """The QC half of ``Plan`` (which holds these attributes)."""

    inspections: Inspections

    def gate_blockers(self, before: int | None = None) -> list[str]:
        """What keeps the QC gate closed for completing stage ``before`` (None: shipping)."""
        qc_stages = [stage for stage in self.layout.active if stage.qc]
        return self.inspections.blockers(qc_stages, before)

    def record_inspection(
        self, inspection_id: str, stage: int | None, status: InspectionStatus, now: datetime
    ) -> list[DomainEvent]:
        """Keep quality's fact; say so when it was the last inspection the gate waited for."""
        if not self.inspections.record(inspection_id, stage, status):
            return []
        self.version += 1
        if status is not InspectionStatus.PASSED or self.gate_blockers():
            return []
        return [QualityGatePassed(self.inspections.passed_ids(), utc(now, "now"))]

    def reopen_for_rework(
        self,
        qc_stage_number: int | None,
        now: datetime,
        reason: DelayReason | str = DelayReason.QUALITY_REWORK,
    ) -> list[DomainEvent]:
        """A QC failed: reopen the production stage before it and everything downstream."""
        reopened_at, cause = utc(now, "now"), DelayReason(reason)
        failed = self._failed_quality_stage(qc_stage_number)
        rework = self._stage_to_rework(failed)
        previous_projection = self.projected_completion
        events: list[DomainEvent] = [StageReopened(rework.number, rework.name, reopened_at, cause)]
        reset(rework)
        self._start(rework, reopened_at)  # the rework restarts the stage now, full duration
        rework.delay_reason = cause
        downstream = self.downstream_of(rework)
        for later in downstream if failed in downstream else [*downstream, failed]:
            if later.started_at or later is failed:
                events.append(StageReopened(later.number, later.name, reopened_at, cause))
            reset(later)
        events.extend(self._reforecast(previous_projection, cause.value, failed, always=True))
        self.version += 1
        return events

    def _failed_quality_stage(self, number: int | None) -> Stage:
        if number is not None:
            stage = self.stage(number)
            if not stage.qc:
                raise NotAQualityStage(stage.label)
            if stage.skipped:
                raise StageWasSkipped(stage.label)
            return stage
        candidates = [stage for stage in self.layout.active if stage.qc and stage.started_at]
        if not candidates:
            raise NoStageToRework("a QC stage", "no QC stage of this order has started")
        done = [stage for stage in candidates if stage.status is StageStatus.COMPLETED]
        return (done or candidates)[-1]

    def _stage_to_rework(self, failed: Stage) -> Stage:
        earlier = [s for s in self.layout.active if s.number < failed.number and not s.qc]
        if not earlier:
            raise NoStageToRework(failed.label, "no production stage precedes it")
        if earlier[-1].started_at is None:
            raise NoStageToRework(failed.label, f"{earlier[-1].label} has not started yet")
        return earlier[-1]
