"""HTTP schemas and routes of the quality service."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from looptrace_quality import repository as repo
from looptrace_quality import services as uc
from looptrace_quality.api_aql import router as aql_router
from looptrace_quality.api_common import (
    STAFF,
    CursorParam,
    Limit,
    Page,
    context,
    may_read_supplier,
    next_cursor,
    parse_cursor,
    readable_inspection,
    readable_lot,
)
from looptrace_quality.api_inline_checks import router as inline_router
from looptrace_quality.api_screening import router as screening_router
from looptrace_quality.api_suppliers import router as suppliers_router
from looptrace_quality.config import RuntimeDep
from looptrace_quality.models import InspectionRow
from looptrace_quality.services import Stage
from looptrace_shared.auth import AdminUser, CurrentUser, Roles
from looptrace_shared.events import quality as ev
from looptrace_shared.events.bounds import (
    DEFECTS_MAX,
    LIST_MAX,
    QUANTITY_MAX,
    Code,
    Count,
    Id,
    Moment,
    Name,
    Note,
    StageNumber,
    Url,
)
from looptrace_shared.http import UowDep
from looptrace_shared.params import IdPath

router = APIRouter(prefix="/v1", tags=["quality"])


class InspectionOut(BaseModel):
    id: str
    order_id: str
    supplier_id: str
    stage_number: int | None
    stage_name: str | None
    round: int
    reinspection_of: str | None
    lot_size: int
    severity: str
    plan: dict[str, Any]
    status: str
    disposition: str | None
    sample_inspected: int | None
    defects_by_class: dict[str, int] | None
    dhu: Decimal | None
    summary: str | None
    inspector: str | None
    notes: str | None
    photo_urls: list[str]
    concession_reason: str | None
    concession_by: str | None
    scheduled_at: datetime
    decided_at: datetime | None


def out(row: InspectionRow) -> InspectionOut:
    return InspectionOut.model_validate(row, from_attributes=True)


@router.get("/orders/{order_id}/inspections")
async def order_inspections(
    order_id: IdPath, uow: UowDep, user: CurrentUser, cursor: CursorParam = None, limit: Limit = 50
) -> Page[InspectionOut]:
    """The order's inspections in booking order (buyers: their own orders only)."""
    await readable_lot(uow, user, order_id)
    rows = await repo.inspections_page(uow.session, parse_cursor(cursor), limit, order_id=order_id)
    return Page[InspectionOut](items=[out(r) for r in rows], next_cursor=next_cursor(rows, limit))


@router.get("/suppliers/{supplier_id}/inspections")
async def supplier_inspections(
    supplier_id: IdPath,
    uow: UowDep,
    user: CurrentUser,
    cursor: CursorParam = None,
    limit: Limit = 50,
) -> Page[InspectionOut]:
    """The supplier's inspections in booking order (staff, or the supplier itself)."""
    may_read_supplier(user, supplier_id)
    after = parse_cursor(cursor)
    rows = await repo.inspections_page(uow.session, after, limit, supplier_id=supplier_id)
    return Page[InspectionOut](items=[out(r) for r in rows], next_cursor=next_cursor(rows, limit))


@router.get("/inspections/{inspection_id}")
async def get_inspection(inspection_id: IdPath, uow: UowDep, user: CurrentUser) -> InspectionOut:
    return out(await readable_inspection(uow, user, inspection_id))


class BookingIn(BaseModel):
    order_id: Id
    lot_size: int | None = Field(
        default=None, ge=2, le=QUANTITY_MAX, description="defaults to the order quantity"
    )
    stage_number: StageNumber | None = None
    stage_name: Code | None = None


@router.post("/inspections", status_code=201)
async def book_inspection(
    body: BookingIn, uow: UowDep, rt: RuntimeDep, user: Roles(*STAFF)
) -> InspectionOut:
    stage = Stage(body.stage_number, body.stage_name) if body.stage_number is not None else None
    row = await uc.book_on_request(context(uow, rt, user), body.order_id, body.lot_size, stage)
    await uow.commit()
    return out(row)


class ResultIn(BaseModel):
    inspector: Name | None = Field(default=None, description="defaults to the caller")
    sample_inspected: Count = Field(description="units inspected; not more than the lot")
    defects: list[ev.DefectCount] = Field(default_factory=list, max_length=DEFECTS_MAX)
    notes: Note | None = None
    photo_urls: list[Url] = Field(default_factory=list, max_length=LIST_MAX)
    inspected_at: Moment | None = None


@router.post("/inspections/{inspection_id}/result")
async def submit_result(
    inspection_id: IdPath, body: ResultIn, uow: UowDep, rt: RuntimeDep, user: Roles(*STAFF)
) -> InspectionOut:
    row = await readable_inspection(uow, user, inspection_id, to_change=True)
    cmd = ev.InspectionResultSubmitted(
        **body.model_dump(exclude={"inspector"}), order_id=row.order_id,
        inspection_id=row.id, inspector=body.inspector or user.subject,
    )  # fmt: skip
    row = await uc.submit_result(context(uow, rt, user), cmd)
    await uow.commit()
    return out(row)


class ConcessionIn(BaseModel):
    reason: Note = Field(min_length=1, description="why the rejected lot may ship")


@router.post("/inspections/{inspection_id}/concession")
async def concession(
    inspection_id: IdPath, body: ConcessionIn, uow: UowDep, rt: RuntimeDep, user: AdminUser
) -> InspectionOut:
    row = await uc.concede(context(uow, rt, user), inspection_id, body.reason, user.role)
    await uow.commit()
    return out(row)


for _routes in (aql_router, inline_router, suppliers_router, screening_router):
    router.include_router(_routes)
