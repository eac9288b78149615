"""The aggregate production works on: one supplier order, its facts and its plan."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from looptrace_production.domain.capacity import Loading, Signature
from looptrace_production.domain.plan import Plan

CLOSING = frozenset({"cancelled", "completed"})  # the orders workflow's terminal states


@dataclass(frozen=True, slots=True)
class Closure:
    """The order left the workflow: as what (a ``CLOSING`` status), and when."""

    status: str
    at: datetime


@dataclass
class SupplierOrder:
    """One supplier order in memory: its facts, its plan, and the row version it was read at."""

    order_id: str
    order_number: str
    supplier_id: str
    supplier_name: str | None
    buyer_id: str
    product_category: str
    quantity: int
    target_date: date
    has_print: bool
    plan: Plan
    version: int = 0  # 0: not stored yet
    completed_at: datetime | None = None
    # the order left the workflow (cancelled, or signed off as completed): its load from that
    # day on is released and its plan takes no more reports
    closed_at: datetime | None = None
    closed_as: str | None = None
    plan_version: int = field(init=False)
    dirty: bool = False
    # the load signature (``capacity.Signature``) as stored: a save records the load's change
    load_seen: Any = field(default=None, init=False, repr=False, compare=False)
    # which stages load which capacity buckets: fixed, like the plan's layout
    loading: Loading = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.plan_version = self.plan.version
        plan = self.plan
        self.loading = Loading.of(self.product_category, self.quantity, plan.calendar, plan.stages)

    def load_signature(self) -> Signature:
        closed_on = self.closed_at.date() if self.closed_at is not None else None
        return self.loading.signature(self.supplier_id, self.plan.stages, closed_on)

    def close(self, closure: Closure) -> bool:
        """The order was cancelled or completed in the workflow (False: it already was)."""
        if self.closed_at is not None:
            return False
        self.closed_at, self.closed_as, self.dirty = closure.at, closure.status, True
        return True

    @property
    def is_new(self) -> bool:
        return self.version == 0

    @property
    def changed(self) -> bool:
        return self.dirty or self.plan.version != self.plan_version
