"""Planned load and utilisation of supplier capacity, kept current as plans change.

- ``record``: in the transaction that saves changed plans, the change of their load (new load
  minus the load as stored, ``domain.capacity``) is appended to ``load_deltas``: one INSERT,
  no shared row touched, so the consumer's lanes never wait on each other.
- ``fold`` (periodic, and after a capacity report): the pending deltas are added to
  ``supplier_load`` (supplier × week × bucket) one after the other, in the order they were
  written, each running sum compared with the capacity effective that week; every crossing
  emits ``production.capacity_overloaded`` (or ``capacity_recovered``) once, the row's
  ``overloaded`` flag remembering the state. One folder at a time (an advisory lock).
- ``snapshot``: once per week, a row per supplier × bucket of the current week goes to
  ``capacity_utilization_log``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from looptrace_production.domain import SupplierOrder
from looptrace_production.domain import capacity as cap
from looptrace_shared.db import UnitOfWork, text_array
from looptrace_shared.events import suppliers as wire
from looptrace_shared.messaging.dispatch import Context

FOLD_LOCK = 0x5EED_CA9A  # pg advisory lock key of the folder
SOURCE = "production"


class Folding(Context):
    """What the fold works in: a job's unit of work, no message being handled."""

    SOURCE = SOURCE


def load_changes(orders: Iterable[SupplierOrder]) -> cap.Load:
    """The load change of the changed orders since they were stored; marks them as stored."""
    total: cap.Load = {}
    for order in orders:
        if not order.changed:
            continue
        new = order.load_signature()
        if new == order.load_seen:
            continue
        cap.add(total, order.loading.change(order.load_seen, new))
        order.load_seen = new
    return total


def remember_loaded(order: SupplierOrder) -> None:
    """An order read from the database: its stored load is that of its plan as read."""
    if order.load_seen is None and not order.is_new:
        order.load_seen = order.load_signature()


async def record(session: AsyncSession, orders: Iterable[SupplierOrder]) -> int:
    """Append the load change of the changed orders to ``load_deltas`` (one statement)."""
    return await append(session, load_changes(orders))


async def append(session: AsyncSession, change: cap.Load) -> int:
    """Append these load changes to ``load_deltas`` (one statement); how many."""
    if not change:
        return 0
    params: dict[str, Any] = {
        "weeks": [k[1] for k in change],
        "units": list(change.values()),
    }
    suppliers = text_array(params, "suppliers", [k[0] for k in change])
    buckets = text_array(params, "buckets", [k[2] for k in change])
    await session.execute(
        text(
            f"""
            INSERT INTO production.load_deltas (supplier_id, week, bucket, units)
            SELECT * FROM unnest({suppliers}, CAST(:weeks AS date[]), {buckets},
                                 CAST(:units AS float8[]))
            """
        ),
        params,
    )
    return len(change)


_TAKE = text(
    """
    WITH d AS (DELETE FROM production.load_deltas RETURNING id, supplier_id, week, bucket, units),
    s AS (SELECT supplier_id, week, bucket, array_agg(units ORDER BY id) AS changes
          FROM d GROUP BY 1, 2, 3)
    SELECT s.supplier_id, s.week, s.bucket, s.changes,
           coalesce(l.units, 0) AS units, coalesce(l.overloaded, false) AS overloaded
    FROM s LEFT JOIN production.supplier_load AS l
      ON l.supplier_id = s.supplier_id AND l.week = s.week AND l.bucket = s.bucket
    ORDER BY 1, 2, 3
    """
)


async def fold(uow: UnitOfWork) -> int:
    """Add the pending deltas to ``supplier_load`` in the order they were written, and emit
    every crossing on the way. Returns the events emitted.

    In order, not summed first: an overload that a later change undoes before this fold ran
    (a second order, then a re-forecast moving it away) is still a change of the week's
    state, reported once each way, however late the fold runs on a busy machine. PostgreSQL
    groups the deltas (one row per supplier-week, its changes as an array)."""
    s = uow.session
    await s.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": FOLD_LOCK})
    rows = list(await s.execute(_TAKE))
    if not rows:
        return 0
    caps = await capacities(s, (r.supplier_id for r in rows))
    after, emitted = [], 0
    for r in rows:
        key = (r.supplier_id, r.week, r.bucket)
        capacity = cap.capacity_on(r.week, caps.get(r.supplier_id, {}).get(r.bucket, []))
        units, flips = cap.crossings(r.units, r.overloaded, r.changes, capacity)
        after.append((key, units, flips[-1][1] if flips else r.overloaded))
        for _, over, then in flips:
            _emit(uow, r.supplier_id, r.week, r.bucket, then, capacity or 0, over)
        emitted += len(flips)
    await _store(s, after)
    return emitted


async def _store(session: AsyncSession, rows: list[tuple[cap.LoadKey, float, bool]]) -> None:
    params: dict[str, Any] = {
        "weeks": [r[0][1] for r in rows],
        "units": [r[1] for r in rows],
        "flags": [r[2] for r in rows],
    }
    suppliers = text_array(params, "suppliers", [r[0][0] for r in rows])
    buckets = text_array(params, "buckets", [r[0][2] for r in rows])
    await session.execute(
        text(
            f"""
            INSERT INTO production.supplier_load AS l (supplier_id, week, bucket, units, overloaded)
            SELECT * FROM unnest({suppliers}, CAST(:weeks AS date[]), {buckets},
                                 CAST(:units AS float8[]), CAST(:flags AS bool[]))
            ON CONFLICT (supplier_id, week, bucket)
            DO UPDATE SET units = excluded.units, overloaded = excluded.overloaded
            """
        ),
        params,
    )


async def reevaluate(uow: UnitOfWork, supplier_id: str, bucket: str) -> int:
    """After a capacity report: compare the supplier's stored weeks of ``bucket`` again."""
    s = uow.session
    await s.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": FOLD_LOCK})
    q = text(
        "SELECT supplier_id, week, bucket, units, overloaded FROM production.supplier_load "
        "WHERE supplier_id = :s AND bucket = :b FOR UPDATE"
    )
    rows = await s.execute(q, {"s": supplier_id, "b": bucket})
    return await _crossings(uow, [tuple(r) for r in rows])


Capacities = dict[str, dict[str, list[tuple[date, date | None, int]]]]


async def capacities(session: AsyncSession, suppliers: Iterable[str]) -> Capacities:
    """Every reported capacity of these suppliers: supplier → bucket → (from, to, units)."""
    ids = sorted(set(suppliers))
    out: Capacities = {}
    if not ids:
        return out
    q = text(
        "SELECT supplier_id, bucket, effective_from, effective_to, units_per_week "
        "FROM production.supplier_capacity WHERE supplier_id = ANY(:ids)"
    )
    for r in await session.execute(q, {"ids": ids}):
        out.setdefault(r.supplier_id, {}).setdefault(r.bucket, []).append(
            (r.effective_from, r.effective_to, r.units_per_week)
        )
    return out


async def _crossings(uow: UnitOfWork, rows: Sequence[tuple[Any, ...]]) -> int:
    caps = await capacities(uow.session, (r[0] for r in rows))
    flips: list[tuple[str, date, str, bool]] = []
    for supplier_id, week, bucket, units, was in rows:
        capacity = cap.capacity_on(week, caps.get(supplier_id, {}).get(bucket, []))
        now = cap.overloaded(units, capacity)
        if now != was:
            flips.append((supplier_id, week, bucket, now))
            _emit(uow, supplier_id, week, bucket, units, capacity or 0, now)
    if flips:
        await _set_flags(uow.session, flips)
    return len(flips)


def _emit(
    uow: UnitOfWork,
    supplier_id: str,
    week: date,
    bucket: str,
    units: float,
    capacity: int,
    over: bool,
) -> None:
    model = wire.CapacityOverloaded if over else wire.CapacityRecovered
    data = model(
        supplier_id=supplier_id,
        week=week,
        bucket=bucket,
        load_units=round(units, 3),
        capacity_units=capacity,
        utilisation_pct=cap.utilisation_pct(units, capacity) or 0.0,
    )
    Folding(uow).emit(supplier_id, data, cause=None)


async def _set_flags(session: AsyncSession, flips: list[tuple[str, date, str, bool]]) -> None:
    params: dict[str, Any] = {"weeks": [f[1] for f in flips], "flags": [f[3] for f in flips]}
    suppliers = text_array(params, "suppliers", [f[0] for f in flips])
    buckets = text_array(params, "buckets", [f[2] for f in flips])
    await session.execute(
        text(
            f"""
            UPDATE production.supplier_load AS l SET overloaded = v.flag
            FROM unnest({suppliers}, CAST(:weeks AS date[]), {buckets},
                        CAST(:flags AS bool[])) AS v(supplier_id, week, bucket, flag)
            WHERE l.supplier_id = v.supplier_id AND l.week = v.week AND l.bucket = v.bucket
            """
        ),
        params,
    )


async def snapshot(session: AsyncSession, week: date) -> int:
    """The log rows of ``week`` (once: a second call that week adds nothing)."""
    result: Any = await session.execute(
        text(
            """
            INSERT INTO production.capacity_utilization_log
                (supplier_id, week, bucket, load_units, capacity_units, utilisation_pct)
            SELECT l.supplier_id, l.week, l.bucket, l.units, c.units_per_week,
                   CASE WHEN c.units_per_week > 0
                        THEN round((100.0 * l.units / c.units_per_week)::numeric, 1) END
            FROM production.supplier_load AS l
            LEFT JOIN LATERAL (
                SELECT units_per_week FROM production.supplier_capacity AS c
                WHERE c.supplier_id = l.supplier_id AND c.bucket = l.bucket
                  AND c.effective_from <= l.week + 6
                  AND (c.effective_to IS NULL OR c.effective_to >= l.week)
                ORDER BY c.effective_from DESC LIMIT 1
            ) AS c ON true
            WHERE l.week = :week
            ON CONFLICT (supplier_id, week, bucket) DO NOTHING
            """
        ),
        {"week": week},
    )
    return int(result.rowcount or 0)


async def weeks_of(
    session: AsyncSession, supplier_ids: Sequence[str], first: date, last: date
) -> dict[cap.LoadKey, float]:
    """Stored load (with deltas not folded yet) of these suppliers between two weeks."""
    q = text(
        """
        SELECT supplier_id, week, bucket, sum(units) AS units FROM (
            SELECT supplier_id, week, bucket, units FROM production.supplier_load
            WHERE supplier_id = ANY(:ids) AND week BETWEEN :first AND :last
            UNION ALL
            SELECT supplier_id, week, bucket, units FROM production.load_deltas
            WHERE supplier_id = ANY(:ids) AND week BETWEEN :first AND :last
        ) AS u GROUP BY 1, 2, 3
        """
    )
    rows = await session.execute(q, {"ids": list(supplier_ids), "first": first, "last": last})
    return {(r.supplier_id, r.week, r.bucket): r.units for r in rows}
