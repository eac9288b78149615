"""HTTP schemas and routes of supplier calendars: the working days a factory's orders are planned on.

``GET|PUT /v1/suppliers/{supplier_id}/calendar``. A supplier without its own calendar works the
default one (Saturday and Sunday off, no holidays), shown at version 0 with ``default: true``.
``PUT`` replaces the whole calendar; send ``If-Match: "<version>"`` (412 when stale). A new
calendar plans the orders assigned afterwards; plans made before keep their own calendar.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from looptrace_production import services as uc
from looptrace_production.api import planning
from looptrace_production.calendar import (
    CalendarWithoutWorkingDays,
    HolidayNotADate,
    WeekendDayOutOfRange,
    WorkCalendar,
)
from looptrace_production.services import ProductionContext
from looptrace_production.supplier_calendars import SupplierCalendar
from looptrace_shared.auth import CurrentUser, Principal
from looptrace_shared.errors import Forbidden, NotFound, as_rule_violation
from looptrace_shared.events.bounds import Line
from looptrace_shared.http import UowDep
from looptrace_shared.params import IdPath, IfMatchHeader, if_match_version

router = APIRouter(prefix="/v1", tags=["production"])

IfMatch = IfMatchHeader
HolidayText = Line(32, 1)


class CalendarIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    weekend: list[Annotated[int, Field(ge=-(2**31), le=2**31 - 1)]] = Field(
        max_length=7,
        description="days off each week: 0 = Monday … 6 = Sunday, e.g. [6] for a six-day week",
    )
    holidays: list[HolidayText] = Field(
        default_factory=list, max_length=1000, description="ISO dates, e.g. ['2026-12-25']"
    )


class CalendarOut(BaseModel):
    supplier_id: str
    weekend: list[int]
    holidays: list[date]
    version: int = Field(description="send it back as If-Match to change the calendar")
    updated_at: datetime | None
    default: bool = Field(description="the supplier has no calendar of its own yet")


def calendar_out(response: Response, stored: SupplierCalendar) -> CalendarOut:
    response.headers["ETag"] = f'"{stored.version}"'
    return CalendarOut(
        supplier_id=stored.supplier_id,
        weekend=sorted(stored.calendar.weekend),
        holidays=sorted(stored.calendar.holidays),
        version=stored.version,
        updated_at=stored.updated_at,
        default=stored.is_default,
    )


def parse_if_match(value: str | None) -> int | None:
    return if_match_version(value, "the calendar")


def may_read(user: Principal, supplier_id: str) -> None:
    if user.role == "supplier" and user.subject != supplier_id:
        raise NotFound(f"no calendar of supplier {supplier_id} visible to you")
    user.require("supplier", "buyer")


def may_change(user: Principal, supplier_id: str) -> None:
    if user.role == "supplier" and user.subject != supplier_id:
        raise NotFound(f"no calendar of supplier {supplier_id} visible to you")
    if not (user.is_admin or (user.role == "supplier" and user.subject == supplier_id)):
        raise Forbidden(f"only supplier {supplier_id} itself or an admin may change its calendar")


def work_calendar(body: CalendarIn) -> WorkCalendar:
    try:
        return WorkCalendar.parse(body.weekend, body.holidays)
    except (CalendarWithoutWorkingDays, WeekendDayOutOfRange, HolidayNotADate) as err:
        raise as_rule_violation(err) from err


@router.get("/suppliers/{supplier_id}/calendar")
async def supplier_calendar(
    supplier_id: IdPath, uow: UowDep, user: CurrentUser, request: Request, response: Response
) -> CalendarOut:
    """The supplier's working days (its weekend weekdays and holidays)."""
    may_read(user, supplier_id)
    ctx = ProductionContext(uow, planning(request))
    return calendar_out(response, await uc.supplier_calendar(ctx, supplier_id))


@router.put("/suppliers/{supplier_id}/calendar")
async def change_supplier_calendar(
    supplier_id: IdPath,
    body: CalendarIn,
    uow: UowDep,
    user: CurrentUser,
    request: Request,
    response: Response,
    if_match: IfMatch = None,
) -> CalendarOut:
    """Replace the supplier's working days; orders assigned from now on are planned with them."""
    may_change(user, supplier_id)
    calendar = work_calendar(body)
    ctx = ProductionContext(uow, planning(request))
    stored = await uc.change_supplier_calendar(ctx, supplier_id, calendar, parse_if_match(if_match))
    await uow.commit()
    return calendar_out(response, stored)
