"""HTTP routes of shipping details: an order's shipments, and their ETD/ETA updates."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Path
from pydantic import BaseModel, Field, model_validator

from looptrace_orders import repository as repo
from looptrace_orders import shipments as uc
from looptrace_orders.api import _change
from looptrace_orders.archive import archived
from looptrace_orders.models import OrderRow
from looptrace_orders.views import IfMatch, visible_order
from looptrace_shared.auth import AdminUser, CurrentUser
from looptrace_shared.events import orders as ev
from looptrace_shared.events.bounds import Day, Note
from looptrace_shared.http import UowDep
from looptrace_shared.params import IdPath

router = APIRouter(prefix="/v1/orders", tags=["orders"])

ShipmentId = Annotated[int, Path(ge=1, le=2**31 - 1, description="the shipment's id")]


class ShipmentUpdateOut(BaseModel):
    estimated_departure: date | None
    estimated_arrival: date | None
    previous_departure: date | None
    previous_arrival: date | None
    reason: str | None
    cause: str
    at: datetime


class ShipmentOut(BaseModel):
    id: int
    carrier: str
    tracking_number: str
    quantity: int
    shipped_at: datetime
    mode: str | None
    container_number: str | None
    seal_number: str | None
    port_of_loading: str | None
    port_of_discharge: str | None
    estimated_departure: date | None
    estimated_arrival: date | None
    updates: list[ShipmentUpdateOut] = Field(description="every ETD/ETA change, oldest first")


class ShipmentDatesIn(BaseModel):
    estimated_departure: Day | None = None
    estimated_arrival: Day | None = None
    reason: Note | None = None

    @model_validator(mode="after")
    def _some_date(self) -> ShipmentDatesIn:
        if self.estimated_departure is None and self.estimated_arrival is None:
            raise ValueError("give estimated_departure, estimated_arrival or both")
        return self


async def _shipments_out(uow: UowDep, order: OrderRow) -> list[ShipmentOut]:
    old = archived(order)
    updates = await repo.shipment_updates(uow.session, order.id, old)
    return [
        ShipmentOut.model_validate(
            {
                **{k: getattr(s, k) for k in ShipmentOut.model_fields if k != "updates"},
                "updates": [
                    ShipmentUpdateOut.model_validate(u, from_attributes=True)
                    for u in updates
                    if u.shipment_id == s.id
                ],
            }
        )
        for s in await repo.shipments(uow.session, order.id, old)
    ]


@router.get("/{order_ref}/shipments")
async def list_shipments(order_ref: IdPath, uow: UowDep, user: CurrentUser) -> list[ShipmentOut]:
    """The order's shipments with their shipping details: its buyer, its supplier, admins."""
    order = await visible_order(uow, user, order_ref)
    return await _shipments_out(uow, order)


@router.patch("/{order_ref}/shipments/{shipment_id}")
async def update_shipment(
    order_ref: IdPath,
    shipment_id: ShipmentId,
    body: ShipmentDatesIn,
    uow: UowDep,
    user: AdminUser,
    if_match: IfMatch = None,
) -> list[ShipmentOut]:
    """A new ETD and/or ETA; the order's expected delivery follows the latest ETA."""
    ctx, order = await _change(uow, user, order_ref, if_match)
    shipment = await uc.find_shipment(ctx, order, shipment_id)
    cmd = ev.ShipmentUpdated(
        order_id=order.id, tracking_number=shipment.tracking_number, **body.model_dump()
    )
    await uc.update_shipment(ctx, cmd, shipment_id)
    await uow.commit()
    return await _shipments_out(uow, order)
