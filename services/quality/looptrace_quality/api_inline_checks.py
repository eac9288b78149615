"""HTTP routes of inline checks: defects found at a production stage, and their DHU."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter
from pydantic import BaseModel, Field

from looptrace_quality.api_common import STAFF, context, readable_lot
from looptrace_quality.config import RuntimeDep
from looptrace_quality.models import InlineCheckRow
from looptrace_quality.services.inline_checks import InlineDefect, InlineReport, record_inline_check
from looptrace_shared.auth import Roles
from looptrace_shared.events.bounds import (
    DEFECTS_MAX,
    QUANTITY_MAX,
    Code,
    Count,
    Moment,
    Name,
    Note,
)
from looptrace_shared.events.quality import DefectClass, DefectType
from looptrace_shared.http import UowDep
from looptrace_shared.params import IdPath

router = APIRouter()


class InlineDefectIn(BaseModel):
    defect_type: DefectType = Field(
        description="code from the defect catalogue, e.g. BROKEN_STITCH"
    )
    count: Count = Field(default=1, description="how many of this type were found")
    defect_class: DefectClass | None = Field(
        default=None, description="critical | major | minor; defaults to the type's class"
    )


class InlineCheckIn(BaseModel):
    stage: Code = Field(description="the stage checked, e.g. 'Sewing & Assembly'")
    units_checked: Annotated[int, Field(ge=-(2**31), le=QUANTITY_MAX)] = Field(
        description="units checked at the stage (at least 1)"
    )
    defects: list[InlineDefectIn] = Field(default_factory=list, max_length=DEFECTS_MAX)
    inspector: Name | None = Field(default=None, description="defaults to the caller")
    notes: Note | None = None
    checked_at: Moment | None = Field(default=None, description="defaults to now")


class InlineCheckOut(BaseModel):
    id: str
    order_id: str
    supplier_id: str
    stage: str
    units_checked: int
    defects: list[dict[str, object]]
    defects_by_class: dict[str, int]
    defects_found: int
    dhu: Decimal = Field(description="defects per hundred units")
    inspector: str
    notes: str | None
    checked_at: datetime


def report_of(body: InlineCheckIn, inspector: str) -> InlineReport:
    defects = [InlineDefect(d.defect_type, d.count, d.defect_class) for d in body.defects]
    return InlineReport(
        body.stage, body.units_checked, body.inspector or inspector, defects, body.notes,
        body.checked_at,
    )  # fmt: skip


def inline_out(row: InlineCheckRow) -> InlineCheckOut:
    return InlineCheckOut.model_validate(row, from_attributes=True)


@router.post("/orders/{order_id}/inline-inspections", status_code=201)
async def inline_inspection(
    order_id: IdPath, body: InlineCheckIn, uow: UowDep, rt: RuntimeDep, user: Roles(*STAFF)
) -> InlineCheckOut:
    """Record an inline check at a stage of the order; the answer carries its DHU."""
    lot = await readable_lot(uow, user, order_id, to_change=True)
    row = await record_inline_check(context(uow, rt, user), lot, report_of(body, user.subject))
    await uow.commit()
    return inline_out(row)
