"""HTTP routes of AQLs: the plan lookup, and a buyer's or an order's AQL overrides."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from looptrace_quality.api_common import STAFF, context, readable_lot
from looptrace_quality.aql import SamplingError, sampling_plan
from looptrace_quality.aql_policy import AqlChoice, ResolvedAqls
from looptrace_quality.config import RuntimeDep
from looptrace_quality.models import OrderLotRow
from looptrace_quality.services.aql_overrides import (
    Scope,
    buyer_effective,
    effective_aqls,
    set_override,
    stored_choice,
)
from looptrace_shared.auth import CurrentUser, Principal
from looptrace_shared.errors import Forbidden, NotFound, as_rule_violation
from looptrace_shared.events.bounds import Line
from looptrace_shared.http import UowDep
from looptrace_shared.params import IdPath

router = APIRouter()


class PlanOut(BaseModel):
    original_code_letter: str
    code_letter: str
    sample_size: int
    accept: int
    reject: int
    full_inspection: bool


@router.get("/aql/plan")
async def aql_plan(
    lot_size: Annotated[int, Query(ge=-(2**31), le=2**31 - 1, description="units in the lot")],
    aql: Annotated[str, Query(max_length=8, description="e.g. 0.65, 1.0, 2.5, 4.0")],
    level: Annotated[str, Query(max_length=8)] = "II",
    severity: Annotated[str, Query(max_length=16)] = "normal",
) -> PlanOut:
    """The ISO 2859-1 single-sampling plan (public; the same answer as `looptrace aql plan`)."""
    try:
        return PlanOut(**sampling_plan(lot_size, aql, level, severity).to_dict())
    except SamplingError as err:
        raise as_rule_violation(err) from err


AqlText = Line(8, 1)


class AqlIn(BaseModel):
    """AQLs (ISO 2859-1 series, or 0 = zero tolerance) and inspection level; omit to inherit."""

    critical: AqlText | None = Field(default=None, examples=["0"])
    major: AqlText | None = Field(default=None, examples=["1.5"])
    minor: AqlText | None = Field(default=None, examples=["4.0"])
    level: AqlText | None = Field(default=None, examples=["II"], description="S-1..S-4, I, II, III")


class EffectiveAqls(BaseModel):
    critical: str
    major: str
    minor: str
    level: str
    sources: dict[str, str] = Field(description="where each value is set: settings|buyer|order")


class AqlOut(BaseModel):
    override: dict[str, str | None] = Field(description="what this buyer or order sets itself")
    effective: EffectiveAqls = Field(description="what the next inspection's plan uses")


def aql_out(override: AqlChoice, resolved: ResolvedAqls) -> AqlOut:
    effective = EffectiveAqls(**resolved.aqls, level=resolved.level, sources=resolved.sources)
    return AqlOut(override=override.to_dict(), effective=effective)


def may_set_buyer(user: Principal, buyer_id: str) -> None:
    if user.role == "buyer" and user.subject != buyer_id:
        raise NotFound(f"no AQL settings of buyer {buyer_id} visible to you")
    if not (user.is_admin or (user.role == "buyer" and user.subject == buyer_id)):
        raise Forbidden(f"only an admin or buyer {buyer_id} may set the buyer's AQLs")


@router.put("/buyers/{buyer_id}/aql")
async def set_buyer_aql(
    buyer_id: IdPath, body: AqlIn, uow: UowDep, rt: RuntimeDep, user: CurrentUser
) -> AqlOut:
    """The buyer's default AQLs and level for the inspections of all its orders."""
    may_set_buyer(user, buyer_id)
    ctx = context(uow, rt, user)
    choice = await set_override(ctx, Scope.BUYER, buyer_id, body.model_dump())
    await uow.session.flush()
    resolved = await buyer_effective(ctx, buyer_id)
    await uow.commit()
    return aql_out(choice, resolved)


async def order_for_aql(uow: UowDep, user: Principal, order_id: str) -> OrderLotRow:
    lot = await readable_lot(
        uow, user, order_id, to_change=True
    )  # 404 alike for unknown and someone else's
    if not (user.is_admin or (user.role == "buyer" and lot.buyer_id == user.subject)):
        raise Forbidden("only an admin or the order's buyer may set the order's AQLs")
    return lot


@router.put("/orders/{order_id}/aql")
async def set_order_aql(
    order_id: IdPath, body: AqlIn, uow: UowDep, rt: RuntimeDep, user: CurrentUser
) -> AqlOut:
    """This order's own AQLs and level, over the buyer's defaults and the settings."""
    lot = await order_for_aql(uow, user, order_id)
    ctx = context(uow, rt, user)
    choice = await set_override(ctx, Scope.ORDER, order_id, body.model_dump())
    await uow.session.flush()
    resolved = await effective_aqls(ctx, lot)
    await uow.commit()
    return aql_out(choice, resolved)


@router.get("/orders/{order_id}/aql")
async def order_aql(order_id: IdPath, uow: UowDep, rt: RuntimeDep, user: CurrentUser) -> AqlOut:
    """The order's override and what its next inspection will use."""
    lot = await readable_lot(uow, user, order_id)
    ctx = context(uow, rt, user)
    resolved = await effective_aqls(ctx, lot)
    return aql_out(await stored_choice(ctx, Scope.ORDER, order_id), resolved)


@router.get("/buyers/{buyer_id}/aql")
async def buyer_aql(buyer_id: IdPath, uow: UowDep, rt: RuntimeDep, user: CurrentUser) -> AqlOut:
    """The buyer's defaults and what its orders' inspections use unless an order overrides."""
    if user.role not in STAFF and not (user.role == "buyer" and user.subject == buyer_id):
        raise NotFound(f"no AQL settings of buyer {buyer_id} visible to you")
    ctx = context(uow, rt, user)
    resolved = await buyer_effective(ctx, buyer_id)
    return aql_out(await stored_choice(ctx, Scope.BUYER, buyer_id), resolved)
