"""HTTP routes of the supplier network: master data, capacity and utilisation.

Admins create, change and suspend suppliers; a supplier reads its own record and reports its
own capacity (another supplier's looks like one that does not exist: 404). Buyers see none.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from looptrace_production import suppliers as store
from looptrace_production import utilisation
from looptrace_production.api import planning
from looptrace_production.api_candidates import router as candidates_router
from looptrace_production.assignment_check import warnings_of
from looptrace_production.domain import capacity as cap
from looptrace_production.suppliers import CapacityEntry, Supplier
from looptrace_shared.auth import AdminUser, CurrentUser, Principal
from looptrace_shared.errors import NotFound
from looptrace_shared.events.bounds import Code, Day, Id
from looptrace_shared.events.suppliers import SupplierProfile
from looptrace_shared.http import UowDep
from looptrace_shared.params import IdPath, IfMatchHeader, if_match_version

router = APIRouter(prefix="/v1", tags=["suppliers"])
router.include_router(candidates_router)  # /suppliers/candidates before /suppliers/{id}

Units = Annotated[int, Field(ge=0, le=100_000_000)]


class SupplierIn(SupplierProfile):
    model_config = ConfigDict(extra="forbid")
    supplier_id: Id


class ProfileIn(SupplierProfile):
    model_config = ConfigDict(extra="forbid")


class SupplierOut(SupplierProfile):
    supplier_id: str
    version: int
    updated_at: datetime | None
    expired_certifications: list[str]


class CapacityItem(BaseModel):
    model_config = ConfigDict(extra="forbid")
    category: Code | None = Field(default=None, description="a product category, or give process")
    process: Code | None = Field(default=None, description="e.g. knitting, printing")
    units_per_week: Units
    effective_from: Day
    effective_to: Day | None = None


class CapacityIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    entries: list[CapacityItem] = Field(min_length=1, max_length=200)


class CapacityOut(BaseModel):
    bucket: str
    units_per_week: int
    effective_from: date
    effective_to: date | None


class WeekOut(BaseModel):
    week: date
    bucket: str
    load_units: float
    capacity_units: int | None
    utilisation_pct: float | None
    overloaded: bool


def supplier_out(response: Response, s: Supplier, today: date) -> SupplierOut:
    response.headers["ETag"] = f'"{s.version}"'
    return SupplierOut(
        **s.profile.model_dump(),
        supplier_id=s.supplier_id,
        version=s.version,
        updated_at=s.updated_at,
        expired_certifications=s.expired_certifications(today),
    )


def own_or_admin(user: Principal, supplier_id: str) -> None:
    """Admins see every supplier, a supplier only itself; anyone else sees nothing (404)."""
    if not (user.is_admin or (user.role == "supplier" and user.subject == supplier_id)):
        raise NotFound(f"no supplier {supplier_id} visible to you")


def today(request: Request) -> date:
    return planning(request).now().date()


@router.post("/suppliers", status_code=201)
async def create_supplier(
    body: SupplierIn, uow: UowDep, user: AdminUser, request: Request, response: Response
) -> SupplierOut:
    """Add a supplier with its capabilities (409 if the id exists)."""
    profile = store.checked_profile(
        ProfileIn(**body.model_dump(exclude={"supplier_id"})), planning(request).templates
    )
    created = await store.create(uow.session, body.supplier_id, profile)
    await uow.commit()
    return supplier_out(response, created, today(request))


@router.get("/suppliers")
async def list_suppliers(uow: UowDep, user: AdminUser, request: Request) -> list[SupplierOut]:
    day, r = today(request), Response()
    return [supplier_out(r, s, day) for s in await store.all_suppliers(uow.session)]


@router.get("/suppliers/{supplier_id}")
async def get_supplier(
    supplier_id: IdPath, uow: UowDep, user: CurrentUser, request: Request, response: Response
) -> SupplierOut:
    own_or_admin(user, supplier_id)
    found = await store.get(uow.session, supplier_id)
    if found is None:
        raise NotFound(f"no supplier {supplier_id} visible to you")
    return supplier_out(response, found, today(request))


@router.put("/suppliers/{supplier_id}")
async def replace_supplier(
    supplier_id: IdPath,
    body: ProfileIn,
    uow: UowDep,
    user: AdminUser,
    request: Request,
    response: Response,
    if_match: IfMatchHeader = None,
) -> SupplierOut:
    """Replace the supplier's master data and capabilities (``If-Match``: 412 when stale)."""
    profile = store.checked_profile(body, planning(request).templates)
    seen = if_match_version(if_match, "the supplier")
    changed = await store.replace(uow.session, supplier_id, profile, seen)
    await uow.commit()
    return supplier_out(response, changed, today(request))


async def _set_status(
    uow: UowDep, supplier_id: str, status: str, request: Request, response: Response
) -> SupplierOut:
    current = await store.existing(uow.session, supplier_id)
    profile = current.profile.model_copy(update={"status": status})
    changed = await store.replace(uow.session, supplier_id, profile)
    await uow.commit()
    return supplier_out(response, changed, today(request))


@router.post("/suppliers/{supplier_id}/suspend")
async def suspend_supplier(
    supplier_id: IdPath, uow: UowDep, user: AdminUser, request: Request, response: Response
) -> SupplierOut:
    """Suspend: the supplier is no longer a candidate (its running orders go on)."""
    return await _set_status(uow, supplier_id, "suspended", request, response)


@router.post("/suppliers/{supplier_id}/activate")
async def activate_supplier(
    supplier_id: IdPath, uow: UowDep, user: AdminUser, request: Request, response: Response
) -> SupplierOut:
    return await _set_status(uow, supplier_id, "active", request, response)


@router.put("/suppliers/{supplier_id}/capacity")
async def report_capacity(
    supplier_id: IdPath, body: CapacityIn, uow: UowDep, user: CurrentUser, request: Request
) -> list[CapacityOut]:
    """Report units per week per category or process from a date (same bucket and date:
    replaced). Weeks the new capacity overloads or relieves emit their events."""
    own_or_admin(user, supplier_id)
    await store.existing(uow.session, supplier_id)
    templates = planning(request).templates
    entries = [
        CapacityEntry(
            store.bucket_of(e.category, e.process, templates),
            e.units_per_week,
            e.effective_from,
            e.effective_to,
        )
        for e in body.entries
    ]
    await store.store_capacity(uow.session, supplier_id, entries)
    await utilisation.fold(uow)
    for bucket in sorted({e.bucket for e in entries}):
        await utilisation.reevaluate(uow, supplier_id, bucket)
    await uow.commit()
    return await capacity(supplier_id, uow, user)


@router.get("/suppliers/{supplier_id}/capacity")
async def capacity(supplier_id: IdPath, uow: UowDep, user: CurrentUser) -> list[CapacityOut]:
    own_or_admin(user, supplier_id)
    await store.existing(uow.session, supplier_id)
    rows = await store.capacity_of(uow.session, supplier_id)
    return [
        CapacityOut(
            bucket=r.bucket,
            units_per_week=r.units_per_week,
            effective_from=r.effective_from,
            effective_to=r.effective_to,
        )
        for r in rows
    ]


@router.get("/suppliers/{supplier_id}/utilisation")
async def supplier_utilisation(
    supplier_id: IdPath,
    uow: UowDep,
    user: CurrentUser,
    request: Request,
    start: Annotated[Day | None, Query(alias="from", description="default: this week")] = None,
    weeks: Annotated[int, Query(ge=1, le=104)] = 12,
) -> list[WeekOut]:
    """Planned load against capacity per week and bucket (unfolded changes included)."""
    own_or_admin(user, supplier_id)
    await store.existing(uow.session, supplier_id)
    first = cap.week_of(start or today(request))
    last = first + timedelta(weeks=weeks - 1)
    load = await utilisation.weeks_of(uow.session, [supplier_id], first, last)
    caps = await utilisation.capacities(uow.session, [supplier_id])
    out = []
    for (_, week, bucket), units in sorted(load.items()):
        if abs(units) < 1e-6:
            continue
        capacity_units = cap.capacity_on(week, caps.get(supplier_id, {}).get(bucket, []))
        out.append(
            WeekOut(
                week=week,
                bucket=bucket,
                load_units=round(units, 1),
                capacity_units=capacity_units,
                utilisation_pct=cap.utilisation_pct(units, capacity_units),
                overloaded=cap.overloaded(units, capacity_units),
            )
        )
    return out


class AssignmentWarningOut(BaseModel):
    supplier_id: str
    assigned_by: str
    warnings: list[str]
    created_at: datetime


@router.get("/orders/{order_id}/assignment-warnings")
async def assignment_warnings(
    order_id: IdPath, uow: UowDep, user: AdminUser
) -> list[AssignmentWarningOut]:
    """What each assignment of the order was warned of (empty: nothing), oldest first."""
    rows = await warnings_of(uow.session, order_id)
    return [AssignmentWarningOut.model_validate(r, from_attributes=True) for r in rows]
