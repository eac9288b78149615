"""Retention of the production schema: the records of orders completed more than
``RETENTION_YEARS`` ago (``order_completions``, from ``order.status_changed``) move to the
``production_archive`` schema: the supplier order and its plan (stages, samples, milestones),
its progress log, stage notes, photos' and documents' rows (their files stay where they are)
and its assignment warnings. The move is ``looptrace_shared.archive``'s (one transaction per
batch of ``RETENTION_BATCH`` orders, idempotent, safe to interrupt); the read routes read live
and archived rows alike, so an archived order answers the same."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Table, select
from sqlalchemy.ext.asyncio import AsyncEngine

from looptrace_production.config import ProductionSettings
from looptrace_production.models import (
    AssignmentWarningRow,
    DocumentRow,
    PhotoRow,
    ProgressLogRow,
    StageNoteRow,
    SupplierOrderRow,
    order_completions,
)
from looptrace_shared.archive import ColdStore, OnBatch, command_part, scheduled_job
from looptrace_shared.retention import Report, cutoff_for

SERVICE = "production"
ARCHIVE_SCHEMA = "production_archive"
MOVED = (
    SupplierOrderRow,
    ProgressLogRow,
    StageNoteRow,
    PhotoRow,
    DocumentRow,
    AssignmentWarningRow,
)
STORE = ColdStore(ARCHIVE_SCHEMA, [*(m.__table__ for m in MOVED), order_completions])


def readable(entity: type[Any]) -> Any:
    """``entity`` over its live and archived rows, for the read routes."""
    return STORE.readable(entity)


def both(table: Table) -> Any:
    return STORE.both(table.name)


def _due(cutoff: datetime, after: str = "") -> Any:
    c = order_completions.c
    return select(c.order_id).where(c.completed_at < cutoff, c.order_id > after)


async def run(
    engine: AsyncEngine,
    settings: ProductionSettings,
    dry_run: bool = False,
    on_batch: OnBatch | None = None,
) -> Report:
    report = Report(SERVICE, dry_run, cutoff_for(settings.retention_years))
    return await STORE.run(engine, report, _due, settings.retention_batch, on_batch)


scheduled = scheduled_job(run)
command = command_part(SERVICE, ProductionSettings, run)
