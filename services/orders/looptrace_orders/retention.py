"""Retention of the orders schema: completed orders older than ``RETENTION_YEARS`` move, with
their history, shipments, shipment updates and invoices, to the ``orders_archive`` schema
(``looptrace_shared.archive``: one transaction per batch of ``RETENTION_BATCH`` orders,
idempotent, safe to interrupt)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from looptrace_orders.archive import LIVE, STORE
from looptrace_orders.config import OrdersSettings
from looptrace_orders.workflow import WorkflowStatus
from looptrace_shared.archive import Retention

SERVICE = "orders"


def _due(cutoff: datetime, after: str = "") -> Any:
    """Completed orders whose completion was recorded before ``cutoff``, in id order after
    ``after``: the orders' status index, then each one's history by its order index (a
    scalar subquery, so a batch stops at its limit instead of reading every history row)."""
    orders, history = LIVE["orders"], LIVE["status_history"]
    completed_at = (
        select(func.max(history.c.at))
        .where(
            history.c.order_id == orders.c.id,
            history.c.to_status == WorkflowStatus.COMPLETED.value,
        )
        .scalar_subquery()
    )
    return select(orders.c.id).where(
        orders.c.workflow_status == WorkflowStatus.COMPLETED.value,
        orders.c.id > after,
        completed_at < cutoff,
    )


RETENTION = Retention(SERVICE, STORE, _due, OrdersSettings)
run, scheduled, command = RETENTION.run, RETENTION.scheduled, RETENTION.command
