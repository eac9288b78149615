"""The time-and-action plan of one supplier order: progress reports, their rules and events.

Choices worth knowing (forecasting: ``forecast.py``; the QC gate and rework: ``rework.py``):
- Dates are the UTC date of reported timestamps.
- Corrections (``correction=True``) may lower a percentage but cannot un-complete a stage
  whose dependents already started. A stage corrected to 0 % is no longer anchored on its
  start and is pushed after its prerequisites again; otherwise corrections keep forecasts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from looptrace_production.calendar import Calendar, WorkCalendar
from looptrace_production.domain.layout import Layout
from looptrace_production.domain.rework import QualityChecks
from looptrace_production.domain.samples import SampleChecks, Samples
from looptrace_production.domain.stage import (
    ProgressReport,
    Stage,
    delay_reason,
    planned,
    progressed,
    repeats,
    undo,
    utc,
)
from looptrace_production.events import (
    DomainEvent,
    ProductionCompleted,
    StageCompleted,
    StagesInitialized,
    StageStatus,
)
from looptrace_production.qc_gate import Inspections, QcGateClosed
from looptrace_production.rules import (
    CompletedBeforeStarted,
    DependentStageAlreadyStarted,
    PercentageOutOfRange,
    PpSampleNotApproved,
    PrerequisiteStageNotDone,
    ReportedBeforeStageStarted,
    ReportedInTheFuture,
    StageCannotGoBackwards,
    StageWasSkipped,
)

CLOCK_SKEW = timedelta(minutes=5)


@dataclass
class Plan(QualityChecks, SampleChecks):
    """The time-and-action plan of one supplier order. ``version`` grows on every change."""

    category: str
    target_date: date
    buffer_days: int
    calendar: Calendar
    stages: list[Stage]
    at_risk: bool = False
    at_risk_reason: str | None = None
    version: int = 1
    inspections: Inspections = field(default_factory=Inspections)  # what quality booked
    samples: Samples = field(default_factory=Samples)  # the sample loop and its milestones
    layout: Layout = field(init=False, repr=False, compare=False)  # from the stages, fixed

    def __post_init__(self) -> None:
        self.layout = Layout.of(self.stages)

    def initialized(self) -> StagesInitialized:
        return StagesInitialized(
            stages=tuple(planned(stage) for stage in self.stages),
            at_risk=self.at_risk,
            at_risk_reason=self.at_risk_reason,
            projected_completion=self.projected_completion,
            target_date=self.target_date,
        )

    # -- progress --

    def apply_progress(
        self, report: ProgressReport, now: datetime, clock_skew: timedelta = CLOCK_SKEW
    ) -> list[DomainEvent]:
        """Validate the report against every rule, then record it; no change if a rule fails."""
        stage = self.stage(report.stage)
        reported_at = self._check_report(stage, report, utc(now, "now"), clock_skew)
        if repeats(stage, report):
            return []
        self._check_transition(stage, report.percentage, reported_at)
        events = self._record(stage, report, reported_at)
        self.version += 1
        return events

    def _check_report(
        self, stage: Stage, report: ProgressReport, now: datetime, clock_skew: timedelta
    ) -> datetime:
        if stage.skipped:
            raise StageWasSkipped(stage.label)
        if not 0 <= report.percentage <= 100:
            raise PercentageOutOfRange(stage.label, report.percentage)
        reported_at = utc(report.reported_at, "reported_at")
        if reported_at > now + clock_skew:
            raise ReportedInTheFuture(reported_at, now, clock_skew)
        if report.percentage < stage.percentage and not report.correction:
            raise StageCannotGoBackwards(stage.label, stage.percentage, report.percentage)
        delay_reason(report)
        return reported_at

    def _check_transition(self, stage: Stage, percentage: float, reported_at: datetime) -> None:
        if percentage > 0:
            prerequisites = self.layout.prerequisites[stage.number]
            missing = [before.label for before in prerequisites if not before.done]
            if missing:
                raise PrerequisiteStageNotDone(stage.label, missing)
            if stage.started_at is None and (why := self.sample_gate_blocker(stage.number)):
                raise PpSampleNotApproved(stage.label, why)
        if percentage > 0 and stage.started_at and reported_at < stage.started_at:
            error = CompletedBeforeStarted if percentage == 100 else ReportedBeforeStageStarted
            raise error(stage.label, reported_at, stage.started_at)
        if percentage == 100 and stage.status is not StageStatus.COMPLETED:
            blockers = self.gate_blockers(before=stage.number)
            if blockers:
                raise QcGateClosed(stage.label, blockers)
        if stage.status is StageStatus.COMPLETED and percentage < 100:
            started = [later.label for later in self.dependents_of(stage) if later.started_at]
            if started:
                raise DependentStageAlreadyStarted(stage.label, started)

    def _record(
        self, stage: Stage, report: ProgressReport, reported_at: datetime
    ) -> list[DomainEvent]:
        previous_percentage = stage.percentage
        events: list[DomainEvent] = []
        starts = report.percentage > 0 and stage.started_at is None
        completes = report.percentage == 100 and stage.status is not StageStatus.COMPLETED
        moves = starts or completes or report.percentage < previous_percentage
        previous_projection = self.projected_completion if moves else None
        if starts:
            events.append(self._start(stage, reported_at))
        stage.percentage = report.percentage
        stage.delay_reason = delay_reason(report) or stage.delay_reason
        events.append(progressed(stage, report, previous_percentage, reported_at))
        if completes:
            events.append(self._complete(stage, reported_at))
        elif report.percentage < previous_percentage:
            undo(stage)
        verb = "completed" if completes else "started" if starts else "corrected"
        if previous_projection is not None:  # else no date moved: the (settled) forecast stands
            events.extend(
                self._reforecast(previous_projection, f"stage_{verb}", stage, moved=stage)
            )
        if completes and all(later.done for later in self.stages):
            events.append(ProductionCompleted(reported_at, self.target_date))
        return events

    def _complete(self, stage: Stage, completed_at: datetime) -> StageCompleted:
        stage.status, stage.completed_at = StageStatus.COMPLETED, completed_at
        stage.forecast_end = completed_at.date()
        return StageCompleted(
            stage.number,
            stage.name,
            completed_at,
            stage.qc,
            stage.milestone,
            stage.shipping,
            stage.baseline_end,
        )

    # -- storage --

    def to_dict(self, stages: bool = True, calendar: Any = None) -> dict[str, Any]:
        """Plain JSON data; without ``stages`` when the caller encodes those itself, and with
        ``calendar`` as given (e.g. already encoded) instead of ``calendar.to_dict()``."""
        data: dict[str, Any] = {
            "category": self.category,
            "target_date": self.target_date.isoformat(),
            "buffer_days": self.buffer_days,
            "calendar": self.calendar.to_dict() if calendar is None else calendar,
            "at_risk": self.at_risk,
            "at_risk_reason": self.at_risk_reason,
            "version": self.version,
            "inspections": self.inspections.to_dict(),
        }
        if self.samples.by_id or self.samples.milestones:
            data["samples"] = self.samples.to_dict()
        if stages:
            data["stages"] = [stage.to_dict() for stage in self.stages]
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], stages: list[Stage] | None = None) -> Plan:
        """A plan from ``to_dict``'s data; ``stages`` when the caller decoded those itself."""
        return cls(
            category=data["category"],
            target_date=date.fromisoformat(data["target_date"]),
            buffer_days=data["buffer_days"],
            calendar=WorkCalendar.from_dict(data["calendar"]),
            stages=[Stage.from_dict(s) for s in data["stages"]] if stages is None else stages,
            at_risk=data["at_risk"],
            at_risk_reason=data["at_risk_reason"],
            version=data["version"],
            inspections=Inspections.from_dict(data.get("inspections")),
            samples=Samples.from_dict(data.get("samples")),
        )
