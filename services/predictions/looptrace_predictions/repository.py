"""Queries of the predictions schema."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date

from sqlalchemy import func, insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from looptrace_predictions.capacity import WeekLoad
from looptrace_predictions.models import (
    LiveSampleRow,
    OrderFeaturesRow,
    RiskAssessmentRow,
    SupplierCapacityWeekRow,
    SupplierOutcomeRow,
)
from looptrace_predictions.state import OrderOutcome


async def lock_orders(
    session: AsyncSession, order_ids: Iterable[str]
) -> dict[str, OrderFeaturesRow]:
    """The rows of these orders, locked for this transaction (one query)."""
    ids = sorted(set(order_ids))
    if not ids:
        return {}
    q = select(OrderFeaturesRow).where(OrderFeaturesRow.order_id.in_(ids)).with_for_update()
    return {r.order_id: r for r in await session.scalars(q)}


async def stale_open_orders(
    session: AsyncSession, as_of: date, limit: int
) -> list[OrderFeaturesRow]:
    """Open orders not assessed on ``as_of`` yet, locked (skipping rows a consumer holds)."""
    q = (
        select(OrderFeaturesRow)
        .where(OrderFeaturesRow.closed_at.is_(None))
        .where((OrderFeaturesRow.assessed_on < as_of) | OrderFeaturesRow.assessed_on.is_(None))
        .order_by(OrderFeaturesRow.order_id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list(await session.scalars(q))


async def outcomes_of(
    session: AsyncSession, supplier_ids: Iterable[str]
) -> dict[str, list[OrderOutcome]]:
    ids = sorted(set(supplier_ids))
    found: dict[str, list[OrderOutcome]] = defaultdict(list)
    if not ids:
        return found
    q = select(SupplierOutcomeRow).where(SupplierOutcomeRow.supplier_id.in_(ids))
    for r in await session.scalars(q):
        found[r.supplier_id].append(OrderOutcome(r.ended_on, r.delay_days, r.mean_stage_slip))
    return found


async def open_order_counts(session: AsyncSession, supplier_ids: Iterable[str]) -> dict[str, int]:
    ids = sorted(set(supplier_ids))
    if not ids:
        return {}
    t = OrderFeaturesRow
    q = (
        select(t.supplier_id, func.count())
        .where(t.supplier_id.in_(ids), t.closed_at.is_(None))
        .group_by(t.supplier_id)
    )
    return {str(s): int(n) for s, n in (await session.execute(q)).all()}


async def save_capacity_weeks(session: AsyncSession, rows: list[dict[str, object]]) -> None:
    """Production's latest utilisation of each supplier-week and bucket (upsert)."""
    if not rows:
        return
    stmt = pg_insert(SupplierCapacityWeekRow)
    update = {c: stmt.excluded[c] for c in ("utilisation_pct", "overloaded")}
    await session.execute(
        stmt.on_conflict_do_update(index_elements=["supplier_id", "week", "bucket"], set_=update),
        rows,
    )


async def overloaded_weeks(
    session: AsyncSession, supplier_ids: Iterable[str], first: date, last: date
) -> dict[str, list[WeekLoad]]:
    """The overloaded weeks of these suppliers between two Mondays."""
    t = SupplierCapacityWeekRow
    ids = sorted(set(supplier_ids))
    found: dict[str, list[WeekLoad]] = defaultdict(list)
    if not ids:
        return found
    q = select(t).where(t.supplier_id.in_(ids), t.overloaded, t.week.between(first, last))
    for r in await session.scalars(q):
        found[r.supplier_id].append(WeekLoad(r.week, r.bucket, r.utilisation_pct, r.overloaded))
    return found


async def record_assessments(session: AsyncSession, rows: list[dict[str, object]]) -> None:
    if rows:
        await session.execute(insert(RiskAssessmentRow), rows)


async def record_live_samples(session: AsyncSession, rows: list[dict[str, object]]) -> None:
    """One sample per order and day: a later scoring on the same day replaces it."""
    if not rows:
        return
    stmt = pg_insert(LiveSampleRow)
    update = {
        c: stmt.excluded[c] for c in ("model_version", "features", "p_late", "delay_p50_days")
    }
    unique = {(r["order_id"], r["as_of"]): r for r in rows}
    await session.execute(
        stmt.on_conflict_do_update(index_elements=["order_id", "as_of"], set_=update),
        list(unique.values()),
    )


async def history_of(session: AsyncSession, order_id: str, limit: int) -> list[RiskAssessmentRow]:
    q = (
        select(RiskAssessmentRow)
        .where(RiskAssessmentRow.order_id == order_id)
        .order_by(RiskAssessmentRow.at.desc(), RiskAssessmentRow.id.desc())
        .limit(limit)
    )
    return list(await session.scalars(q))


async def order(session: AsyncSession, order_id: str) -> OrderFeaturesRow | None:
    return await session.get(OrderFeaturesRow, order_id)
