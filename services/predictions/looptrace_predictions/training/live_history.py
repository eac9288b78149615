"""The service's own tables as a training history and as the live population for drift.

* ``history_rows`` turns the orders predictions has followed (``order_features``: each
  order's plan and what happened, learnt from production's events) into the history CSV's
  rows — one per stage — so ``looptrace predictions retrain`` trains on live history with
  the same code as on a file. A finished order whose last stage has no end of its own
  ends on the day its supplier outcome was recorded; an order closed without finishing
  (cancelled) is left out, and open orders are kept (their actuals so far; they are not
  labelled, but they count for their supplier's load).
* ``export_inspections`` is the inspections quality reported (``inspection_log``) in the
  inspections CSV's columns, for ``train --target quality``.
* ``live_frame`` is what the worker scored (``live_samples``), features and scores.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from datetime import date
from typing import Any

import pandas as pd
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from looptrace_predictions.domain import LiveOrder
from looptrace_predictions.models import (
    InspectionLogRow,
    LiveSampleRow,
    OrderFeaturesRow,
    SupplierOutcomeRow,
)
from looptrace_predictions.training.history import HISTORY_COLUMNS
from looptrace_predictions.training.inspections import INSPECTION_COLUMNS
from looptrace_shared.db import make_engine, make_sessionmaker

COLUMNS = [*HISTORY_COLUMNS, "qc_failures", "has_print"]


def history_rows(orders: Iterable[tuple[LiveOrder, bool, date | None]]) -> pd.DataFrame:
    """Stage rows of (order, closed, ended_on) triples; unusable orders are skipped."""
    rows: list[dict[str, Any]] = []
    for order, closed, ended_on in orders:
        if closed and ended_on is None:
            continue  # closed without finishing: nothing to learn from
        if not order.scorable or order.supplier_id is None or order.quantity is None:
            continue
        rows.extend(_stage_rows(order, ended_on if closed else None))
    frame = pd.DataFrame(rows, columns=COLUMNS)
    for column in ("order_date", "target_date", "planned_start", "planned_end",
                   "actual_start", "actual_end"):  # fmt: skip
        frame[column] = pd.to_datetime(frame[column])
    return frame


def _stage_rows(order: LiveOrder, ended_on: date | None) -> list[dict[str, Any]]:
    planned = [s for s in order.stages if s.planned]
    head = {
        "order_id": order.order_id, "supplier_id": order.supplier_id,
        "product_category": order.product_category, "quantity": order.quantity,
        "order_date": order.order_date, "target_date": order.target_date,
        "has_print": "" if order.has_print is None else order.has_print,
    }  # fmt: skip
    out = []
    for k, stage in enumerate(planned):
        end = stage.actual_end
        if end is None and ended_on is not None and k == len(planned) - 1:
            end = ended_on
        start = stage.actual_start or (end if end is not None else None)
        out.append(
            head | {
                "stage_number": stage.stage_number, "stage_name": stage.stage_name,
                "planned_start": stage.planned_start, "planned_end": stage.planned_end,
                "actual_start": start, "actual_end": end, "qc_failures": stage.qc_failures,
            }
        )  # fmt: skip
    return out


async def export_history(session: AsyncSession) -> pd.DataFrame:
    """Every followed order as history rows (see the module's docstring)."""
    outcomes = await session.execute(
        select(SupplierOutcomeRow.order_id, SupplierOutcomeRow.ended_on)
    )
    ended = {order_id: ended_on for order_id, ended_on in outcomes.all()}
    rows = await session.scalars(select(OrderFeaturesRow).order_by(OrderFeaturesRow.order_id))
    return history_rows(
        (LiveOrder.from_json(r.state), r.closed_at is not None, ended.get(r.order_id)) for r in rows
    )


async def export_inspections(session: AsyncSession) -> pd.DataFrame:
    """Every recorded inspection, oldest first, in the inspections CSV's columns."""
    columns = [getattr(InspectionLogRow, c) for c in INSPECTION_COLUMNS]
    q = select(*columns).order_by(InspectionLogRow.inspected_on, InspectionLogRow.inspection_id)
    frame = pd.DataFrame([tuple(r) for r in (await session.execute(q)).all()],
                         columns=list(INSPECTION_COLUMNS))  # fmt: skip
    frame["inspected_on"] = pd.to_datetime(frame["inspected_on"])
    return frame


def read_inspections(database_url: str) -> pd.DataFrame:
    """``export_inspections`` against the predictions schema of ``database_url``."""
    return asyncio.run(_with_session(database_url, export_inspections))  # type: ignore[no-any-return]


async def live_frame(session: AsyncSession, since: date) -> pd.DataFrame:
    """The worker's samples since ``since``: feature columns, p_late, delay_p50_days, version."""
    q = select(LiveSampleRow).where(LiveSampleRow.as_of >= since)
    samples = list(await session.scalars(q))
    frame = pd.DataFrame([s.features for s in samples])
    frame["p_late"] = [s.p_late for s in samples]
    frame["delay_p50_days"] = [s.delay_p50_days for s in samples]
    frame["model_version"] = [s.model_version for s in samples]
    return frame


async def _with_session(database_url: str, work: Any) -> Any:
    engine = make_engine(database_url, pool_size=1)
    try:
        async with make_sessionmaker(engine)() as session:
            return await work(session)
    finally:
        await engine.dispose()


def read_history(database_url: str) -> pd.DataFrame:
    """``export_history`` against the predictions schema of ``database_url``."""
    return asyncio.run(_with_session(database_url, export_history))  # type: ignore[no-any-return]


def read_live_frame(database_url: str, since: date) -> pd.DataFrame:
    """``live_frame`` against the predictions schema of ``database_url``."""
    return asyncio.run(_with_session(database_url, lambda s: live_frame(s, since)))  # type: ignore[no-any-return]
