from __future__ import annotations

import itertools

import pytest

from looptrace_orders.workflow import (
    REACTIONS,
    SHIPPABLE,
    InvalidTransition,
    OrderStatus,
    ProductionStatus,
    QcGateClosed,
    ShipmentNotAllowed,
    WorkflowStatus,
    allowed_next,
    change_status,
    check_shipment,
    order_status,
    production_status,
    react,
)

W = WorkflowStatus

# Written out by hand from the specification, independently of ALLOWED_TRANSITIONS.
EXPECTED_EDGES = {
    (W.QUOTE_REQUESTED, W.QUOTE_PROVIDED),
    (W.QUOTE_PROVIDED, W.QUOTE_ACCEPTED),
    (W.QUOTE_ACCEPTED, W.ASSIGNED_TO_SUPPLIER),
    (W.PLACED, W.ASSIGNED_TO_SUPPLIER),
    (W.ASSIGNED_TO_SUPPLIER, W.ASSIGNED_TO_SUPPLIER),
    (W.ASSIGNED_TO_SUPPLIER, W.IN_PRODUCTION),
    (W.IN_PRODUCTION, W.QUALITY_CHECK),
    (W.IN_PRODUCTION, W.DELAYED),
    (W.DELAYED, W.IN_PRODUCTION),
    (W.DELAYED, W.QUALITY_CHECK),
    (W.QUALITY_CHECK, W.IN_PRODUCTION),
    (W.QUALITY_CHECK, W.SHIPPED),
    (W.SHIPPED, W.DELIVERED),
    (W.DELIVERED, W.COMPLETED),
} | {(s, W.CANCELLED) for s in W if s not in (W.COMPLETED, W.CANCELLED)}

ALL_PAIRS = list(itertools.product(WorkflowStatus, WorkflowStatus))
ALLOWED_PAIRS = [p for p in ALL_PAIRS if p in EXPECTED_EDGES]
FORBIDDEN_PAIRS = [p for p in ALL_PAIRS if p not in EXPECTED_EDGES]


def test_every_pair_is_covered() -> None:
    assert len(ALLOWED_PAIRS) + len(FORBIDDEN_PAIRS) == 12 * 12
    assert len(ALLOWED_PAIRS) == 14 + 10


@pytest.mark.parametrize(("current", "requested"), ALLOWED_PAIRS)
def test_allowed_move_succeeds(current: WorkflowStatus, requested: WorkflowStatus) -> None:
    change = change_status(current, requested, cause="test", order_number="ORD-1")
    assert (change.from_status, change.to_status, change.cause) == (current, requested, "test")


@pytest.mark.parametrize(("current", "requested"), FORBIDDEN_PAIRS)
def test_forbidden_move_is_refused_with_allowed_list(
    current: WorkflowStatus, requested: WorkflowStatus
) -> None:
    with pytest.raises(InvalidTransition) as info:
        change_status(current, requested, cause="test", order_number="ORD-1")
    expected_next = [to for (frm, to) in EXPECTED_EDGES if frm == current]
    message = str(info.value)
    assert f"order ORD-1 is '{current}'" in message
    assert f"cannot move to '{requested}'" in message
    assert all(str(s) in message.split("Allowed next:")[1] for s in expected_next)
    assert set(info.value.allowed) == set(expected_next)


def test_message_matches_documented_example() -> None:
    with pytest.raises(InvalidTransition) as info:
        change_status(W.SHIPPED, W.IN_PRODUCTION, cause="x", order_number="ORD-1")
    assert str(info.value) == (
        "order ORD-1 is 'shipped'; it cannot move to 'in_production' (asked by 'x'). "
        "Allowed next: delivered, cancelled"
    )


@pytest.mark.parametrize("closed", [W.COMPLETED, W.CANCELLED])
def test_closed_orders_say_nothing_is_allowed(closed: WorkflowStatus) -> None:
    assert allowed_next(closed) == ()
    with pytest.raises(InvalidTransition, match="Allowed next: none"):
        change_status(closed, W.CANCELLED, cause="x")


def test_reassignment_is_recorded_as_such() -> None:
    assert change_status(W.ASSIGNED_TO_SUPPLIER, W.ASSIGNED_TO_SUPPLIER, "x").is_reassignment
    assert not change_status(W.PLACED, W.ASSIGNED_TO_SUPPLIER, "x").is_reassignment


DERIVED = {
    W.QUOTE_REQUESTED: (OrderStatus.PENDING, ProductionStatus.NOT_STARTED),
    W.QUOTE_PROVIDED: (OrderStatus.PENDING, ProductionStatus.NOT_STARTED),
    W.QUOTE_ACCEPTED: (OrderStatus.PENDING, ProductionStatus.NOT_STARTED),
    W.PLACED: (OrderStatus.CONFIRMED, ProductionStatus.NOT_STARTED),
    W.ASSIGNED_TO_SUPPLIER: (OrderStatus.CONFIRMED, ProductionStatus.NOT_STARTED),
    W.IN_PRODUCTION: (OrderStatus.IN_PRODUCTION, ProductionStatus.IN_PROGRESS),
    W.DELAYED: (OrderStatus.IN_PRODUCTION, ProductionStatus.DELAYED),
    W.QUALITY_CHECK: (OrderStatus.IN_PRODUCTION, ProductionStatus.IN_PROGRESS),
    W.SHIPPED: (OrderStatus.IN_PRODUCTION, ProductionStatus.COMPLETED),
    W.DELIVERED: (OrderStatus.IN_PRODUCTION, ProductionStatus.COMPLETED),
    W.COMPLETED: (OrderStatus.COMPLETED, ProductionStatus.COMPLETED),
    W.CANCELLED: (OrderStatus.CANCELLED, ProductionStatus.NOT_STARTED),
}


@pytest.mark.parametrize("workflow_status", list(WorkflowStatus))
def test_derived_statuses(workflow_status: WorkflowStatus) -> None:
    assert (order_status(workflow_status), production_status(workflow_status)) == DERIVED[
        workflow_status
    ]


@pytest.mark.parametrize(
    ("current", "cause", "expected"),
    [
        (W.ASSIGNED_TO_SUPPLIER, "production.stage_started", [W.IN_PRODUCTION]),
        (W.IN_PRODUCTION, "production.stage_started", []),
        (W.DELAYED, "production.stage_started", []),
        (W.QUALITY_CHECK, "production.stage_started", []),
        (W.IN_PRODUCTION, "production.stage_delayed", [W.DELAYED]),
        (W.DELAYED, "production.stage_delayed", []),
        (W.QUALITY_CHECK, "production.stage_delayed", []),
        (W.ASSIGNED_TO_SUPPLIER, "production.stage_delayed", []),
        (W.DELAYED, "production.plan_back_on_track", [W.IN_PRODUCTION]),
        (W.IN_PRODUCTION, "production.plan_back_on_track", []),
        (W.QUOTE_REQUESTED, "production.plan_back_on_track", []),
        (W.IN_PRODUCTION, "quality.inspection_scheduled", [W.QUALITY_CHECK]),
        (W.DELAYED, "quality.inspection_scheduled", [W.QUALITY_CHECK]),
        (W.QUALITY_CHECK, "quality.inspection_scheduled", []),
        (W.QUALITY_CHECK, "quality.inspection_failed", [W.IN_PRODUCTION]),
        (W.IN_PRODUCTION, "quality.inspection_failed", []),
        (W.QUALITY_CHECK, "production.shipping_stage_completed", [W.SHIPPED]),
        # heard of before the facts that precede it (another topic): walk the implied steps
        (
            W.ASSIGNED_TO_SUPPLIER,
            "quality.inspection_scheduled",
            [W.IN_PRODUCTION, W.QUALITY_CHECK],
        ),
        (W.IN_PRODUCTION, "production.shipping_stage_completed", [W.QUALITY_CHECK, W.SHIPPED]),
        (W.DELAYED, "production.shipping_stage_completed", [W.QUALITY_CHECK, W.SHIPPED]),
        (W.SHIPPED, "production.shipping_stage_completed", []),
        (W.QUALITY_CHECK, "OrderShipped", [W.SHIPPED]),
        (W.SHIPPED, "OrderShipped", []),
        (W.SHIPPED, "DeliveryConfirmed", [W.DELIVERED, W.COMPLETED]),
        (W.DELIVERED, "DeliveryConfirmed", [W.COMPLETED]),
        (W.COMPLETED, "DeliveryConfirmed", []),
        (W.IN_PRODUCTION, "OrderCancelled", [W.CANCELLED]),
        (W.QUOTE_REQUESTED, "OrderCancelled", [W.CANCELLED]),
        (W.CANCELLED, "OrderCancelled", []),
        (W.CANCELLED, "production.stage_started", []),
        (W.COMPLETED, "quality.inspection_failed", []),
        (W.IN_PRODUCTION, "production.stage_progressed", []),
    ],
)
def test_react(current: WorkflowStatus, cause: str, expected: list[WorkflowStatus]) -> None:
    assert react(current, cause) == expected


@pytest.mark.parametrize(
    ("current", "cause", "refused_step"),
    [
        (W.IN_PRODUCTION, "DeliveryConfirmed", W.DELIVERED),
        (W.CANCELLED, "DeliveryConfirmed", W.DELIVERED),
        (W.QUOTE_REQUESTED, "production.stage_started", W.IN_PRODUCTION),
        (W.PLACED, "production.stage_delayed", W.DELAYED),
        (W.PLACED, "quality.inspection_scheduled", W.IN_PRODUCTION),
        (W.SHIPPED, "quality.inspection_failed", W.IN_PRODUCTION),
        (W.PLACED, "production.shipping_stage_completed", W.IN_PRODUCTION),
        (W.CANCELLED, "OrderShipped", W.SHIPPED),
        (W.COMPLETED, "OrderCancelled", W.CANCELLED),
    ],
)
def test_react_refuses_moves_the_workflow_forbids(
    current: WorkflowStatus, cause: str, refused_step: WorkflowStatus
) -> None:
    with pytest.raises(InvalidTransition) as info:
        react(current, cause, order_number="ORD-9")
    assert (info.value.current, info.value.requested) == (current, refused_step)
    assert f"order ORD-9 is '{current}'" in str(info.value)
    assert f"asked by '{cause}'" in str(info.value)


@pytest.mark.parametrize(("current", "cause"), list(itertools.product(WorkflowStatus, REACTIONS)))
def test_every_reaction_either_moves_legally_ignores_or_refuses(
    current: WorkflowStatus, cause: str
) -> None:
    try:
        steps = react(current, cause)
    except InvalidTransition:
        return
    previous = current
    for step in steps:
        change_status(previous, step, cause)
        previous = step


@pytest.mark.parametrize("state", [s for s in WorkflowStatus if s not in SHIPPABLE])
def test_nothing_ships_before_the_goods_exist(state: WorkflowStatus) -> None:
    with pytest.raises(ShipmentNotAllowed, match=f"is '{state}'"):
        check_shipment(state, qc_gate_passed=True, order_number="PO-1")


def test_nothing_ships_before_the_qc_gate_passed() -> None:
    with pytest.raises(QcGateClosed, match="PO-1 cannot ship yet"):
        check_shipment(WorkflowStatus.QUALITY_CHECK, qc_gate_passed=False, order_number="PO-1")
    check_shipment(WorkflowStatus.QUALITY_CHECK, qc_gate_passed=True)
    check_shipment(WorkflowStatus.SHIPPED, qc_gate_passed=True)


def test_the_gate_passing_walks_an_order_into_quality_check() -> None:
    assert react(WorkflowStatus.ASSIGNED_TO_SUPPLIER, "production.quality_gate_passed") == [
        WorkflowStatus.IN_PRODUCTION,
        WorkflowStatus.QUALITY_CHECK,
    ]
    assert react(WorkflowStatus.QUALITY_CHECK, "production.quality_gate_passed") == []
