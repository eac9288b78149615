"""Decoded supplier orders kept between batches, so a plan is not read and decoded per message.

Kafka keys progress by order id, so one consumer sees all of an order's messages and can keep
its plan in memory. The cache is only ever a copy of a committed row:

- ``take`` hands an order to one transaction and removes it from the cache. It returns the
  order only if its version equals the row version just read (under ``FOR UPDATE``); a
  different version means someone else (another replica, the sweeper, an HTTP request)
  changed the row, and the caller reads it afresh.
- ``keep`` puts the orders back, and the batch handler calls it only once the transaction has
  committed (``UnitOfWork.after_commit``). An order changed by a transaction that rolled back
  was taken and never put back, so its uncommitted state is never reused.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable

from sqlalchemy.ext.asyncio import AsyncSession

from looptrace_production import repository as repo
from looptrace_production.config import PLAN_CACHE_SIZE
from looptrace_production.domain import SupplierOrder

# orders (PLAN_CACHE_SIZE); a decoded 10-stage plan takes about 4.7 KB of Python objects
# (tracemalloc; about 6.5 KB of RSS with the allocator's slack), so about 100 MB: production
# stays under 250 MB of RSS however many orders are live
SIZE = PLAN_CACHE_SIZE


class PlanCache:
    """At most ``size`` committed orders by id, the least recently used dropped first."""

    def __init__(self, size: int = SIZE) -> None:
        self.size = size
        self._orders: OrderedDict[str, SupplierOrder] = OrderedDict()
        self.hits = self.misses = 0

    def __len__(self) -> int:
        return len(self._orders)

    def take(self, order_id: str, version: int) -> SupplierOrder | None:
        """The cached order at exactly ``version``, removed from the cache; else None."""
        order = self._orders.pop(order_id, None)
        if order is None or order.version != version or order.changed:
            self.misses += 1
            return None
        self.hits += 1
        return order

    def keep(self, orders: Iterable[SupplierOrder]) -> None:
        """Put back orders as committed (call after the commit only)."""
        if self.size <= 0:
            return
        for order in orders:
            if order.is_new or order.changed:
                continue  # not stored as it is in memory: nothing to vouch for
            self._orders.pop(order.order_id, None)
            self._orders[order.order_id] = order
        while len(self._orders) > self.size:
            self._orders.popitem(last=False)

    def clear(self) -> None:
        self._orders.clear()


async def lock_orders(
    session: AsyncSession, cache: PlanCache, ids: Iterable[str], numbers: Iterable[str] = ()
) -> list[SupplierOrder]:
    """``repo.lock_orders`` that reads and decodes only the plans the cache cannot vouch for."""
    found, missing = [], []
    for order_id, version in await repo.lock_versions(session, ids, numbers):
        order = cache.take(order_id, version)
        if order is None:
            missing.append(order_id)
        else:
            found.append(order)
    return found + await repo.read_orders(session, missing)
