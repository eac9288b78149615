"""The sample loop of one order, a critical path of its own, and the pre-production gate.

The buyer requests a sample of a kind with a due date (round 1); the supplier submits it
(quantity, photo and document references, courier, tracking number); the buyer approves it,
approves it with comments, or rejects it with reasons and a new due date, which opens the
next round. Each kind the category's template lists is a milestone of the T&A plan, planned
``lead_days`` working days before the stage it must precede (scheduled backwards from that
stage's baseline start, like the stages themselves).

The gate: when the template marks the pre-production milestone ``gates``, its stage (the first
bulk stage) may not start until a pre-production sample is approved. ``required``: enforced
from the plan's start; otherwise only once the buyer has requested a pre-production sample.
While the sample is not approved, the gated stage cannot start before the day after its
expected approval (the current round's due date, today once that is past): when that moves
later, the plan is re-forecast (``sample_late``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from looptrace_production.domain.forecast import Forecasting
from looptrace_production.domain.stage import utc
from looptrace_production.events import (
    DomainEvent,
    SampleApproved,
    SampleKind,
    SampleRejected,
    SampleRequested,
    SampleSubmitted,
)
from looptrace_production.rules import (
    RejectionIncomplete,
    SampleDueDateInPast,
    SampleNotAwaiting,
    UnknownSample,
)


class Decision(StrEnum):
    APPROVED = "approved"
    APPROVED_WITH_COMMENTS = "approved_with_comments"
    REJECTED = "rejected"


APPROVALS = (Decision.APPROVED, Decision.APPROVED_WITH_COMMENTS)


@dataclass(frozen=True)
class SampleMilestone:
    """A sample kind on a category's T&A plan: approved ``lead_days`` before ``before_stage``."""

    kind: SampleKind
    before_stage: int
    lead_days: int
    gates: bool = False  # the pre-production gate: ``before_stage`` waits for the approval
    required: bool = False  # the gate holds even before a sample is requested
    planned_date: date | None = None  # filled in when a plan is made


@dataclass(frozen=True)
class Submission:
    quantity: int
    photo_refs: tuple[str, ...] = ()
    document_refs: tuple[str, ...] = ()
    courier: str | None = None
    tracking_number: str | None = None


@dataclass
class Round:
    number: int
    due_date: date
    requested_at: datetime
    submission: Submission | None = None
    submitted_at: datetime | None = None
    decision: Decision | None = None
    comments: str | None = None  # the approval's comments or the rejection's reasons
    decided_at: datetime | None = None

    @property
    def status(self) -> str:
        if self.decision is not None:
            return self.decision.value
        return "submitted" if self.submission is not None else "requested"

    def days_late(self, today: date) -> int:
        """Days the submission came (or, still missing, is) after the due date."""
        arrived = self.submitted_at.date() if self.submitted_at else today
        return max(0, (arrived - self.due_date).days)


@dataclass
class Sample:
    sample_id: str
    kind: SampleKind
    rounds: list[Round]

    @property
    def current(self) -> Round:
        return self.rounds[-1]

    @property
    def approved(self) -> bool:
        return self.current.decision in APPROVALS

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind.value, "rounds": [_round_dict(r) for r in self.rounds]}

    @classmethod
    def from_dict(cls, sample_id: str, data: Mapping[str, Any]) -> Sample:
        return cls(sample_id, SampleKind(data["kind"]), [_round(r) for r in data["rounds"]])


@dataclass
class Samples:
    """The samples of one order (in request order) and its sample milestones."""

    by_id: dict[str, Sample] = field(default_factory=dict)
    milestones: tuple[SampleMilestone, ...] = ()

    def of_kind(self, kind: SampleKind) -> list[Sample]:
        return [s for s in self.by_id.values() if s.kind is kind]

    def milestone(self, kind: SampleKind) -> SampleMilestone | None:
        return next((m for m in self.milestones if m.kind is kind), None)

    @property
    def gate(self) -> SampleMilestone | None:
        return next((m for m in self.milestones if m.gates), None)

    def forecast(self, milestone: SampleMilestone, today: date) -> tuple[str, date | None]:
        """(state, date) of a milestone: approved on, expected by, or planned for."""
        samples = self.of_kind(milestone.kind)
        approved = [s for s in samples if s.approved]
        if approved:
            decided = approved[0].current.decided_at
            return "approved", decided.date() if decided else None
        if samples:
            current = samples[-1].current
            return f"round {current.number} {current.status}", max(current.due_date, today)
        return "not requested", milestone.planned_date

    def rounds_so_far(self) -> int:
        return sum(len(s.rounds) for s in self.by_id.values())

    def days_late(self, today: date) -> int:
        return sum(r.days_late(today) for s in self.by_id.values() for r in s.rounds)

    def to_dict(self) -> dict[str, Any]:
        return {
            "by_id": {k: s.to_dict() for k, s in self.by_id.items()},
            "milestones": [_milestone_dict(m) for m in self.milestones],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> Samples:
        data = data or {}
        return cls(
            {k: Sample.from_dict(k, s) for k, s in data.get("by_id", {}).items()},
            tuple(_milestone(m) for m in data.get("milestones", ())),
        )


class SampleChecks(Forecasting):
    """The sample half of ``Plan`` (which holds these attributes)."""

    samples: Samples

    def sample(self, sample_id: str) -> Sample:
        found = self.samples.by_id.get(sample_id)
        if found is None:
            raise UnknownSample(sample_id)
        return found

    def request_sample(
        self, sample_id: str, kind: SampleKind, due_date: date, now: datetime
    ) -> list[DomainEvent]:
        now = utc(now, "now")
        if due_date < now.date():
            raise SampleDueDateInPast(due_date, now.date())
        self.samples.by_id[sample_id] = Sample(sample_id, kind, [Round(1, due_date, now)])
        self.version += 1
        milestone = self.samples.milestone(kind)
        planned = milestone.planned_date if milestone else None
        requested = SampleRequested(sample_id, kind.value, 1, due_date, now, planned)
        return [requested, *self.reforecast_samples(now)]

    def submit_sample(
        self, sample_id: str, submission: Submission, now: datetime
    ) -> list[DomainEvent]:
        sample, now = self.sample(sample_id), utc(now, "now")
        current = sample.current
        if current.status != "requested":
            wants = "only a requested sample, or one asked to be resubmitted, can be submitted"
            raise SampleNotAwaiting(sample_id, current.status, wants)
        current.submission, current.submitted_at = submission, now
        self.version += 1
        s = submission
        return [
            SampleSubmitted(
                sample_id, sample.kind.value, current.number, s.quantity, s.courier,
                s.tracking_number, s.photo_refs, s.document_refs, now, current.due_date,
            )
        ]  # fmt: skip

    def decide_sample(
        self,
        sample_id: str,
        decision: Decision,
        comments: str | None,
        next_due_date: date | None,
        now: datetime,
    ) -> list[DomainEvent]:
        """Approve (with or without comments) or reject a submitted sample; a rejection opens
        the next round, due ``next_due_date``."""
        sample, now = self.sample(sample_id), utc(now, "now")
        current = sample.current
        if current.status != "submitted":
            wants = "only a submitted sample can be approved or rejected"
            raise SampleNotAwaiting(sample_id, current.status, wants)
        if decision is Decision.REJECTED:
            if next_due_date is None or not comments:
                raise RejectionIncomplete()
            if next_due_date < now.date():
                raise SampleDueDateInPast(next_due_date, now.date())
        current.decision, current.comments, current.decided_at = decision, comments, now
        self.version += 1
        kind = sample.kind.value
        if decision is Decision.REJECTED and next_due_date is not None and comments:
            sample.rounds.append(Round(current.number + 1, next_due_date, now))
            rejected = SampleRejected(sample_id, kind, current.number, comments, next_due_date, now)
            return [rejected, *self.reforecast_samples(now)]
        gate = self.samples.gate
        opened = gate is not None and sample.kind is gate.kind
        return [SampleApproved(sample_id, kind, current.number, comments, now, opened)]

    def sample_gate_blocker(self, stage_number: int) -> str | None:
        """Why ``stage_number`` may not start yet (the gate), or None."""
        gate = self.samples.gate
        if gate is None or gate.before_stage != stage_number:
            return None
        samples = self.samples.of_kind(gate.kind)
        if any(s.approved for s in samples):
            return None
        if not samples:
            return "no pre-production sample has been requested yet" if gate.required else None
        latest = samples[-1]
        return (
            f"sample {latest.sample_id}, round {latest.current.number}, is {latest.current.status}"
        )

    def expected_approval(self, today: date) -> date | None:
        """When the gate's sample is expected to be approved (None: approved or none asked)."""
        gate = self.samples.gate
        samples = self.samples.of_kind(gate.kind) if gate else []
        if not samples or any(s.approved for s in samples):
            return None
        return max(samples[-1].current.due_date, today)

    def reforecast_samples(self, now: datetime) -> list[DomainEvent]:
        """Re-forecast when the gate's sample is late: the gated stage starts after it."""
        gate, today = self.samples.gate, utc(now, "now").date()
        expected = self.expected_approval(today)
        if gate is None or expected is None:
            return []
        stage = self.stage(gate.before_stage)
        if stage.skipped or stage.started_at is not None or stage.forecast_start is None:
            return []
        earliest = self.calendar.next_working_day(expected)
        if stage.forecast_start >= earliest:
            return []
        previous = self.projected_completion
        stage.forecast_start = earliest
        stage.forecast_end = self.calendar.add_working_days(earliest, stage.duration_days - 1)
        self.version += 1
        return list(self._reforecast(previous, "sample_late", stage, moved=stage))


def _round_dict(r: Round) -> dict[str, Any]:
    out = {
        "number": r.number,
        "due_date": r.due_date.isoformat(),
        "requested_at": r.requested_at.isoformat(),
        "submitted_at": r.submitted_at.isoformat() if r.submitted_at else None,
        "decision": r.decision.value if r.decision else None,
        "comments": r.comments,
        "decided_at": r.decided_at.isoformat() if r.decided_at else None,
    }
    out["submission"] = _submission_dict(r.submission) if r.submission else None
    return out


def _submission_dict(s: Submission) -> dict[str, Any]:
    return {
        "quantity": s.quantity,
        "photo_refs": list(s.photo_refs),
        "document_refs": list(s.document_refs),
        "courier": s.courier,
        "tracking_number": s.tracking_number,
    }


def _round(d: Mapping[str, Any]) -> Round:
    sub = d.get("submission")
    submission = None
    if sub is not None:
        refs = {k: tuple(sub[k]) for k in ("photo_refs", "document_refs")}
        submission = Submission(**{**sub, **refs})
    return Round(
        number=d["number"],
        due_date=date.fromisoformat(d["due_date"]),
        requested_at=datetime.fromisoformat(d["requested_at"]),
        submission=submission,
        submitted_at=_moment(d.get("submitted_at")),
        decision=Decision(d["decision"]) if d.get("decision") else None,
        comments=d.get("comments"),
        decided_at=_moment(d.get("decided_at")),
    )


def _moment(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _milestone_dict(m: SampleMilestone) -> dict[str, Any]:
    # By hand: dataclasses.asdict deep-copies field by field, and every plan save encodes these
    return {
        "kind": m.kind.value,
        "before_stage": m.before_stage,
        "lead_days": m.lead_days,
        "gates": m.gates,
        "required": m.required,
        "planned_date": m.planned_date.isoformat() if m.planned_date else None,
    }


def _milestone(d: Mapping[str, Any]) -> SampleMilestone:
    planned = d.get("planned_date")
    return SampleMilestone(
        kind=SampleKind(d["kind"]),
        before_stage=d["before_stage"],
        lead_days=d["lead_days"],
        gates=d.get("gates", False),
        required=d.get("required", False),
        planned_date=date.fromisoformat(planned) if planned else None,
    )
