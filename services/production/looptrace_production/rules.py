"""Business rules of production progress: each refusal is a named RuleViolation."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from looptrace_production.events import DelayReason
from looptrace_shared.errors import RuleViolation


class UnknownCategory(RuleViolation):
    rule = "unknown_category"

    def __init__(self, category: str, known: Iterable[str]) -> None:
        super().__init__(
            f"no stage template for product category {category!r}; "
            f"use one of: {', '.join(sorted(known))} (operators can add categories)"
        )


class UnknownStage(RuleViolation):
    rule = "unknown_stage"

    def __init__(self, reference: int | str, known: Iterable[str]) -> None:
        super().__init__(
            f"this order has no stage {reference!r}; report one of: {', '.join(known)}"
        )


class StageWasSkipped(RuleViolation):
    rule = "stage_skipped"

    def __init__(self, label: str) -> None:
        super().__init__(f"{label} is skipped for this order (no print); do not report on it")


class PercentageOutOfRange(RuleViolation):
    rule = "percentage_out_of_range"

    def __init__(self, label: str, percentage: float) -> None:
        super().__init__(f"{label}: percentage {percentage} is outside 0–100; send 0 to 100")


class UnknownDelayReason(RuleViolation):
    rule = "unknown_delay_reason"

    def __init__(self, reason: str) -> None:
        super().__init__(
            f"unknown delay_reason {reason!r}; use one of: "
            f"{', '.join(code.value for code in DelayReason)}"
        )


class StageCannotGoBackwards(RuleViolation):
    rule = "stage_cannot_go_backwards"

    def __init__(self, label: str, recorded: float, reported: float) -> None:
        super().__init__(
            f"{label} is already at {recorded} %, the report says {reported} %; "
            "send a value of at least the recorded one, or set correction=true to lower it"
        )


class PrerequisiteStageNotDone(RuleViolation):
    rule = "prerequisite_stage_not_done"

    def __init__(self, label: str, missing: Iterable[str]) -> None:
        super().__init__(
            f"{label} cannot start before {', '.join(missing)} is completed; "
            "report those stages complete first"
        )


class TimestampWithoutTimezone(RuleViolation):
    rule = "timestamp_without_timezone"

    def __init__(self, name: str, value: datetime) -> None:
        super().__init__(
            f"{name} {value.isoformat()} has no time zone; send ISO 8601 with an offset, "
            "e.g. 2025-03-05T10:00:00+07:00"
        )


class ReportedInTheFuture(RuleViolation):
    rule = "reported_in_the_future"

    def __init__(self, reported_at: datetime, now: datetime, skew: timedelta) -> None:
        super().__init__(
            f"reported_at {reported_at.isoformat()} is in the future (now {now.isoformat()}, "
            f"allowed clock skew {skew}); check the device clock and time zone"
        )


class ReportedBeforeStageStarted(RuleViolation):
    rule = "reported_before_stage_started"

    def __init__(self, label: str, reported_at: datetime, started_at: datetime) -> None:
        super().__init__(
            f"{label} started at {started_at.isoformat()}, the report is dated "
            f"{reported_at.isoformat()}, before that; send the report's real date"
        )


class CompletedBeforeStarted(ReportedBeforeStageStarted):
    rule = "completed_before_started"


class DependentStageAlreadyStarted(RuleViolation):
    rule = "dependent_stage_already_started"

    def __init__(self, label: str, dependents: Iterable[str]) -> None:
        super().__init__(
            f"{label} cannot be corrected below 100 % because {', '.join(dependents)} "
            "already started; correct those stages to 0 % first"
        )


class NotAQualityStage(RuleViolation):
    rule = "not_a_quality_stage"

    def __init__(self, label: str) -> None:
        super().__init__(f"{label} is not a QC stage; name the QC stage that failed")


class NoStageToRework(RuleViolation):
    rule = "no_stage_to_rework"

    def __init__(self, label: str, why: str) -> None:
        super().__init__(f"cannot rework before {label}: {why}")


class QcGateClosed(RuleViolation):
    rule = "qc_gate_closed"
    status = 409
    title = "The QC gate is closed"

    def __init__(self, label: str, blockers: Iterable[str]) -> None:
        super().__init__(
            f"{label} cannot complete before every inspection so far has passed "
            f"({'; '.join(blockers)}); report it below 100 % until the inspection passes "
            "(production.quality_gate_passed), or have an admin grant a concession"
        )


class PpSampleNotApproved(RuleViolation):
    rule = "pp_sample_not_approved"
    status = 409
    title = "The pre-production sample is not approved"

    def __init__(self, label: str, why: str) -> None:
        super().__init__(
            f"{label} is bulk production and cannot start before the pre-production sample is "
            f"approved ({why}); report it at 0 % until the buyer approves the sample "
            "(production.sample_approved)"
        )


class UnknownSample(RuleViolation):
    rule = "unknown_sample"
    status = 404
    title = "Not found"

    def __init__(self, sample_id: str) -> None:
        super().__init__(f"this order has no sample {sample_id!r}; list them with GET .../samples")


class SampleNotAwaiting(RuleViolation):
    rule = "sample_not_awaiting"
    status = 409
    title = "The sample is not at that step"

    def __init__(self, sample_id: str, status: str, wants: str) -> None:
        super().__init__(f"sample {sample_id} is {status}; {wants}")


class SampleDueDateInPast(RuleViolation):
    rule = "sample_due_date_in_past"

    def __init__(self, due: object, today: object) -> None:
        super().__init__(f"due_date {due} is before today ({today}); give a date from today on")


class RejectionIncomplete(RuleViolation):
    rule = "rejection_incomplete"

    def __init__(self) -> None:
        super().__init__(
            "a rejection needs its reasons (comments) and next_due_date, the resubmission's date"
        )


class OrderClosed(RuleViolation):
    rule = "order_closed"
    status = 409
    title = "The order is closed"

    def __init__(self, order_number: str, status: str, at: datetime) -> None:
        super().__init__(
            f"order {order_number} was {status} on {at.date().isoformat()}; production takes "
            "no more reports for it (its remaining capacity was released)"
        )


class OrderCancelled(OrderClosed):
    rule = "order_cancelled"
    title = "The order is cancelled"
