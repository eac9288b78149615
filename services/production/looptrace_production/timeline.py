"""The timeline of one order: every stage planned vs forecast vs actual, with notes and photos."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime
from typing import Any

from pydantic import BaseModel, Field

from looptrace_production.domain import Plan, Stage, SupplierOrder
from looptrace_production.models import PhotoRow, ProgressLogRow, StageNoteRow


class NoteOut(BaseModel):
    at: datetime
    text: str
    by: str
    source: str  # "progress" (a supplier report) or "note" (posted on the timeline)


class ScreeningSummaryOut(BaseModel):
    """Quality's advisory pre-screening of an uploaded photo (details and overlay: quality's
    GET /v1/orders/{id}/photos/{photo_id}/screening)."""

    status: str  # screened | unscreenable
    reason: str | None = None
    score: float | None = None
    flagged_tiles: int | None = None


class PhotoOut(BaseModel):
    url: str
    thumbnail_url: str | None = None
    source: str  # "progress" (a URL in a report) or "upload"
    id: str | None = None  # of an upload
    screening: ScreeningSummaryOut | None = None  # of an upload, once quality screened it


class StageOut(BaseModel):
    number: int
    name: str
    status: str
    percentage: float
    qc: bool
    milestone: bool
    shipping: bool
    baseline_start: date | None
    baseline_end: date | None
    forecast_start: date | None
    forecast_end: date | None
    started_at: datetime | None
    completed_at: datetime | None
    delay_days: int
    delay_reason: str | None
    notes: list[NoteOut]
    photos: list[PhotoOut]


class WorkingDaysOut(BaseModel):
    """The calendar the plan was made with (the supplier's when the order was assigned)."""

    weekend: list[int]  # 0 = Monday … 6 = Sunday
    holidays: list[date]


class SampleMilestoneOut(BaseModel):
    kind: str
    before_stage: int
    planned_date: date | None = Field(description="scheduled backwards from the stage's start")
    forecast_date: date | None = Field(description="approved on, or expected (due date, today)")
    state: str = Field(description="approved, round N requested/submitted, or not requested")
    gates: bool = Field(description="the pre-production gate: before_stage waits for it")


class TimelineOut(BaseModel):
    order_id: str
    order_number: str
    supplier_id: str
    buyer_id: str
    product_category: str
    quantity: int
    target_date: date
    projected_completion: date
    days_late_vs_target: int
    on_track: bool
    at_risk: bool
    at_risk_reason: str | None
    completed_at: datetime | None
    closed_at: datetime | None = Field(
        default=None, description="when the order left the workflow: no more reports"
    )
    closed_as: str | None = Field(default=None, description="cancelled or completed")
    version: int
    working_days: WorkingDaysOut
    qc_gate_passed: bool = Field(description="every inspection passed: the goods may ship")
    qc_gate_waiting_for: list[str] = Field(description="what the QC gate still waits for")
    stages: list[StageOut]
    sample_milestones: list[SampleMilestoneOut] = Field(default_factory=list)
    pp_gate_waiting_for: str | None = Field(
        default=None, description="why the first bulk stage may not start yet (the PP gate)"
    )


def delay_days(stage: Stage, today: date) -> int:
    """Calendar days the stage ends (actually, or at the earliest) after its baseline; 0 if not later.

    An unfinished stage past its forecast end cannot end before today.
    """
    end = stage.completed_at.date() if stage.completed_at else stage.forecast_end
    if end is None or stage.baseline_end is None:
        return 0
    if stage.completed_at is None:
        end = max(end, today)
    return max(0, (end - stage.baseline_end).days)


def build_timeline(
    order: SupplierOrder,
    progress: list[ProgressLogRow],
    notes: list[StageNoteRow],
    photos: list[PhotoRow],
    photo_url: str,
) -> TimelineOut:
    stage_notes = _stage_notes(order, progress, notes)
    stage_photos = _stage_photos(progress, photos, photo_url)
    plan, today = order.plan, datetime.now(UTC).date()
    projected = plan.projected_completion
    stages = [
        _stage_out(
            s, sorted(stage_notes[s.number], key=lambda n: n.at), stage_photos[s.number], today
        )
        for s in plan.stages
    ]
    return TimelineOut(
        **_order_fields(order),
        projected_completion=projected,
        days_late_vs_target=max(0, (projected - order.target_date).days),
        on_track=projected <= order.target_date,
        at_risk=plan.at_risk,
        at_risk_reason=plan.at_risk_reason,
        working_days=WorkingDaysOut(
            weekend=sorted(plan.calendar.weekend), holidays=sorted(plan.calendar.holidays)
        ),
        qc_gate_passed=not (waiting := plan.gate_blockers()),
        qc_gate_waiting_for=waiting,
        stages=stages,
        **_sample_fields(plan, today),
    )


def _order_fields(order: SupplierOrder) -> dict[str, Any]:
    """The order's own facts, as the timeline names them."""
    return {
        "order_id": order.order_id,
        "order_number": order.order_number,
        "supplier_id": order.supplier_id,
        "buyer_id": order.buyer_id,
        "product_category": order.product_category,
        "quantity": order.quantity,
        "target_date": order.target_date,
        "completed_at": order.completed_at,
        "closed_at": order.closed_at,
        "closed_as": order.closed_as,
        "version": order.version,
    }


def _sample_fields(plan: Plan, today: date) -> dict[str, Any]:
    """The plan's sample milestones and what the PP gate waits for."""
    milestones = []
    for m in plan.samples.milestones:
        state, forecast = plan.samples.forecast(m, today)
        milestones.append(
            SampleMilestoneOut(
                kind=m.kind.value, before_stage=m.before_stage, planned_date=m.planned_date,
                forecast_date=forecast, state=state, gates=m.gates,
            )
        )  # fmt: skip
    gate = plan.samples.gate
    waiting = plan.sample_gate_blocker(gate.before_stage) if gate else None
    return {"sample_milestones": milestones, "pp_gate_waiting_for": waiting}


def _stage_notes(
    order: SupplierOrder, progress: list[ProgressLogRow], notes: list[StageNoteRow]
) -> dict[int, list[NoteOut]]:
    """Each stage's notes: the supplier's progress reports' notes, then the timeline's notes."""
    stage_notes: dict[int, list[NoteOut]] = defaultdict(list)
    for p in progress:
        if p.notes:
            stage_notes[p.stage_number].append(
                NoteOut(at=p.reported_at, text=p.notes, by=order.supplier_id, source="progress")
            )
    for n in notes:
        stage_notes[n.stage_number].append(
            NoteOut(at=n.created_at, text=n.text, by=n.author, source="note")
        )
    return stage_notes


def _stage_photos(
    progress: list[ProgressLogRow], photos: list[PhotoRow], photo_url: str
) -> dict[int, list[PhotoOut]]:
    """Each stage's photos: URLs in progress reports, then uploads (served under photo_url)."""
    stage_photos: dict[int, list[PhotoOut]] = defaultdict(list)
    for p in progress:
        stage_photos[p.stage_number] += [PhotoOut(url=u, source="progress") for u in p.photo_urls]
    for ph in photos:
        url = f"{photo_url}/{ph.id}"
        stage_photos[ph.stage_number].append(
            PhotoOut(
                url=url,
                thumbnail_url=f"{url}/thumbnail",
                source="upload",
                id=ph.id,
                screening=_screening(ph),
            )  # fmt: skip
        )
    return stage_photos


def _screening(ph: PhotoRow) -> ScreeningSummaryOut | None:
    if ph.screening_status is None:
        return None
    return ScreeningSummaryOut(
        status=ph.screening_status, reason=ph.screening_reason, score=ph.screening_score,
        flagged_tiles=ph.screening_flagged,
    )  # fmt: skip


def _stage_out(s: Stage, notes: list[NoteOut], photos: list[PhotoOut], today: date) -> StageOut:
    return StageOut(
        number=s.number,
        name=s.name,
        status=s.status.value,
        percentage=s.percentage,
        qc=s.qc,
        milestone=s.milestone,
        shipping=s.shipping,
        baseline_start=s.baseline_start,
        baseline_end=s.baseline_end,
        forecast_start=s.forecast_start,
        forecast_end=s.forecast_end,
        started_at=s.started_at,
        completed_at=s.completed_at,
        delay_days=delay_days(s, today),
        delay_reason=s.delay_reason.value if s.delay_reason else None,
        notes=notes,
        photos=photos,
    )
