"""The events orders builds as JSON without their models (``OrdersContext.emit_wire``) are
what their contracts dump: each one's data, validated by its model and dumped again, is
unchanged (a field missing, misnamed, or of another form would show)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest

from looptrace_orders import services as uc
from looptrace_orders.context import OrdersContext
from looptrace_orders.workflow import WorkflowStatus
from looptrace_shared.events import event_spec
from looptrace_shared.events import orders as ev
from looptrace_shared.fake_uow import FakeUnitOfWork, incoming


def placed(**change: Any) -> ev.OrderPlaced:
    data = {
        "order_id": "o-1",
        "order_number": "PO-1",
        "buyer": {"id": "b-1", "name": "Ada", "email": "ada@buyer.example", "company": "A Co"},
        "product_type": "tee",
        "product_category": "cut-and-sew",
        "quantity": 120,
        "currency": "eur",
        "unit_price": "4.2000",
        "supplier_cost": "3.1",
        "target_date": str(date.today() + timedelta(days=60)),
        **change,
    }
    return ev.OrderPlaced.model_validate(data)


def as_contract_dumps_it(event: dict[str, Any]) -> None:
    model = event_spec(event["type"]).model
    assert model.model_validate(event["data"]).model_dump(mode="json") == event["data"]


@pytest.mark.parametrize("batch", [True, False], ids=["consumed batch", "http request"])
@pytest.mark.parametrize(
    "change",
    [{}, {"buyer": {"id": "b-2", "name": "Bo"}, "has_print": False, "unit_price": "0"}],
    ids=["full", "sparse"],
)
async def test_placed_and_assigned_orders_events_are_their_contracts_dumps(
    batch: bool, change: dict[str, Any]
) -> None:
    uow = FakeUnitOfWork()
    ctx = OrdersContext(uow, preloaded=True)
    if batch:
        ctx = OrdersContext.for_batch(uow, ctx.target_window)
        ctx.preloaded = True
    ctx.cause = incoming("OrderPlaced", "o-1", placed(**change).model_dump(mode="json")).envelope
    order = await uc.place_order(ctx, placed(**change))
    supplier = ev.Party.model_validate({"id": "s-1", "name": "Knit Co", "email": "s@knit.example"})
    await uc.assign_supplier(ctx, order.id, supplier, "ops")
    await uc.assign_supplier(ctx, order.id, ev.Party(id="s-2", name="Other"), "ops")
    types = [e["type"] for e in uow.events]
    assert types.count("order.created") == 1 and types.count("order.supplier_assigned") == 2
    assert types.count("order.status_changed") == 3
    for event in uow.events:
        as_contract_dumps_it(event)
    created = next(e["data"] for e in uow.events if e["type"] == "order.created")
    assert created["currency"] == "EUR" and Decimal(created["unit_price"]) == Decimal(
        change.get("unit_price", "4.2")
    )
    assert order.workflow_status == WorkflowStatus.ASSIGNED_TO_SUPPLIER.value
