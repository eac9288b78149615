"""Forecasting a plan: push not-started stages after their prerequisites, and mark the late.

- Re-forecast only pushes later stages back: when a stage starts or finishes early, later
  stages keep their forecast (the slack absorbs a later slip). Started stages are anchored
  on their actual start and never moved by re-forecast.
- Durations are inclusive working days: a 3-day stage starting Monday ends Wednesday; the
  next stage starts the following working day (finish-to-start).
- A plan is always *settled*: every not-started stage starts after its prerequisites end and
  lasts its full duration. A new plan's schedule is, and every change that moves a stage's
  dates ends with a re-forecast, so after a change to one stage only what depends on it is
  pushed again (the rest would come out the same). ``settle`` is the full pass.
"""

from __future__ import annotations

from datetime import date, datetime

from looptrace_production.calendar import Calendar
from looptrace_production.domain.layout import Layout
from looptrace_production.domain.stage import Stage, matches, utc, working_status
from looptrace_production.events import PlanReforecast, StageDelayed, StageStarted, StageStatus
from looptrace_production.rules import UnknownStage


class Forecasting:
    """Reading and forecasting a plan: the half of ``Plan`` that moves dates (``Plan`` holds
    these attributes)."""

    target_date: date
    calendar: Calendar
    stages: list[Stage]
    layout: Layout
    version: int

    def stage(self, reference: int | str) -> Stage:
        if isinstance(reference, int):  # the common case, on every forecast step: by number
            for stage in self.stages:
                if stage.number == reference:
                    return stage
        for stage in self.stages:
            if matches(stage, reference):
                return stage
        raise UnknownStage(reference, [stage.label for stage in self.stages])

    @property
    def active_stages(self) -> tuple[Stage, ...]:
        return self.layout.active

    @property
    def projected_completion(self) -> date:
        ends = [stage.forecast_end for stage in self.layout.active if stage.forecast_end]
        return max(ends, default=self.target_date)

    def prerequisites_of(self, stage: Stage) -> tuple[Stage, ...]:
        """Stages that must be done before ``stage`` starts; skipped ones pass on their own."""
        return self.layout.prerequisites[stage.number]

    def dependents_of(self, stage: Stage) -> list[Stage]:
        return [
            other
            for other in self.layout.active
            if any(before is stage for before in self.layout.prerequisites[other.number])
        ]

    def downstream_of(self, stage: Stage) -> list[Stage]:
        found: list[Stage] = []
        for dependent in self.dependents_of(stage):
            for later in (dependent, *self.downstream_of(dependent)):
                if later not in found:
                    found.append(later)
        return sorted(found, key=lambda later: later.number)

    def _start(self, stage: Stage, started_at: datetime) -> StageStarted:
        """Anchor ``stage`` on its actual start, for its full duration."""
        planned_start = stage.baseline_start
        stage.status, stage.started_at = StageStatus.IN_PROGRESS, started_at
        stage.forecast_start = started_at.date()
        stage.forecast_end = self.calendar.add_working_days(
            stage.forecast_start, stage.duration_days - 1
        )
        first = stage is self.layout.active[0]
        return StageStarted(stage.number, stage.name, started_at, first, planned_start)

    def _reforecast(
        self,
        previous: date,
        reason: str,
        stage: Stage | None = None,
        always: bool = False,
        moved: Stage | None = None,
    ) -> list[PlanReforecast]:
        """Re-forecast after a change; ``moved``: the one stage whose dates changed (else all
        not-started stages are pushed after their prerequisites)."""
        if moved is not None:
            self._push_downstream_of(moved)
        else:
            self.settle()
        projected = self.projected_completion
        if projected == previous and not always:
            return []
        if projected != previous and reason.startswith("stage_"):
            reason += "_late" if projected > previous else "_early"
        slip = self.calendar.working_days_between(previous, projected)
        number, name = (stage.number, stage.name) if stage else (None, None)
        return [PlanReforecast(projected, previous, slip, reason, self.target_date, number, name)]

    def settle(self) -> None:
        """Push every not-started stage after its prerequisites' forecast end."""
        # one pass suffices: templates only depend on earlier (lower-numbered) stages
        for later in self.layout.active:
            if later.started_at is None and later.forecast_start is not None:
                self._push_after_prerequisites(later)

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
            before.forecast_end
            for before in self.layout.prerequisites[stage.number]
            if before.forecast_end
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
        today = utc(now, "now").date()
        events: list[StageDelayed] = []
        before = [stage.status for stage in self.stages]
        for stage in self.layout.active:
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
            stage.status = StageStatus.DELAYED if late else working_status(stage)
        if events or before != [stage.status for stage in self.stages]:
            self.version += 1
        return events
