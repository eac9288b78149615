"""The order workflow: its states, the moves between them, and how other services move it.

Allowed moves (``ALLOWED_TRANSITIONS`` is the single source of truth)::

    quote_requested -> quote_provided -> quote_accepted -> assigned_to_supplier
    placed -> assigned_to_supplier          (a firm order without a quote starts as placed)
    assigned_to_supplier -> assigned_to_supplier   (a reassignment; recorded like any move)
    assigned_to_supplier -> in_production -> quality_check -> shipped -> delivered -> completed
    in_production -> delayed -> in_production      (behind schedule, then recovered)
    delayed -> quality_check                       (a late order can still reach QC)
    quality_check -> in_production                 (QC failed: back to the line)
    quality_check -> shipped                       (only once the QC gate passed: every
                                                    inspection accepted or conceded)
    any state except completed / cancelled -> cancelled

No extra edges are added. A stage delay reported before the first stage has
started (the order is still ``assigned_to_supplier``) is ignored by ``react``
rather than given its own edge: the order has not started production, and the
production plan and the buyer's notification already carry the delay.

Derived statuses are pure functions of the workflow status:

=====================  ==============  =================
workflow_status        status          production_status
=====================  ==============  =================
quote_requested        pending         not_started
quote_provided         pending         not_started
quote_accepted         pending         not_started
placed                 confirmed       not_started
assigned_to_supplier   confirmed       not_started
in_production          in_production   in_progress
delayed                in_production   delayed
quality_check          in_production   in_progress
shipped                in_production   completed
delivered              in_production   completed
completed              completed       completed
cancelled              cancelled       not_started
=====================  ==============  =================

``status`` reaches ``completed`` only when the whole order is completed; goods
shipped or delivered but not yet signed off keep the order open. A cancelled
order's production is reported as ``not_started`` (nothing is running and nothing
will complete); the stages keep their own history in the production service.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Final


class WorkflowStatus(StrEnum):
    QUOTE_REQUESTED = "quote_requested"
    QUOTE_PROVIDED = "quote_provided"
    QUOTE_ACCEPTED = "quote_accepted"
    PLACED = "placed"
    ASSIGNED_TO_SUPPLIER = "assigned_to_supplier"
    IN_PRODUCTION = "in_production"
    DELAYED = "delayed"
    QUALITY_CHECK = "quality_check"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class OrderStatus(StrEnum):
    PENDING = "pending"
    CONFIRMED = "confirmed"
    IN_PRODUCTION = "in_production"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class ProductionStatus(StrEnum):
    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    DELAYED = "delayed"
    COMPLETED = "completed"


W = WorkflowStatus
TERMINAL: Final = frozenset({W.COMPLETED, W.CANCELLED})

_FORWARD: Final[dict[WorkflowStatus, frozenset[WorkflowStatus]]] = {
    W.QUOTE_REQUESTED: frozenset({W.QUOTE_PROVIDED}),
    W.QUOTE_PROVIDED: frozenset({W.QUOTE_ACCEPTED}),
    W.QUOTE_ACCEPTED: frozenset({W.ASSIGNED_TO_SUPPLIER}),
    W.PLACED: frozenset({W.ASSIGNED_TO_SUPPLIER}),
    W.ASSIGNED_TO_SUPPLIER: frozenset({W.ASSIGNED_TO_SUPPLIER, W.IN_PRODUCTION}),
    W.IN_PRODUCTION: frozenset({W.DELAYED, W.QUALITY_CHECK}),
    W.DELAYED: frozenset({W.IN_PRODUCTION, W.QUALITY_CHECK}),
    W.QUALITY_CHECK: frozenset({W.IN_PRODUCTION, W.SHIPPED}),
    W.SHIPPED: frozenset({W.DELIVERED}),
    W.DELIVERED: frozenset({W.COMPLETED}),
    W.COMPLETED: frozenset(),
    W.CANCELLED: frozenset(),
}

ALLOWED_TRANSITIONS: Final = MappingProxyType(
    {
        state: nxt | {W.CANCELLED} if state not in TERMINAL else nxt
        for state, nxt in _FORWARD.items()
    }
)


class OrderRuleViolation(ValueError):
    """Base of every order business rule; the message tells the user what to fix."""


class InvalidTransition(OrderRuleViolation):
    """The workflow does not allow moving from ``current`` to ``requested``."""

    def __init__(
        self,
        current: WorkflowStatus,
        requested: WorkflowStatus,
        order_number: str | None = None,
        cause: str | None = None,
    ) -> None:
        self.current = current
        self.requested = requested
        self.order_number = order_number
        self.cause = cause
        self.allowed = allowed_next(current)
        who = f"order {order_number}" if order_number else "the order"
        allowed = ", ".join(self.allowed) if self.allowed else "none (the order is closed)"
        because = f" (asked by '{cause}')" if cause else ""
        super().__init__(
            f"{who} is '{current}'; it cannot move to '{requested}'{because}. "
            f"Allowed next: {allowed}"
        )


class ShipmentNotAllowed(OrderRuleViolation):
    """Goods ship only once they exist and passed quality: in ``quality_check`` or ``shipped``."""

    def __init__(self, current: WorkflowStatus, order_number: str | None = None) -> None:
        who = f"order {order_number}" if order_number else "the order"
        super().__init__(
            f"{who} is '{current}': nothing can ship before production made the goods and "
            "every inspection passed; record shipments once the order is in quality_check "
            "with the QC gate passed (production.quality_gate_passed), or after it shipped"
        )


class QcGateClosed(OrderRuleViolation):
    """The QC gate: no order ships until every inspection its plan requires has passed."""

    def __init__(self, order_number: str | None = None) -> None:
        who = f"order {order_number}" if order_number else "the order"
        super().__init__(
            f"{who} cannot ship yet: not every inspection has passed (one is still open, "
            "failed or not booked); wait for the inspection result, or an admin's concession"
        )


SHIPPABLE: Final = frozenset({W.QUALITY_CHECK, W.SHIPPED})


def check_shipment(
    current: WorkflowStatus, qc_gate_passed: bool, order_number: str | None = None
) -> None:
    """A shipment (partial or full) may be recorded: goods exist and the QC gate passed."""
    if current not in SHIPPABLE:
        raise ShipmentNotAllowed(current, order_number)
    if not qc_gate_passed:
        raise QcGateClosed(order_number)


def allowed_next(current: WorkflowStatus) -> tuple[WorkflowStatus, ...]:
    """The states ``current`` may move to, in lifecycle order."""
    return tuple(s for s in WorkflowStatus if s in ALLOWED_TRANSITIONS[current])


def can_transition(current: WorkflowStatus, requested: WorkflowStatus) -> bool:
    return requested in ALLOWED_TRANSITIONS[current]


@dataclass(frozen=True)
class StatusChange:
    """One recorded move of the workflow (the audit trail keeps every one)."""

    from_status: WorkflowStatus
    to_status: WorkflowStatus
    cause: str

    @property
    def is_reassignment(self) -> bool:
        return self.from_status == self.to_status == W.ASSIGNED_TO_SUPPLIER


def change_status(
    current: WorkflowStatus,
    requested: WorkflowStatus,
    cause: str,
    order_number: str | None = None,
) -> StatusChange:
    """Validate one move and return the change to record; raise ``InvalidTransition``."""
    if not can_transition(current, requested):
        raise InvalidTransition(current, requested, order_number, cause)
    return StatusChange(current, requested, cause)


_STATUS: Final = {
    W.QUOTE_REQUESTED: OrderStatus.PENDING,
    W.QUOTE_PROVIDED: OrderStatus.PENDING,
    W.QUOTE_ACCEPTED: OrderStatus.PENDING,
    W.PLACED: OrderStatus.CONFIRMED,
    W.ASSIGNED_TO_SUPPLIER: OrderStatus.CONFIRMED,
    W.IN_PRODUCTION: OrderStatus.IN_PRODUCTION,
    W.DELAYED: OrderStatus.IN_PRODUCTION,
    W.QUALITY_CHECK: OrderStatus.IN_PRODUCTION,
    W.SHIPPED: OrderStatus.IN_PRODUCTION,
    W.DELIVERED: OrderStatus.IN_PRODUCTION,
    W.COMPLETED: OrderStatus.COMPLETED,
    W.CANCELLED: OrderStatus.CANCELLED,
}

_PRODUCTION_STATUS: Final = {
    W.QUOTE_REQUESTED: ProductionStatus.NOT_STARTED,
    W.QUOTE_PROVIDED: ProductionStatus.NOT_STARTED,
    W.QUOTE_ACCEPTED: ProductionStatus.NOT_STARTED,
    W.PLACED: ProductionStatus.NOT_STARTED,
    W.ASSIGNED_TO_SUPPLIER: ProductionStatus.NOT_STARTED,
    W.IN_PRODUCTION: ProductionStatus.IN_PROGRESS,
    W.DELAYED: ProductionStatus.DELAYED,
    W.QUALITY_CHECK: ProductionStatus.IN_PROGRESS,
    W.SHIPPED: ProductionStatus.COMPLETED,
    W.DELIVERED: ProductionStatus.COMPLETED,
    W.COMPLETED: ProductionStatus.COMPLETED,
    W.CANCELLED: ProductionStatus.NOT_STARTED,
}


def order_status(workflow_status: WorkflowStatus) -> OrderStatus:
    """The buyer-facing order status (see the table in the module docstring)."""
    return _STATUS[workflow_status]


def production_status(workflow_status: WorkflowStatus) -> ProductionStatus:
    """The overall production state (see the table in the module docstring)."""
    return _PRODUCTION_STATUS[workflow_status]


@dataclass(frozen=True)
class Reaction:
    """What an event from elsewhere does to the workflow.

    ``steps`` are the states to walk through, in order; ``ignored_in`` are the
    states in which the event is no news (already there, already past it, or a
    late report about a closed order) and moves nothing.
    """

    steps: tuple[WorkflowStatus, ...]
    ignored_in: frozenset[WorkflowStatus]


_PAST_QC: Final = frozenset({W.SHIPPED, W.DELIVERED})
_STARTED: Final = frozenset({W.IN_PRODUCTION, W.DELAYED, W.QUALITY_CHECK}) | _PAST_QC

REACTIONS: Final = MappingProxyType(
    {
        # Only the first started stage moves the order; later ones are progress.
        "production.stage_started": Reaction((W.IN_PRODUCTION,), _STARTED | TERMINAL),
        # Before the first stage starts, or once in QC, a late stage moves nothing.
        "production.stage_delayed": Reaction(
            (W.DELAYED,),
            frozenset({W.ASSIGNED_TO_SUPPLIER, W.DELAYED, W.QUALITY_CHECK}) | _PAST_QC | TERMINAL,
        ),
        "production.plan_back_on_track": Reaction(
            (W.IN_PRODUCTION,), frozenset(WorkflowStatus) - {W.DELAYED}
        ),
        # A fact from further down the line implies the steps before it: production and
        # quality publish on different topics, so an inspection can be heard of before the
        # first started stage. The order walks through the step it missed.
        "quality.inspection_scheduled": Reaction(
            (W.IN_PRODUCTION, W.QUALITY_CHECK), frozenset({W.QUALITY_CHECK}) | _PAST_QC | TERMINAL
        ),
        "quality.inspection_failed": Reaction(
            (W.IN_PRODUCTION,), frozenset({W.IN_PRODUCTION, W.DELAYED}) | TERMINAL
        ),
        # Production's word that every inspection passed (it owns the gate, see qc_gate there).
        "production.quality_gate_passed": Reaction(
            (W.IN_PRODUCTION, W.QUALITY_CHECK), frozenset({W.QUALITY_CHECK}) | _PAST_QC | TERMINAL
        ),
        # Production completes a shipping stage only past the QC gate (orders checks it too).
        "production.shipping_stage_completed": Reaction(
            (W.IN_PRODUCTION, W.QUALITY_CHECK, W.SHIPPED), _PAST_QC | TERMINAL
        ),
        # Upstream: the service sends this cause only once every piece has shipped.
        "OrderShipped": Reaction((W.SHIPPED,), _PAST_QC | {W.COMPLETED}),
        "DeliveryConfirmed": Reaction((W.DELIVERED, W.COMPLETED), frozenset({W.COMPLETED})),
        "OrderCancelled": Reaction((W.CANCELLED,), frozenset({W.CANCELLED})),
    }
)


def react(
    current: WorkflowStatus, cause: str, order_number: str | None = None
) -> list[WorkflowStatus]:
    """The moves ``cause`` asks of an order in ``current``, in order.

    Empty when the event does not move the order (unknown cause, or ``current`` is
    one of the reaction's ``ignored_in`` states). Raises ``InvalidTransition`` when
    the cause demands a move the workflow forbids, e.g. ``DeliveryConfirmed``
    while ``in_production``.
    """
    reaction = REACTIONS.get(cause)
    if reaction is None or current in reaction.ignored_in:
        return []
    steps = _remaining(reaction.steps, current)
    previous = current
    for step in steps:
        if not can_transition(previous, step):
            raise InvalidTransition(previous, step, order_number, cause)
        previous = step
    return steps


def _remaining(steps: tuple[WorkflowStatus, ...], current: WorkflowStatus) -> list[WorkflowStatus]:
    """The steps still to walk from ``current``: from the furthest step it can move to
    directly (an order already part-way along, or one that may skip an implied step)."""
    for i in range(len(steps) - 1, -1, -1):
        if can_transition(current, steps[i]):
            return list(steps[i:])
    if current in steps:
        return list(steps[steps.index(current) + 1 :])
    return list(steps)
