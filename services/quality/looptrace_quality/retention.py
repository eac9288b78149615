"""Retention of the quality schema: the records of orders completed more than
``RETENTION_YEARS`` ago (``order_completions``, from ``order.status_changed``) move to the
``quality_archive`` schema: the order's lot, its inspections and their defects, its inline
checks, its photo screenings and their labels. The move is ``looptrace_shared.archive``'s (one
transaction per batch of ``RETENTION_BATCH`` orders, idempotent, safe to interrupt); the read
routes read live and archived rows alike (``readable``), so an archived order answers the same.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table, select

from looptrace_quality.config import QualitySettings
from looptrace_quality.models import (
    DefectRow,
    InlineCheckRow,
    InspectionRow,
    OrderLotRow,
    PhotoScreeningRow,
    ScreeningLabelRow,
    order_completions,
)
from looptrace_shared.archive import ColdStore, Retention, completed_before

SERVICE = "quality"
ARCHIVE_SCHEMA = "quality_archive"


def _table(entity: type[Any]) -> Table:
    return entity.__table__  # type: ignore[no-any-return]


_inspections, _screenings = _table(InspectionRow), _table(PhotoScreeningRow)
_defects, _labels = _table(DefectRow), _table(ScreeningLabelRow)


def _defects_of(ids: Any) -> Any:
    inspections = select(_inspections.c.id).where(_inspections.c.order_id.in_(ids))
    return _defects.c.inspection_id.in_(inspections)


def _labels_of(ids: Any) -> Any:
    return _labels.c.photo_id.in_(
        select(_screenings.c.photo_id).where(_screenings.c.order_id.in_(ids))
    )


#: parents first: what the live foreign keys need (the archive has none)
STORE = ColdStore(
    ARCHIVE_SCHEMA,
    [
        _table(OrderLotRow),
        _inspections,
        (_defects, _defects_of),
        _table(InlineCheckRow),
        _screenings,
        (_labels, _labels_of),
        order_completions,
    ],
)


def readable(entity: type[Any]) -> Any:
    """``entity`` over its live and archived rows, for the read routes."""
    return STORE.readable(entity)


RETENTION = Retention(SERVICE, STORE, completed_before(order_completions), QualitySettings)
run, scheduled, command = RETENTION.run, RETENTION.scheduled, RETENTION.command
