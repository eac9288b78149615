"""Use cases of the sample loop (see ``domain/samples.py``): request, submit, decide.

Each loads nothing itself: the caller found (and locked) the order in its context; each asks
the plan, publishes what happened, and leaves saving and committing to the caller (the route).
"""

from __future__ import annotations

import uuid
from datetime import date

from looptrace_production.domain import SupplierOrder
from looptrace_production.domain.samples import Decision, Sample, Submission
from looptrace_production.events import SampleKind
from looptrace_production.services import ProductionContext


def request_sample(
    ctx: ProductionContext, order: SupplierOrder, kind: SampleKind, due_date: date
) -> Sample:
    """The buyer asks for a sample of ``kind`` due on ``due_date`` (round 1)."""
    sample_id = str(uuid.uuid4())
    ctx.publish(order, order.plan.request_sample(sample_id, kind, due_date, ctx.planning.now()))
    return order.plan.sample(sample_id)


def submit_sample(
    ctx: ProductionContext, order: SupplierOrder, sample_id: str, submission: Submission
) -> Sample:
    """The supplier sends the sample of the current round."""
    ctx.publish(order, order.plan.submit_sample(sample_id, submission, ctx.planning.now()))
    return order.plan.sample(sample_id)


def decide_sample(
    ctx: ProductionContext,
    order: SupplierOrder,
    sample_id: str,
    decision: Decision,
    comments: str | None,
    next_due_date: date | None,
) -> Sample:
    """The buyer approves (with comments or not) or rejects (with reasons and a new due date)."""
    now = ctx.planning.now()
    events = order.plan.decide_sample(sample_id, decision, comments, next_due_date, now)
    ctx.publish(order, events)
    return order.plan.sample(sample_id)
