"""The orders service's unit of work: the orders one batch (or one request) loads, and how
domain refusals become rule violations."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field

from looptrace_orders import repository as repo
from looptrace_orders.models import OrderRow
from looptrace_orders.order_dates import TargetWindow
from looptrace_orders.workflow import (
    InvalidTransition,
    OrderRuleViolation,
    QcGateClosed,
    ShipmentNotAllowed,
)
from looptrace_shared.errors import Refusals, WaitingFor, refused_as
from looptrace_shared.messaging.dispatch import Context

SOURCE = "orders"


REFUSALS: Refusals = {
    (InvalidTransition, ShipmentNotAllowed, QcGateClosed): 409,
    OrderRuleViolation: 422,
}


def domain_rules() -> AbstractContextManager[None]:
    """Domain refusals become rule violations (HTTP 409/422, or a dead letter)."""
    return refused_as(REFUSALS)


@dataclass
class OrdersContext(Context):
    """One batch (or one request): the unit of work and the orders loaded for it."""

    SOURCE = SOURCE

    orders: dict[str, OrderRow] = field(default_factory=dict)
    by_number: dict[str, OrderRow] = field(default_factory=dict)
    actor: str = "system"
    preloaded: bool = False
    target_window: TargetWindow = field(default_factory=TargetWindow)

    async def preload(self, ids: Sequence[str], numbers: Sequence[str] = ()) -> None:
        """Load every order a batch names (by id or order number) in one query; after this
        the batch looks nothing up one by one (a miss means: not there)."""
        for order in await repo.load_orders(self.uow.session, ids, numbers):
            self.remember(order)
        self.preloaded = True

    def remember(self, order: OrderRow) -> None:
        self.orders[order.id] = order
        self.by_number[order.order_number] = order

    async def lookup(self, order_id: str) -> OrderRow | None:
        if order_id in self.orders or self.preloaded:
            return self.orders.get(order_id)
        order = await repo.find_order(self.uow.session, order_id)
        if order is not None:
            self.remember(order)
        return order

    async def get(self, order_id: str) -> OrderRow:
        order = await self.lookup(order_id)
        if order is None:
            raise WaitingFor(f"order {order_id} is not known yet")
        return order

    async def using(self, refs: Sequence[str]) -> list[OrderRow]:
        """The orders whose id or order number is one of ``refs``."""
        if not self.preloaded:
            for order in await repo.load_orders(self.uow.session, refs):
                self.remember(order)
        found = [o for r in refs for o in (self.orders.get(r), self.by_number.get(r)) if o]
        return list({o.id: o for o in found}.values())

    async def with_number(self, number: str) -> OrderRow | None:
        if number in self.by_number or self.preloaded:
            return self.by_number.get(number)
        return await repo.order_by_number(self.uow.session, number)

    @property
    def cause_name(self) -> str:
        return f"event:{self.cause.type}:{self.cause.id}" if self.cause else f"http:{self.actor}"
