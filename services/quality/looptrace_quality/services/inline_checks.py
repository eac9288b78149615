"""Use case of inline checks: record one at a stage of an order, with its DHU, and tell the
others (``quality.inline_check_recorded``: predictions scores the quality risk on it)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

from looptrace_quality.dhu import check_inline
from looptrace_quality.models import InlineCheckRow, OrderLotRow
from looptrace_quality.services.context import QualityContext, domain_rules
from looptrace_shared.events import quality as ev


@dataclass(frozen=True)
class InlineDefect:
    defect_type: str
    count: int
    defect_class: str | None = None  # defaults to the catalogue's class of the type


@dataclass(frozen=True)
class InlineReport:
    stage: str
    units_checked: int
    inspector: str
    defects: list[InlineDefect] = field(default_factory=list)
    notes: str | None = None
    checked_at: datetime | None = None


async def record_inline_check(
    ctx: QualityContext, lot: OrderLotRow, report: InlineReport
) -> InlineCheckRow:
    with domain_rules():
        check = check_inline(
            report.stage,
            report.units_checked,
            [(d.defect_type, d.count, d.defect_class) for d in report.defects],
        )
    row = InlineCheckRow(
        id=str(uuid.uuid4()), order_id=lot.order_id, supplier_id=lot.supplier_id,
        stage=check.stage, units_checked=check.units_checked, dhu=check.dhu,
        defects=[
            {"defect_type": f.code, "defect_class": f.defect_class.value, "count": f.quantity}
            for f in check.findings
        ],
        defects_by_class=check.defects_by_class(), defects_found=check.defects_found,
        inspector=report.inspector, notes=report.notes,
        checked_at=report.checked_at or datetime.now(UTC),
    )  # fmt: skip
    ctx.uow.session.add(row)
    ctx.emit(lot.order_id, recorded_event(row))
    return row


def recorded_event(row: InlineCheckRow) -> ev.InlineCheckRecorded:
    return ev.InlineCheckRecorded(
        order_id=row.order_id, inline_check_id=row.id, supplier_id=row.supplier_id,
        stage_name=row.stage, units_checked=row.units_checked, defects_by_class=row.defects_by_class,
        dhu=row.dhu, checked_at=row.checked_at,
    )  # fmt: skip
