"""One stage of a plan: its template (what production planned) and its state (what happened),
and the small rules of one stage on its own."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime
from typing import Any

from looptrace_production.events import DelayReason, PlannedStage, StageProgressed, StageStatus
from looptrace_production.rules import TimestampWithoutTimezone, UnknownDelayReason
from looptrace_production.templates import StageTemplate

TEMPLATE_NAMES = tuple(f.name for f in fields(StageTemplate))


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


@dataclass(slots=True)
class Stage:
    """A stage of one order: its template (fixed when the plan is made) and its state."""

    template: StageTemplate
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
        return cls(template, StageStatus.SKIPPED if skipped else StageStatus.PENDING)

    # the template's fields, read through: a stage never changes them
    @property
    def number(self) -> int:
        return self.template.number

    @property
    def name(self) -> str:
        return self.template.name

    @property
    def optional(self) -> bool:
        return self.template.optional

    @property
    def duration_days(self) -> int:
        return self.template.duration_days

    @property
    def qc(self) -> bool:
        return self.template.qc

    @property
    def milestone(self) -> bool:
        return self.template.milestone

    @property
    def shipping(self) -> bool:
        return self.template.shipping

    @property
    def depends_on(self) -> tuple[int, ...]:
        return self.template.depends_on

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
        template = self.template
        data: dict[str, Any] = {name: getattr(template, name) for name in TEMPLATE_NAMES}
        data["depends_on"] = list(template.depends_on)
        data.update({name: iso(getattr(self, name)) for name in _DATE_FIELDS})
        data["status"], data["percentage"] = self.status.value, self.percentage
        data["started_at"], data["completed_at"] = iso(self.started_at), iso(self.completed_at)
        data["delay_reason"] = self.delay_reason.value if self.delay_reason else None
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Stage:
        return cls.from_state(template_from_dict(data), data)

    @classmethod
    def from_state(
        cls,
        template: StageTemplate,
        data: Mapping[str, Any],
        day: Callable[[str | None], date | None] | None = None,
    ) -> Stage:
        """A stage of ``template`` in the state ``data`` holds (as ``to_dict`` writes it);
        ``day`` reads its dates (``plan_codec`` hands out one object per day)."""
        day = day or _date
        dates: dict[str, Any] = {name: day(data[name]) for name in _DATE_FIELDS}
        reason = data["delay_reason"]
        return cls(
            template,
            status=StageStatus(data["status"]),
            percentage=data["percentage"],
            started_at=_datetime(data["started_at"]),
            completed_at=_datetime(data["completed_at"]),
            delay_reason=DelayReason(reason) if reason else None,
            **dates,
        )


_DATE_FIELDS = ("baseline_start", "baseline_end", "forecast_start", "forecast_end", "delayed_for")


def template_from_dict(data: Mapping[str, Any]) -> StageTemplate:
    copied: dict[str, Any] = {name: data[name] for name in TEMPLATE_NAMES}
    copied["depends_on"] = tuple(data["depends_on"])
    return StageTemplate(**copied)


def matches(stage: Stage, reference: int | str) -> bool:
    if isinstance(reference, int):
        return stage.number == reference
    text = " ".join(reference.split()).casefold()
    return text == " ".join(stage.name.split()).casefold() or text == str(stage.number)


def delay_reason(report: ProgressReport) -> DelayReason | None:
    if report.delay_reason is None:
        return None
    try:
        return DelayReason(report.delay_reason)
    except ValueError:
        raise UnknownDelayReason(str(report.delay_reason)) from None


def repeats(stage: Stage, report: ProgressReport) -> bool:
    """The same percentage with nothing new to say: a duplicate, no event."""
    new_reason = report.delay_reason is not None and report.delay_reason != stage.delay_reason
    return (
        report.percentage == stage.percentage
        and not report.notes
        and not report.photo_urls
        and not new_reason
    )


def progressed(
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
        delay_reason(report),
    )


def undo(stage: Stage) -> None:
    """A correction lowered the percentage: un-complete, and un-start at 0 %."""
    stage.completed_at = None
    if stage.percentage == 0:
        stage.started_at = None
    stage.status = working_status(stage)


def working_status(stage: Stage) -> StageStatus:
    """The status of a stage that is neither completed nor late."""
    return StageStatus.IN_PROGRESS if stage.started_at else StageStatus.PENDING


def reset(stage: Stage) -> None:
    stage.status, stage.percentage, stage.delayed_for = StageStatus.PENDING, 0, None
    stage.started_at = stage.completed_at = None


def planned(stage: Stage) -> PlannedStage:
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


def utc(moment: datetime, name: str) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise TimestampWithoutTimezone(name, moment)
    return moment.astimezone(UTC)


def iso(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def _date(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def _datetime(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None
