"""The aggregate production works on: one supplier order, its facts and its plan."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from looptrace_production.domain.capacity import Loading, Signature
from looptrace_production.domain.plan import Plan


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
        return self.loading.signature(self.supplier_id, self.plan.stages)

    @property
    def is_new(self) -> bool:
        return self.version == 0

    @property
    def changed(self) -> bool:
        return self.dirty or self.plan.version != self.plan_version
