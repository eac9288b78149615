"""The orders service's unit of work: the orders one batch (or one request) loads, and how
domain refusals become rule violations."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from looptrace_orders import repository as repo
from looptrace_orders.batch_store import BatchStore
from looptrace_orders.models import OrderRow, StatusHistoryRow
from looptrace_orders.order_dates import TargetWindow
from looptrace_orders.workflow import (
    InvalidTransition,
    OrderRuleViolation,
    QcGateClosed,
    ShipmentNotAllowed,
)
from looptrace_shared.db import UnitOfWork
from looptrace_shared.envelope import cause_ids, encode_envelope
from looptrace_shared.errors import Refusals, WaitingFor, refused_as
from looptrace_shared.messaging.dispatch import Context

SOURCE = "orders"


REFUSALS: Refusals = {
    (InvalidTransition, ShipmentNotAllowed, QcGateClosed): 409,
    OrderRuleViolation: 422,
}


class _DomainRules(AbstractContextManager[None]):
    """``refused_as(REFUSALS)`` as one object, entered again and again: a batch enters it for
    every move of every order, and a generator-based context manager is made each time."""

    KINDS = tuple(k for key in REFUSALS for k in (key if isinstance(key, tuple) else (key,)))

    def __exit__(self, kind: object, err: BaseException | None, tb: object) -> None:
        if isinstance(err, self.KINDS):
            with refused_as(REFUSALS):
                raise err


_DOMAIN_RULES = _DomainRules()


def domain_rules() -> AbstractContextManager[None]:
    """Domain refusals become rule violations (HTTP 409/422, or a dead letter)."""
    return _DOMAIN_RULES


@dataclass
class OrdersContext(Context):
    """One batch (or one request): the unit of work and the orders loaded for it.

    A consumed batch has a ``store`` (``for_batch``): its orders are read and written as
    sets (see ``batch_store``). A request has none: its order lives in the ORM session.
    """

    SOURCE = SOURCE

    orders: dict[str, OrderRow] = field(default_factory=dict)
    by_number: dict[str, OrderRow] = field(default_factory=dict)
    actor: str = "system"
    preloaded: bool = False
    target_window: TargetWindow = field(default_factory=TargetWindow)
    store: BatchStore | None = None

    @classmethod
    def for_batch(cls, uow: UnitOfWork, target_window: TargetWindow) -> OrdersContext:
        return cls(uow, target_window=target_window, store=BatchStore())

    async def preload(self, ids: Sequence[str], numbers: Sequence[str] = ()) -> None:
        """Load every order a batch names (by id or order number) in one query; after this
        the batch looks nothing up one by one (a miss means: not there)."""
        session = self.uow.session
        if self.store is not None:
            found = await self.store.load(session, [*ids, *numbers])
        else:
            found = await repo.load_orders(session, ids, numbers)
        for order in found:
            self.remember(order)
        self.preloaded = True

    def new_order(self, values: dict[str, Any]) -> OrderRow:
        """A new order of these column values: written with the batch's orders, or added
        to the session."""
        if self.store is not None:
            order = self.store.add(values)
        else:
            order = OrderRow(**values)
            self.uow.session.add(order)
        self.remember(order)
        return order

    def add_history(self, order: OrderRow, from_: str | None, to: str, reason: str | None) -> None:
        """One entry of the order's status history, naming what caused it."""
        if self.store is not None:
            self.store.add_history(order.id, from_, to, self.cause_name, reason)
            return
        self.uow.session.add(
            StatusHistoryRow(
                order_id=order.id,
                from_status=from_,
                to_status=to,
                cause=self.cause_name[:200],
                reason=reason,
                at=datetime.now(UTC),
            )
        )

    async def flush(self) -> None:
        """Write what this unit of work changed so far (the batch's orders first: the
        session's rows refer to them)."""
        if self.store is not None:
            await self.store.write(self.uow.session)
        await self.uow.session.flush()

    def emit_wire(self, subject: str, type_: str, data: dict[str, Any]) -> None:
        """Emit an event whose JSON ``data`` the service built from checked values (a unit
        test holds each such builder to its contract): no model to validate and dump."""
        ids = cause_ids(self.cause)
        self.uow.emit(encode_envelope(type_, self.SOURCE, subject, data, ids))

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
        if self.cause is None:
            return f"http:{self.actor}"
        return f"event:{self.cause.type}:{self.cause.id_text}"
