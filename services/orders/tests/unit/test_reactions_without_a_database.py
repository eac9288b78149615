"""The orders reactions' own logic, on preloaded orders, without PostgreSQL (a fake unit of
work): what the workflow table says a production fact does to an order, the event that says
so, the history row, and the wait for an order not known yet. The same reactions run against
the real database and broker in tests/integration."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from looptrace_orders.context import OrdersContext
from looptrace_orders.handlers import REACTIONS, UNBLOCKS
from looptrace_orders.models import OrderRow, StatusHistoryRow
from looptrace_orders.workflow import InvalidTransition, WorkflowStatus, react
from looptrace_shared.contracts.examples import example_data
from looptrace_shared.events import event_spec
from looptrace_shared.fake_uow import FakeUnitOfWork, incoming
from looptrace_shared.messaging.dispatch import Dispatcher
from looptrace_shared.messaging.incoming import Incoming

FACTS = ["production.stage_started", "production.stage_delayed"]


def order(order_id: str, status: WorkflowStatus) -> OrderRow:
    return OrderRow(
        id=order_id, order_number=f"PO-{order_id}", buyer_id="b-1", buyer_name="Buyer",
        product_type="tee", product_category="cut-and-sew", quantity=100, currency="EUR",
        unit_price=Decimal("4.20"), target_date=date(2030, 1, 1), workflow_status=status.value,
    )  # fmt: skip


def fact(type_: str, order_id: str) -> Incoming:
    data = {**example_data(event_spec(type_).model), "order_id": order_id}
    return incoming(type_, order_id, data, topic=event_spec(type_).topic)


def preloaded(*orders: OrderRow) -> OrdersContext:
    ctx = OrdersContext(FakeUnitOfWork(), preloaded=True)
    for row in orders:
        ctx.remember(row)
    return ctx


@settings(max_examples=60, deadline=None)
@given(status=st.sampled_from(list(WorkflowStatus)), type_=st.sampled_from(FACTS))
async def test_a_production_fact_moves_the_order_as_the_workflow_table_says(
    status: WorkflowStatus, type_: str
) -> None:
    try:
        steps = react(status, type_, "PO-o1")
    except InvalidTransition:
        steps = None
    row = order("o1", status)
    ctx = preloaded(row)
    outcomes = await Dispatcher(REACTIONS, UNBLOCKS).run(ctx, [fact(type_, "o1")])
    uow = ctx.uow
    assert isinstance(uow, FakeUnitOfWork)
    if steps is None:  # refused: a dead letter, and nothing changed
        assert [rule.rule for _, rule in outcomes.rejected] == ["invalid_transition"]
        assert row.workflow_status == status.value and uow.events == []
        return
    assert outcomes.processed == 1 and not outcomes.rejected
    assert row.workflow_status == (steps[-1] if steps else status).value
    moves = [(e["data"]["from_status"], e["data"]["to_status"]) for e in uow.events]
    walked = [status.value, *(s.value for s in steps)]
    assert moves == list(zip(walked, walked[1:], strict=False))
    assert all(e["type"] == "order.status_changed" and e["subject"] == "o1" for e in uow.events)
    assert all(e["causation_id"] for e in uow.events)  # each names the fact that caused it
    history = [r for r in uow.fake.added if isinstance(r, StatusHistoryRow)]
    assert [(h.from_status, h.to_status) for h in history] == moves


async def test_a_fact_about_an_order_not_known_yet_waits_and_changes_nothing() -> None:
    ctx = preloaded(order("o1", WorkflowStatus.ASSIGNED_TO_SUPPLIER))
    first = fact("production.stage_started", "o2")
    outcomes = await Dispatcher(REACTIONS, UNBLOCKS).run(ctx, [first])
    assert [item for item, _ in outcomes.waiting] == [first]
    assert ctx.uow.emitted == 0
