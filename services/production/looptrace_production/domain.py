"""Production stages of one supplier order: the time-and-action plan, its rules and events.

Choices worth knowing:
- Durations are inclusive working days: a 3-day stage starting Monday ends Wednesday; the
  next stage starts the following working day (finish-to-start).
- Dates are the UTC date of reported timestamps.
- Re-forecast only pushes later stages back: when a stage starts or finishes early, later
  stages keep their forecast (the slack absorbs a later slip). Started stages are anchored
  on their actual start and never moved by re-forecast.
- Rework after a failed QC reopens the last non-QC, non-skipped stage before the failed QC
  stage (restarted at the time of the failure, for its full duration) and resets every stage
  downstream of it (the failed QC stage included, and any other
  QC stage in between, so inspections are redone after the rework).
- Corrections (``correction=True``) may lower a percentage but cannot un-complete a stage
  whose dependents already started. A stage corrected to 0 % is no longer anchored on its
  start and is pushed after its prerequisites again; otherwise corrections keep forecasts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from looptrace_production.calendar import WorkCalendar
from looptrace_production.events import (
    DelayReason,
    DomainEvent,
    PlannedStage,
    PlanReforecast,
    ProductionCompleted,
    QualityGatePassed,
    StageCompleted,
    StageDelayed,
    StageProgressed,
    StageReopened,
    StagesInitialized,
    StageStarted,
    StageStatus,
)
from looptrace_production.qc_gate import Inspections, InspectionStatus, QcGateClosed
from looptrace_production.rules import (
    CompletedBeforeStarted,
    DependentStageAlreadyStarted,
    NoStageToRework,
    NotAQualityStage,
    PercentageOutOfRange,
    PrerequisiteStageNotDone,
    ReportedBeforeStageStarted,
    ReportedInTheFuture,
    StageCannotGoBackwards,
    StageWasSkipped,
    TimestampWithoutTimezone,
    UnknownDelayReason,
    UnknownStage,
)
from looptrace_production.templates import StageTemplate

CLOCK_SKEW = timedelta(minutes=5)


@dataclass(slots=True)  # a value built for every report: not frozen (see events)
class ProgressReport:
    """A supplier's report on one stage; ``stage`` is its number or name (any case)."""

    message_id: str
    stage: int | str
    percentage: float
    reported_at: datetime
    notes: str | None = None
    photo_urls: tuple[str, ...] = ()
    correction: bool = False
    delay_reason: DelayReason | str | None = None  # a DelayReason code


@dataclass
class Stage:
    number: int
    name: str
    duration_days: int
    optional: bool = False
    qc: bool = False
    milestone: bool = False
    shipping: bool = False
    depends_on: tuple[int, ...] = ()
    status: StageStatus = StageStatus.PENDING
    percentage: float = 0
    baseline_start: date | None = None
    baseline_end: date | None = None
    forecast_start: date | None = None
    forecast_end: date | None = None
    started_at: datetime | None = None
    completed_at: datetime | None = None
    delay_reason: DelayReason | None = None
    delayed_for: date | None = None  # forecast_end for which StageDelayed was last emitted

    @classmethod
    def from_template(cls, template: StageTemplate, skipped: bool) -> Stage:
        status = StageStatus.SKIPPED if skipped else StageStatus.PENDING
        return cls(**{name: getattr(template, name) for name in TEMPLATE_FIELDS}, status=status)

    @property
    def label(self) -> str:
        return f"stage {self.number} ({self.name})"

    @property
    def skipped(self) -> bool:
        return self.status is StageStatus.SKIPPED

    @property
    def done(self) -> bool:
        return self.status in (StageStatus.COMPLETED, StageStatus.SKIPPED)

    def to_dict(self) -> dict[str, Any]:
        # field by field rather than over vars(): this runs for every stage of every saved plan
        data: dict[str, Any] = {name: getattr(self, name) for name in TEMPLATE_FIELDS}
        data["depends_on"] = list(self.depends_on)
        data.update({name: _iso(getattr(self, name)) for name in _DATE_FIELDS})
        data["status"], data["percentage"] = self.status.value, self.percentage
        data["started_at"], data["completed_at"] = _iso(self.started_at), _iso(self.completed_at)
        data["delay_reason"] = self.delay_reason.value if self.delay_reason else None
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Stage:
        copied: dict[str, Any] = {name: data[name] for name in TEMPLATE_FIELDS}
        copied["depends_on"] = tuple(data["depends_on"])
        dates: dict[str, Any] = {name: _date(data[name]) for name in _DATE_FIELDS}
        return cls(
            **copied,
            **dates,
            status=StageStatus(data["status"]),
            percentage=data["percentage"],
            started_at=_datetime(data["started_at"]),
            completed_at=_datetime(data["completed_at"]),
            delay_reason=DelayReason(data["delay_reason"]) if data["delay_reason"] else None,
        )


TEMPLATE_FIELDS = (
    "number",
    "name",
    "duration_days",
    "optional",
    "qc",
    "milestone",
    "shipping",
    "depends_on",
)
_DATE_FIELDS = ("baseline_start", "baseline_end", "forecast_start", "forecast_end", "delayed_for")


@dataclass
class Plan:
    """The time-and-action plan of one supplier order. ``version`` grows on every change."""

    category: str
    target_date: date
    buffer_days: int
    calendar: WorkCalendar
    stages: list[Stage]
    at_risk: bool = False
    at_risk_reason: str | None = None
    version: int = 1
    inspections: Inspections = field(default_factory=Inspections)  # what quality booked
    # True once a re-forecast found every not-started stage after its prerequisites; it stays
    # true until a stage's dates move, so a report that moves no date skips the re-forecast.
    # Kept in memory only: a plan just built or read re-forecasts on its first report.
    _settled: bool = field(default=False, init=False, repr=False, compare=False)
    # the stages not skipped: which those are is fixed when the plan is made (only an optional
    # stage is skipped, and only then), so the list is worked out once per plan in memory
    _active: list[Stage] | None = field(default=None, init=False, repr=False, compare=False)
    # and so is each stage's list of prerequisites (by stage number)
    _prerequisites: dict[int, list[Stage]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    # the stages' template fields as plan_codec stores them: fixed once the plan is made too
    stored_templates: list[Any] | None = field(default=None, init=False, repr=False, compare=False)

    # -- reading --

    def stage(self, reference: int | str) -> Stage:
        if isinstance(reference, int):  # the common case, on every forecast step: by number
            for stage in self.stages:
                if stage.number == reference:
                    return stage
        for stage in self.stages:
            if _matches(stage, reference):
                return stage
        raise UnknownStage(reference, [stage.label for stage in self.stages])

    @property
    def active_stages(self) -> list[Stage]:
        if self._active is None:
            self._active = [stage for stage in self.stages if not stage.skipped]
        return self._active

    @property
    def projected_completion(self) -> date:
        ends = [stage.forecast_end for stage in self.active_stages if stage.forecast_end]
        return max(ends, default=self.target_date)

    def prerequisites_of(self, stage: Stage) -> list[Stage]:
        """Stages that must be done before ``stage`` starts; skipped ones pass on their own."""
        found = self._prerequisites.get(stage.number)
        if found is None:
            found = self._prerequisites[stage.number] = self._find_prerequisites(stage)
        return found

    def _find_prerequisites(self, stage: Stage) -> list[Stage]:
        found: list[Stage] = []
        for number in stage.depends_on:
            before = self.stage(number)
            for prerequisite in self.prerequisites_of(before) if before.skipped else [before]:
                if all(prerequisite is not known for known in found):
                    found.append(prerequisite)
        return found

    def dependents_of(self, stage: Stage) -> list[Stage]:
        return [
            other
            for other in self.active_stages
            if any(before is stage for before in self.prerequisites_of(other))
        ]

    def downstream_of(self, stage: Stage) -> list[Stage]:
        found: list[Stage] = []
        for dependent in self.dependents_of(stage):
            for later in (dependent, *self.downstream_of(dependent)):
                if later not in found:
                    found.append(later)
        return sorted(found, key=lambda later: later.number)

    def initialized(self) -> StagesInitialized:
        return StagesInitialized(
            stages=tuple(_planned(stage) for stage in self.stages),
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
        reported_at = self._check_report(stage, report, _utc(now, "now"), clock_skew)
        if _repeats(stage, report):
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
        reported_at = _utc(report.reported_at, "reported_at")
        if reported_at > now + clock_skew:
            raise ReportedInTheFuture(reported_at, now, clock_skew)
        if report.percentage < stage.percentage and not report.correction:
            raise StageCannotGoBackwards(stage.label, stage.percentage, report.percentage)
        _delay_reason(report)
        return reported_at

    def _check_transition(self, stage: Stage, percentage: float, reported_at: datetime) -> None:
        if percentage > 0:
            missing = [before.label for before in self.prerequisites_of(stage) if not before.done]
            if missing:
                raise PrerequisiteStageNotDone(stage.label, missing)
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
        previous_projection = self.projected_completion if moves or not self._settled else None
        if starts:
            events.append(self._start(stage, reported_at))
        stage.percentage = report.percentage
        stage.delay_reason = _delay_reason(report) or stage.delay_reason
        events.append(_progressed(stage, report, previous_percentage, reported_at))
        if completes:
            events.append(self._complete(stage, reported_at))
        elif report.percentage < previous_percentage:
            _undo(stage)
        verb = "completed" if completes else "started" if starts else "corrected"
        if previous_projection is not None:  # else no date moved: the forecast stands
            events.extend(
                self._reforecast(previous_projection, f"stage_{verb}", stage, moved=stage)
            )
        if completes and all(later.done for later in self.stages):
            events.append(ProductionCompleted(reported_at, self.target_date))
        return events

    def _start(self, stage: Stage, started_at: datetime) -> StageStarted:
        planned_start = stage.baseline_start
        stage.status, stage.started_at = StageStatus.IN_PROGRESS, started_at
        stage.forecast_start = started_at.date()
        stage.forecast_end = self.calendar.add_working_days(
            stage.forecast_start, stage.duration_days - 1
        )
        first = stage is self.active_stages[0]
        return StageStarted(stage.number, stage.name, started_at, first, planned_start)

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

    # -- forecast and delays --

    def _reforecast(
        self,
        previous: date,
        reason: str,
        stage: Stage | None = None,
        always: bool = False,
        moved: Stage | None = None,
    ) -> list[PlanReforecast]:
        """Push every not-started stage after its prerequisites' forecast end.

        ``moved``: the only stage whose dates changed since the plan was last settled; then
        only what depends on it is pushed again (the rest would come out the same).
        """
        if moved is not None and self._settled:
            self._push_downstream_of(moved)
        else:
            for later in self.active_stages:
                if later.started_at is None and later.forecast_start is not None:
                    self._push_after_prerequisites(later)
        # one pass suffices: templates only depend on earlier (lower-numbered) stages
        self._settled = True
        projected = self.projected_completion
        if projected == previous and not always:
            return []
        if projected != previous and reason.startswith("stage_"):
            reason += "_late" if projected > previous else "_early"
        slip = self.calendar.working_days_between(previous, projected)
        number, name = (stage.number, stage.name) if stage else (None, None)
        return [PlanReforecast(projected, previous, slip, reason, self.target_date, number, name)]

    def _push_downstream_of(self, moved: Stage) -> None:
        """Re-forecast a settled plan after ``moved`` changed: only its dependents can move.

        A skipped stage passes a change on to its dependents. In a settled plan every
        not-started stage ends ``duration_days`` after its start, so a stage whose start does
        not move keeps its end.
        """
        if moved.started_at is None and moved.forecast_start is not None:
            self._push_after_prerequisites(moved)
        changed = {moved.number}
        for later in self.stages:
            if later.number <= moved.number or changed.isdisjoint(later.depends_on):
                continue
            if later.skipped:
                changed.add(later.number)
            elif later.started_at is None and later.forecast_start is not None:
                if self._push_after_prerequisites(later, keep_end=True):
                    changed.add(later.number)

    def _push_after_prerequisites(self, stage: Stage, keep_end: bool = False) -> bool:
        """Start ``stage`` after its prerequisites end; whether its dates moved.

        ``keep_end``: the end already follows from the start; keep it if the start stays.
        """
        assert stage.forecast_start is not None
        ends = [
            before.forecast_end for before in self.prerequisites_of(stage) if before.forecast_end
        ]
        start = stage.forecast_start
        if ends:
            start = max(start, self.calendar.next_working_day(max(ends)))
        if keep_end and start == stage.forecast_start:
            return False
        was = stage.forecast_start, stage.forecast_end
        stage.forecast_start = start
        stage.forecast_end = self.calendar.add_working_days(start, stage.duration_days - 1)
        return (stage.forecast_start, stage.forecast_end) != was

    def mark_delayed(self, now: datetime) -> list[StageDelayed]:
        """Mark stages past their forecast end as delayed; one event per forecast end missed.

        A delayed stage whose forecast end moved back into the future returns to
        pending/in_progress without an event.
        """
        today = _utc(now, "now").date()
        events: list[StageDelayed] = []
        before = [stage.status for stage in self.stages]
        for stage in self.active_stages:
            if stage.status is StageStatus.COMPLETED or stage.forecast_end is None:
                continue
            late = today > stage.forecast_end
            if late and stage.delayed_for != stage.forecast_end:
                stage.delayed_for = stage.forecast_end
                days = (today - stage.forecast_end).days
                events.append(
                    StageDelayed(
                        stage.number, stage.name, days, stage.forecast_end, stage.delay_reason
                    )
                )
            stage.status = StageStatus.DELAYED if late else _working_status(stage)
        if events or before != [stage.status for stage in self.stages]:
            self.version += 1
        return events

    # -- the QC gate (qc_gate) --

    def gate_blockers(self, before: int | None = None) -> list[str]:
        """What keeps the QC gate closed for completing stage ``before`` (None: shipping)."""
        qc_stages = [stage for stage in self.active_stages if stage.qc]
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
        return [QualityGatePassed(self.inspections.passed_ids(), _utc(now, "now"))]

    # -- rework --

    def reopen_for_rework(
        self,
        qc_stage_number: int | None,
        now: datetime,
        reason: DelayReason | str = DelayReason.QUALITY_REWORK,
    ) -> list[DomainEvent]:
        """A QC failed: reopen the production stage before it and everything downstream."""
        reopened_at, cause = _utc(now, "now"), DelayReason(reason)
        failed = self._failed_quality_stage(qc_stage_number)
        rework = self._stage_to_rework(failed)
        previous_projection = self.projected_completion
        events: list[DomainEvent] = [StageReopened(rework.number, rework.name, reopened_at, cause)]
        _reset(rework)
        self._start(rework, reopened_at)  # the rework restarts the stage now, full duration
        rework.delay_reason = cause
        downstream = self.downstream_of(rework)
        for later in downstream if failed in downstream else [*downstream, failed]:
            if later.started_at or later is failed:
                events.append(StageReopened(later.number, later.name, reopened_at, cause))
            _reset(later)
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
        candidates = [stage for stage in self.active_stages if stage.qc and stage.started_at]
        if not candidates:
            raise NoStageToRework("a QC stage", "no QC stage of this order has started")
        done = [stage for stage in candidates if stage.status is StageStatus.COMPLETED]
        return (done or candidates)[-1]

    def _stage_to_rework(self, failed: Stage) -> Stage:
        earlier = [s for s in self.active_stages if s.number < failed.number and not s.qc]
        if not earlier:
            raise NoStageToRework(failed.label, "no production stage precedes it")
        if earlier[-1].started_at is None:
            raise NoStageToRework(failed.label, f"{earlier[-1].label} has not started yet")
        return earlier[-1]

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
        if stages:
            data["stages"] = [stage.to_dict() for stage in self.stages]
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Plan:
        return cls(
            category=data["category"],
            target_date=date.fromisoformat(data["target_date"]),
            buffer_days=data["buffer_days"],
            calendar=WorkCalendar.from_dict(data["calendar"]),
            stages=[Stage.from_dict(stage) for stage in data["stages"]],
            at_risk=data["at_risk"],
            at_risk_reason=data["at_risk_reason"],
            version=data["version"],
            inspections=Inspections.from_dict(data.get("inspections")),
        )


# --- small pieces -------------------------------------------------------------------------


def _matches(stage: Stage, reference: int | str) -> bool:
    if isinstance(reference, int):
        return stage.number == reference
    text = " ".join(reference.split()).casefold()
    return text == " ".join(stage.name.split()).casefold() or text == str(stage.number)


def _delay_reason(report: ProgressReport) -> DelayReason | None:
    if report.delay_reason is None:
        return None
    try:
        return DelayReason(report.delay_reason)
    except ValueError:
        raise UnknownDelayReason(str(report.delay_reason)) from None


def _repeats(stage: Stage, report: ProgressReport) -> bool:
    """The same percentage with nothing new to say: a duplicate, no event."""
    new_reason = report.delay_reason is not None and report.delay_reason != stage.delay_reason
    return (
        report.percentage == stage.percentage
        and not report.notes
        and not report.photo_urls
        and not new_reason
    )


def _progressed(
    stage: Stage, report: ProgressReport, previous: float, reported_at: datetime
) -> StageProgressed:
    return StageProgressed(
        stage.number,
        stage.name,
        report.percentage,
        previous,
        reported_at,
        report.message_id,
        report.notes,
        tuple(report.photo_urls),
        report.correction,
        _delay_reason(report),
    )


def _undo(stage: Stage) -> None:
    """A correction lowered the percentage: un-complete, and un-start at 0 %."""
    stage.completed_at = None
    if stage.percentage == 0:
        stage.started_at = None
    stage.status = _working_status(stage)


def _working_status(stage: Stage) -> StageStatus:
    """The status of a stage that is neither completed nor late."""
    return StageStatus.IN_PROGRESS if stage.started_at else StageStatus.PENDING


def _reset(stage: Stage) -> None:
    stage.status, stage.percentage, stage.delayed_for = StageStatus.PENDING, 0, None
    stage.started_at = stage.completed_at = None


def _planned(stage: Stage) -> PlannedStage:
    return PlannedStage(
        stage.number,
        stage.name,
        stage.status,
        stage.baseline_start,
        stage.baseline_end,
        stage.qc,
        stage.milestone,
        stage.shipping,
    )


def _utc(moment: datetime, name: str) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise TimestampWithoutTimezone(name, moment)
    return moment.astimezone(UTC)


def _iso(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def _date(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def _datetime(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None
