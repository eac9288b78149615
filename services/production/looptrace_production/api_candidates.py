"""``GET /v1/suppliers/candidates``: active suppliers able to make an order, ranked, with reasons.

For each active supplier with the category among its capabilities: the plan the backward
scheduler would make with the supplier's calendar, the load it would add per week and bucket
on top of what is planned there, feasibility, and its on-time record (``domain.candidates``).
Admins only: it compares suppliers with each other.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from looptrace_production import suppliers as store
from looptrace_production import utilisation
from looptrace_production.api import planning
from looptrace_production.calendar import WorkCalendar
from looptrace_production.domain import Plan
from looptrace_production.domain import capacity as cap
from looptrace_production.domain.candidates import (
    Ask,
    Candidate,
    Scorecard,
    judge,
    ranked,
    week_loads,
)
from looptrace_production.schedule import plan_stages, template_for
from looptrace_production.services import Planning
from looptrace_production.supplier_calendars import calendars_of
from looptrace_production.suppliers import Supplier
from looptrace_production.templates import Template
from looptrace_shared.auth import AdminUser
from looptrace_shared.events.bounds import Code, Day, Quantity
from looptrace_shared.http import UowDep

router = APIRouter()


class StageOut(BaseModel):
    stage_number: int
    stage_name: str
    start: date | None
    end: date | None


class CandidateWeekOut(BaseModel):
    week: date
    bucket: str
    planned_units: float
    added_units: float
    capacity_units: int | None
    utilisation_pct: float | None
    overloaded: bool


class CandidateOut(BaseModel):
    rank: int
    supplier_id: str
    name: str
    feasible: bool
    projected_completion: date
    peak_utilisation_pct: float | None
    on_time_rate: float | None
    completed_orders: int
    qc_first_pass_rate: float | None
    reasons: list[str]
    stages: list[StageOut]
    weeks: list[CandidateWeekOut]


async def scorecards(session: AsyncSession, ids: Sequence[str]) -> dict[str, Scorecard]:
    """Finished orders per supplier, and how many finished by their target date."""
    q = text(
        """
        SELECT supplier_id, count(*) AS completed,
               count(*) FILTER (WHERE completed_at::date <= target_date) AS on_time
        FROM production.supplier_orders
        WHERE completed_at IS NOT NULL AND supplier_id = ANY(:ids)
        GROUP BY supplier_id
        """
    )
    rows = await session.execute(q, {"ids": list(ids)})
    return {r.supplier_id: Scorecard(r.completed, r.on_time) for r in rows}


Draft = tuple[Supplier, Candidate, cap.Load]


def _drafts(
    p: Planning, ask: Ask, able: list[Supplier], calendars: dict[str, WorkCalendar], has_print: bool
) -> list[Draft]:
    """Each supplier's plan and added load (suppliers of one calendar share one plan)."""
    template = template_for(p.templates, ask.category)
    drafts: list[Draft] = []
    made: dict[WorkCalendar, tuple[Plan, cap.Load]] = {}
    for s in able:
        calendar = calendars.get(s.supplier_id, p.calendar)
        if calendar not in made:
            made[calendar] = _draft(p, template, ask, calendar, has_print)
        plan, load = made[calendar]
        added = {(s.supplier_id, week, bucket): u for (_, week, bucket), u in load.items()}
        drafts.append((s, Candidate(s.supplier_id, s.profile.name, plan, [], Scorecard()), added))
    return drafts


async def candidates_for(
    session: AsyncSession, p: Planning, ask: Ask, has_print: bool
) -> list[Candidate]:
    template_for(p.templates, ask.category)  # an unknown category: 422 before any query
    suppliers = await store.all_suppliers(session, active_only=True)
    able = [s for s in suppliers if s.category(ask.category)]
    ids = [s.supplier_id for s in able]
    calendars = await calendars_of(session, ids)
    drafts = _drafts(p, ask, able, calendars, has_print)
    weeks = [k[1] for _, _, added in drafts for k in added]
    if not weeks:
        return []
    existing = await utilisation.weeks_of(session, ids, min(weeks), max(weeks))
    caps = await utilisation.capacities(session, ids)
    scores = await scorecards(session, ids)
    out, days_left = [], {}
    for s, c, added in drafts:
        c.weeks = week_loads(added, existing, caps.get(s.supplier_id, {}))
        c.score = scores.get(s.supplier_id, Scorecard())
        capability = s.category(ask.category)
        calendar = calendars.get(s.supplier_id, p.calendar)
        if calendar not in days_left:
            days_left[calendar] = calendar.working_days_between(ask.today, ask.target_date)
        expired = s.expired_certifications(ask.today)
        out.append(judge(c, ask, capability.moq, capability.lead_time_days, expired,
                         days_left[calendar]))  # fmt: skip
    return ranked(out)


def _draft(
    p: Planning, template: Template, ask: Ask, calendar: WorkCalendar, has_print: bool
) -> tuple[Plan, cap.Load]:
    """The plan with ``calendar``, and its load (supplier id left blank)."""
    plan = plan_stages(
        template, ask.target_date, ask.today, calendar, p.settings.buffer_days, has_print
    )
    loading = cap.Loading.of(ask.category, ask.quantity, calendar, plan.stages)
    return plan, loading.load(loading.signature("", plan.stages))


def candidate_out(rank: int, c: Candidate) -> CandidateOut:
    return CandidateOut(
        rank=rank,
        supplier_id=c.supplier_id,
        name=c.name,
        feasible=c.feasible,
        projected_completion=c.plan.projected_completion,
        peak_utilisation_pct=c.peak_pct,
        on_time_rate=c.score.on_time_rate,
        completed_orders=c.score.completed,
        qc_first_pass_rate=None,
        reasons=c.reasons,
        stages=[
            StageOut(
                stage_number=s.number, stage_name=s.name, start=s.forecast_start, end=s.forecast_end
            )
            for s in c.plan.stages
            if not s.skipped
        ],
        weeks=[
            CandidateWeekOut(
                week=w.week,
                bucket=w.bucket,
                planned_units=round(w.existing_units, 1),
                added_units=round(w.added_units, 1),
                capacity_units=w.capacity_units,
                utilisation_pct=w.utilisation_pct,
                overloaded=w.overloaded,
            )
            for w in c.weeks
        ],
    )


@router.get("/suppliers/candidates")
async def supplier_candidates(
    category: Annotated[Code, Query(description="product category, e.g. knitwear")],
    quantity: Annotated[Quantity, Query()],
    target_date: Annotated[Day, Query(description="ex-factory date")],
    uow: UowDep,
    user: AdminUser,
    request: Request,
    print_: Annotated[bool, Query(alias="print", description="the order has print")] = True,
    certification: Annotated[list[Code] | None, Query(description="required, repeatable")] = None,
) -> list[CandidateOut]:
    """Active suppliers able to make the order, best first, each with its reasons."""
    p = planning(request)
    ask = Ask(category, quantity, target_date, p.now().date(), tuple(certification or ()))
    found = await candidates_for(uow.session, p, ask, print_)
    return [candidate_out(n, c) for n, c in enumerate(found, start=1)]
