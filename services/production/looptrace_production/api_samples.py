"""HTTP routes of the sample loop: the buyer requests and decides, the supplier submits.

A buyer reaches only its own orders, a supplier only the orders assigned to it; anyone
else's order answers 404, as if it were not there. Every change is one transaction: the
plan, the events it published, the commit.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field, model_validator

from looptrace_production import sample_loop as uc
from looptrace_production.api import can_see, planning, visible_order
from looptrace_production.domain import SupplierOrder
from looptrace_production.domain.samples import Decision, Round, Sample, Submission
from looptrace_production.events import SampleKind
from looptrace_production.services import ProductionContext
from looptrace_shared.auth import CurrentUser, Principal, Roles
from looptrace_shared.errors import NotFound
from looptrace_shared.events.bounds import LIST_MAX, Code, Day, Note, Quantity, Url
from looptrace_shared.http import UowDep
from looptrace_shared.params import IdPath

router = APIRouter(prefix="/v1", tags=["samples"])


class SampleRequestIn(BaseModel):
    kind: SampleKind
    due_date: Day = Field(description="when the supplier must send the sample (from today on)")


class SubmissionIn(BaseModel):
    quantity: Quantity
    photo_refs: list[Url] = Field(default_factory=list, max_length=LIST_MAX)
    document_refs: list[Url] = Field(default_factory=list, max_length=LIST_MAX)
    courier: Code | None = None
    tracking_number: Code | None = None


class DecisionIn(BaseModel):
    decision: Literal["approved", "approved_with_comments", "rejected"]
    comments: Note | None = Field(
        default=None, description="the comments of an approval, the reasons of a rejection"
    )
    next_due_date: Day | None = Field(default=None, description="a rejection's resubmission date")

    @model_validator(mode="after")
    def _complete(self) -> DecisionIn:
        if self.decision != "approved" and not (self.comments or "").strip():
            what = "reasons" if self.decision == "rejected" else "comments"
            raise ValueError(f"{self.decision} needs comments: give the {what}")
        if self.decision == "rejected" and self.next_due_date is None:
            raise ValueError("rejected needs next_due_date: when the resubmission is due")
        if self.decision != "rejected" and self.next_due_date is not None:
            raise ValueError("next_due_date is only for a rejection; leave it out")
        return self


class RoundOut(BaseModel):
    number: int
    status: str
    due_date: date
    requested_at: datetime
    submitted_at: datetime | None
    quantity: int | None
    photo_refs: list[str]
    document_refs: list[str]
    courier: str | None
    tracking_number: str | None
    comments: str | None
    decided_at: datetime | None
    days_late: int


class SampleOut(BaseModel):
    sample_id: str
    kind: str
    status: str = Field(description="the current round's: requested, submitted, approved, …")
    round: int
    due_date: date
    planned_date: date | None = Field(description="the kind's T&A milestone, if the plan has one")
    rounds: list[RoundOut]


def _round_out(r: Round, today: date) -> RoundOut:
    s = r.submission
    return RoundOut(
        number=r.number, status=r.status, due_date=r.due_date, requested_at=r.requested_at,
        submitted_at=r.submitted_at, quantity=s.quantity if s else None,
        photo_refs=list(s.photo_refs) if s else [], document_refs=list(s.document_refs) if s else [],
        courier=s.courier if s else None, tracking_number=s.tracking_number if s else None,
        comments=r.comments, decided_at=r.decided_at, days_late=r.days_late(today),
    )  # fmt: skip


def sample_out(order: SupplierOrder, sample: Sample, today: date) -> SampleOut:
    milestone = order.plan.samples.milestone(sample.kind)
    return SampleOut(
        sample_id=sample.sample_id,
        kind=sample.kind.value,
        status=sample.current.status,
        round=sample.current.number,
        due_date=sample.current.due_date,
        planned_date=milestone.planned_date if milestone else None,
        rounds=[_round_out(r, today) for r in sample.rounds],
    )


async def _locked(ctx: ProductionContext, user: Principal, order_id: str) -> SupplierOrder:
    """The order, locked for a change, if the caller may see it (else 404)."""
    order = await ctx.find(order_id)
    if order is None or not can_see(user, order):
        raise NotFound(f"no order {order_id!r} in production visible to you")
    return order


async def _commit(ctx: ProductionContext, order: SupplierOrder, sample: Sample) -> SampleOut:
    await ctx.save()
    await ctx.uow.commit()
    return sample_out(order, sample, ctx.planning.now().date())


@router.get("/orders/{order_id}/samples")
async def list_samples(
    order_id: IdPath, uow: UowDep, user: CurrentUser, request: Request
) -> list[SampleOut]:
    """The order's samples in request order, each with its rounds."""
    ctx = ProductionContext(uow, planning(request))
    order = await visible_order(ctx, user, order_id)
    today = ctx.planning.now().date()
    return [sample_out(order, s, today) for s in order.plan.samples.by_id.values()]


@router.post("/orders/{order_id}/samples", status_code=201)
async def request_sample(
    order_id: IdPath, body: SampleRequestIn, uow: UowDep, user: Roles("buyer"), request: Request
) -> SampleOut:
    """Ask the supplier for a sample of a kind, due on a date."""
    ctx = ProductionContext(uow, planning(request))
    order = await _locked(ctx, user, order_id)
    return await _commit(ctx, order, uc.request_sample(ctx, order, body.kind, body.due_date))


@router.post("/orders/{order_id}/samples/{sample_id}/submission")
async def submit_sample(
    order_id: IdPath,
    sample_id: IdPath,
    body: SubmissionIn,
    uow: UowDep,
    user: Roles("supplier"),
    request: Request,
) -> SampleOut:
    """Send the sample of the current round (after a rejection: the resubmission)."""
    ctx = ProductionContext(uow, planning(request))
    order = await _locked(ctx, user, order_id)
    submission = Submission(
        body.quantity, tuple(body.photo_refs), tuple(body.document_refs),
        body.courier, body.tracking_number,
    )  # fmt: skip
    return await _commit(ctx, order, uc.submit_sample(ctx, order, sample_id, submission))


@router.post("/orders/{order_id}/samples/{sample_id}/decision")
async def decide_sample(
    order_id: IdPath,
    sample_id: IdPath,
    body: DecisionIn,
    uow: UowDep,
    user: Roles("buyer"),
    request: Request,
) -> SampleOut:
    """Approve, approve with comments, or reject with reasons and a resubmission date."""
    ctx = ProductionContext(uow, planning(request))
    order = await _locked(ctx, user, order_id)
    decision = Decision(body.decision)
    sample = uc.decide_sample(ctx, order, sample_id, decision, body.comments, body.next_due_date)
    return await _commit(ctx, order, sample)
