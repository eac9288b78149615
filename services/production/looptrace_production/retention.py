"""Retention of the production schema: the records of orders completed more than
``RETENTION_YEARS`` ago (``order_completions``, from ``order.status_changed``) move to the
``production_archive`` schema: the supplier order and its plan (stages, samples, milestones),
its progress log, stage notes, photos' and documents' rows (their files stay where they are)
and its assignment warnings. The move is ``looptrace_shared.archive``'s (one transaction per
batch of ``RETENTION_BATCH`` orders, idempotent, safe to interrupt); the read routes read live
and archived rows alike, so an archived order answers the same."""

from __future__ import annotations

from typing import Any

from looptrace_production.config import ProductionSettings
from looptrace_production.models import (
    AssignmentWarningRow,
    DocumentRow,
    OrderClosureRow,
    PhotoRow,
    ProgressLogRow,
    StageNoteRow,
    SupplierOrderRow,
    order_completions,
)
from looptrace_shared.archive import ColdStore, Retention, completed_before

SERVICE = "production"
ARCHIVE_SCHEMA = "production_archive"
MOVED = (
    SupplierOrderRow,
    ProgressLogRow,
    StageNoteRow,
    PhotoRow,
    DocumentRow,
    AssignmentWarningRow,
    OrderClosureRow,
)
STORE = ColdStore(ARCHIVE_SCHEMA, [*(m.__table__ for m in MOVED), order_completions])


def readable(entity: type[Any]) -> Any:
    """``entity`` over its live and archived rows, for the read routes."""
    return STORE.readable(entity)


RETENTION = Retention(SERVICE, STORE, completed_before(order_completions), ProductionSettings)
run, scheduled, command = RETENTION.run, RETENTION.scheduled, RETENTION.command
