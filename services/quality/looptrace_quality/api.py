"""HTTP schemas and routes of the quality service."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from looptrace_quality import repository as repo
from looptrace_quality import services as uc
from looptrace_quality.aql import SamplingError, sampling_plan
from looptrace_quality.config import QualitySettings
from looptrace_quality.models import InspectionRow
from looptrace_quality.services import QualityContext, Stage
from looptrace_quality.switching import SupplierSeverity
from looptrace_shared.auth import CurrentUser, Principal
from looptrace_shared.errors import Forbidden, NotFound, as_rule_violation
from looptrace_shared.events import quality as ev
from looptrace_shared.http import RuntimeDep, UowDep

router = APIRouter(prefix="/v1", tags=["quality"])
STAFF = ("inspector", "admin")


class PlanOut(BaseModel):
    original_code_letter: str
    code_letter: str
    sample_size: int
    accept: int
    reject: int
    full_inspection: bool


@router.get("/aql/plan")
async def aql_plan(
    lot_size: Annotated[int, Query(description="units in the lot")],
    aql: Annotated[str, Query(description="e.g. 0.65, 1.0, 2.5, 4.0")],
    level: str = "II",
    severity: str = "normal",
) -> PlanOut:
    """The ISO 2859-1 single-sampling plan (public; the same answer as `looptrace aql plan`)."""
    try:
        return PlanOut(**sampling_plan(lot_size, aql, level, severity).to_dict())
    except SamplingError as err:
        raise as_rule_violation(err) from err


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


def may_read(user: Principal, supplier_id: str) -> None:
    if user.role in STAFF or (user.role == "supplier" and user.subject == supplier_id):
        return
    if user.role == "buyer":
        raise Forbidden("buyers read inspection outcomes on their order's timeline, not here")
    raise NotFound("no such inspections visible to you")


async def visible(uow: UowDep, user: Principal, inspection_id: str) -> InspectionRow:
    row = await repo.inspection(uow.session, inspection_id)
    if row is None:
        raise NotFound(f"no inspection {inspection_id}")
    may_read(user, row.supplier_id)
    return row


def context(uow: UowDep, rt: RuntimeDep, user: Principal) -> QualityContext:
    settings: QualitySettings = rt.settings  # type: ignore[assignment]
    return QualityContext(uow, settings, actor=f"{user.role}:{user.subject}")


@router.get("/orders/{order_id}/inspections")
async def order_inspections(order_id: str, uow: UowDep, user: CurrentUser) -> list[InspectionOut]:
    lot = (await repo.load_lots(uow.session, [order_id])).get(order_id)
    if lot is None:
        raise NotFound(f"order {order_id} is not known to quality")
    may_read(user, lot.supplier_id)
    return [out(r) for r in await repo.inspections_of(uow.session, order_id)]


@router.get("/inspections/{inspection_id}")
async def get_inspection(inspection_id: str, uow: UowDep, user: CurrentUser) -> InspectionOut:
    return out(await visible(uow, user, inspection_id))


class BookingIn(BaseModel):
    order_id: str = Field(min_length=1)
    lot_size: int | None = Field(default=None, ge=2, description="defaults to the order quantity")
    stage_number: int | None = None
    stage_name: str | None = None


@router.post("/inspections", status_code=201)
async def book_inspection(
    body: BookingIn, uow: UowDep, rt: RuntimeDep, user: CurrentUser
) -> InspectionOut:
    user.require(*STAFF)
    stage = Stage(body.stage_number, body.stage_name) if body.stage_number is not None else None
    row = await uc.book_on_request(context(uow, rt, user), body.order_id, body.lot_size, stage)
    await uow.commit()
    return out(row)


class ResultIn(BaseModel):
    inspector: str | None = Field(default=None, description="defaults to the caller")
    sample_inspected: int = Field(ge=0)
    defects: list[ev.DefectCount] = Field(default_factory=list)
    notes: str | None = None
    photo_urls: list[str] = Field(default_factory=list)
    inspected_at: datetime | None = None


@router.post("/inspections/{inspection_id}/result")
async def submit_result(
    inspection_id: str, body: ResultIn, uow: UowDep, rt: RuntimeDep, user: CurrentUser
) -> InspectionOut:
    user.require(*STAFF)
    row = await visible(uow, user, inspection_id)
    cmd = ev.InspectionResultSubmitted(
        **body.model_dump(exclude={"inspector"}), order_id=row.order_id,
        inspection_id=row.id, inspector=body.inspector or user.subject,
    )  # fmt: skip
    row = await uc.submit_result(context(uow, rt, user), cmd)
    await uow.commit()
    return out(row)


class ConcessionIn(BaseModel):
    reason: str = Field(min_length=1, description="why the rejected lot may ship")


@router.post("/inspections/{inspection_id}/concession")
async def concession(
    inspection_id: str, body: ConcessionIn, uow: UowDep, rt: RuntimeDep, user: CurrentUser
) -> InspectionOut:
    user.require("admin")
    row = await uc.concede(context(uow, rt, user), inspection_id, body.reason, user.role)
    await uow.commit()
    return out(row)


class SupplierQualityOut(BaseModel):
    supplier_id: str
    severity: str
    discontinued: bool
    inspections_decided: int
    pass_rate: Decimal | None = Field(description="share of decided lots accepted on inspection")
    dhu_trend: list[Decimal] = Field(description="DHU of the latest decided lots, oldest first")


@router.get("/suppliers/{supplier_id}/quality")
async def supplier_quality(supplier_id: str, uow: UowDep, user: CurrentUser) -> SupplierQualityOut:
    may_read(user, supplier_id)
    counts = await repo.outcome_counts(uow.session, supplier_id)
    decided = sum(counts.values())
    rate = Decimal(counts.get("accepted", 0)) / decided if decided else None
    latest = await repo.decided_of_supplier(uow.session, supplier_id, 10)
    stored = await repo.supplier_state(uow.session, supplier_id, lock=False)
    state = SupplierSeverity.from_dict(stored.state) if stored else SupplierSeverity()
    return SupplierQualityOut(
        supplier_id=supplier_id, severity=state.severity.value, discontinued=state.discontinued,
        inspections_decided=decided, pass_rate=None if rate is None else rate.quantize(Decimal("0.001")),
        dhu_trend=[r.dhu for r in reversed(latest) if r.dhu is not None],
    )  # fmt: skip
