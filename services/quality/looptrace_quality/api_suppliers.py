"""HTTP routes of a supplier's quality record: severity, pass rate, DHU trends, resumption."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter
from pydantic import BaseModel, Field, StringConstraints

from looptrace_quality import repository as repo
from looptrace_quality.api_common import context, may_read_supplier
from looptrace_quality.config import RuntimeDep
from looptrace_quality.services.suppliers import resume_supplier
from looptrace_quality.switching import SupplierSeverity
from looptrace_shared.auth import AdminUser, CurrentUser
from looptrace_shared.events.bounds import NOTE_MAX
from looptrace_shared.http import UowDep
from looptrace_shared.params import IdPath

router = APIRouter()
TREND_LOTS, TREND_WEEKS = 10, 12


class WeeklyDhuOut(BaseModel):
    week: date = Field(description="the Monday of the week (UTC)")
    checks: int
    units_checked: int
    defects_found: int
    dhu: Decimal


class SupplierQualityOut(BaseModel):
    supplier_id: str
    severity: str
    discontinued: bool
    inspections_decided: int
    pass_rate: Decimal | None = Field(description="share of decided lots accepted on inspection")
    dhu_trend: list[Decimal] = Field(description="DHU of the latest decided lots, oldest first")
    inline_dhu_by_week: list[WeeklyDhuOut] = Field(
        description=f"DHU of inline checks per week, the latest {TREND_WEEKS} weeks, oldest first"
    )


async def severity_of(uow: UowDep, supplier_id: str) -> SupplierSeverity:
    stored = await repo.supplier_state(uow.session, supplier_id, lock=False)
    return SupplierSeverity.from_dict(stored.state) if stored else SupplierSeverity()


def pass_rate(counts: dict[str, int]) -> Decimal | None:
    decided = sum(counts.values())
    if not decided:
        return None
    return (Decimal(counts.get("accepted", 0)) / decided).quantize(Decimal("0.001"))


async def inline_trend(uow: UowDep, supplier_id: str) -> list[WeeklyDhuOut]:
    weeks = await repo.weekly_inline_dhu(uow.session, supplier_id, TREND_WEEKS)
    return [
        WeeklyDhuOut(week=w.week, checks=w.checks, units_checked=w.units_checked,
                     defects_found=w.defects_found, dhu=w.dhu)
        for w in weeks
    ]  # fmt: skip


@router.get("/suppliers/{supplier_id}/quality")
async def supplier_quality(
    supplier_id: IdPath, uow: UowDep, user: CurrentUser
) -> SupplierQualityOut:
    may_read_supplier(user, supplier_id)
    counts = await repo.outcome_counts(uow.session, supplier_id)
    latest = await repo.decided_of_supplier(uow.session, supplier_id, TREND_LOTS)
    state = await severity_of(uow, supplier_id)
    return SupplierQualityOut(
        supplier_id=supplier_id, severity=state.severity.value, discontinued=state.discontinued,
        inspections_decided=sum(counts.values()), pass_rate=pass_rate(counts),
        dhu_trend=[r.dhu for r in reversed(latest) if r.dhu is not None],
        inline_dhu_by_week=await inline_trend(uow, supplier_id),
    )  # fmt: skip


class ResumeIn(BaseModel):
    reason: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=NOTE_MAX)
    ] = Field(description="the supplier's corrective action that justifies resuming")


class SeverityOut(BaseModel):
    supplier_id: str
    severity: str
    discontinued: bool


@router.post("/suppliers/{supplier_id}/resume")
async def resume(
    supplier_id: IdPath, body: ResumeIn, uow: UowDep, rt: RuntimeDep, user: AdminUser
) -> SeverityOut:
    """Resume a discontinued supplier after corrective action: its next lots are on tightened."""
    state = await resume_supplier(context(uow, rt, user), supplier_id, body.reason)
    await uow.commit()
    return SeverityOut(
        supplier_id=supplier_id, severity=state.severity.value, discontinued=state.discontinued
    )
