"""Retention of the orders schema: completed orders older than ``RETENTION_YEARS`` move, with
their history, shipments, shipment updates and invoices, to the ``orders_archive`` schema.

A move is one transaction per batch of ``RETENTION_BATCH`` orders (1 = one per order): copy
every row, then delete the live order (its children go by ON DELETE CASCADE). An interrupted
run leaves each batch either moved or untouched, and a rerun picks up what is left; the copy
skips rows already archived (``ON CONFLICT DO NOTHING``), so nothing is ever duplicated.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from looptrace_orders.archive import ARCHIVED, LIVE
from looptrace_orders.config import OrdersSettings
from looptrace_orders.workflow import WorkflowStatus
from looptrace_shared.db import make_engine
from looptrace_shared.retention import Report, cutoff_for

SERVICE = "orders"
log = logging.getLogger(__name__)
OnBatch = Callable[[list[str]], Awaitable[None]]


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


async def _count(conn: AsyncConnection, due: Any) -> dict[str, int]:
    ids = due.subquery()
    counts = {}
    for name, table in LIVE.items():
        key = table.c.id if name == "orders" else table.c.order_id
        q = select(func.count()).select_from(table).where(key.in_(select(ids.c.id)))
        counts[name] = int((await conn.execute(q)).scalar_one())
    return counts


async def _move_batch(conn: AsyncConnection, ids: list[str]) -> dict[str, int]:
    moved = {}
    for name, live in LIVE.items():
        key = live.c.id if name == "orders" else live.c.order_id
        cols = [c.name for c in live.columns]
        copy = pg_insert(ARCHIVED[name]).from_select(cols, select(*live.c).where(key.in_(ids)))
        result = await conn.execute(copy.on_conflict_do_nothing())
        moved[name] = result.rowcount
    await conn.execute(delete(LIVE["orders"]).where(LIVE["orders"].c.id.in_(ids)))
    return moved


async def run(
    engine: AsyncEngine,
    settings: OrdersSettings,
    dry_run: bool = False,
    on_batch: OnBatch | None = None,
) -> Report:
    """Move (or count, dry) every order due; ``on_batch`` is called inside each batch's
    transaction after the copy and before the commit (tests interrupt runs there)."""
    report = Report(SERVICE, dry_run, cutoff_for(settings.retention_years))
    if dry_run:
        async with engine.connect() as conn:
            report.rows = await _count(conn, _due(report.cutoff))
        report.orders = report.rows.get("orders", 0)
        return report
    last = ""
    while True:
        async with engine.begin() as conn:
            batch = _due(report.cutoff, last).order_by("id").limit(settings.retention_batch)
            ids = list((await conn.execute(batch.with_for_update(skip_locked=True))).scalars())
            if not ids:
                return report
            report.add(await _move_batch(conn, ids))
            if on_batch is not None:
                await on_batch(ids)
        report.orders += len(ids)
        last = ids[-1]


async def scheduled(rt: Any) -> None:
    """The service's periodic job (every ``RETENTION_INTERVAL_S``)."""
    for line in (await run(rt.engine, rt.settings)).lines():
        log.info("retention: %s", line)


async def command(dry_run: bool) -> list[str]:
    """``looptrace retention run``: this service's part, with its settings from the environment."""
    settings = OrdersSettings()
    engine = make_engine(settings.database_url, pool_size=1)
    try:
        return (await run(engine, settings, dry_run)).lines()
    finally:
        await engine.dispose()
