"""Features of live orders, for the worker: the same vector as in training.

The worker keeps, per order, an ``OrderState`` (its plan and what happened so
far) and, per supplier, the ``OrderOutcome`` of each finished order. At scoring
time ``features_from_state`` builds one frame for a whole batch and
``ScoringModel.predict`` scores it in one call.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd

from looptrace_predictions.arrays import OrderTable, StageTable
from looptrace_predictions.capacity import CapacityPeak
from looptrace_predictions.features import assemble_features, epoch_days
from looptrace_predictions.samples import PpSample, table_from_live
from looptrace_predictions.supplier_history import SUPPLIER_WINDOW, SupplierFeatures, SupplierTotals


@dataclass(frozen=True)
class StageState:
    stage_number: int
    stage_name: str
    planned_start: date
    planned_end: date
    actual_start: date | None = None
    actual_end: date | None = None
    qc_failures: int = 0


@dataclass(frozen=True)
class OrderOutcome:
    """How one of the supplier's orders ended."""

    ended_on: date
    delay_days: float
    mean_stage_slip: float


@dataclass(frozen=True)
class SupplierRecord:
    """Sums over the supplier's last ``SUPPLIER_WINDOW`` orders ended before as_of."""

    ended_orders: int = 0
    on_time_orders: int = 0
    delay_days_total: float = 0.0
    stage_slip_total: float = 0.0

    @classmethod
    def from_outcomes(cls, outcomes: Iterable[OrderOutcome], as_of: date) -> SupplierRecord:
        past = sorted((o for o in outcomes if o.ended_on < as_of), key=lambda o: o.ended_on)
        recent = past[-SUPPLIER_WINDOW:]
        return cls(
            ended_orders=len(recent),
            on_time_orders=sum(o.delay_days <= 0 for o in recent),
            delay_days_total=float(sum(o.delay_days for o in recent)),
            stage_slip_total=float(sum(o.mean_stage_slip for o in recent)),
        )


@dataclass(frozen=True)
class OrderState:
    order_id: str
    supplier_id: str
    product_category: str
    quantity: int
    order_date: date
    target_date: date
    stages: Sequence[StageState]
    supplier: SupplierRecord = field(default_factory=SupplierRecord)
    supplier_open_orders: int = 1  # the supplier's open orders on as_of, this one included
    capacity: CapacityPeak | None = None  # the supplier's overload in the window; None: unknown
    pp_sample: PpSample | None = None  # its pre-production sample loop; None: none heard of


def order_outcome(state: OrderState) -> OrderOutcome | None:
    """The outcome of a finished order (last stage ended), else None."""
    stages = sorted(state.stages, key=lambda s: s.stage_number)
    if not stages or stages[-1].actual_end is None:
        return None
    slips = [
        ((s.actual_end - s.actual_start) - (s.planned_end - s.planned_start)).days
        for s in stages
        if s.actual_start is not None and s.actual_end is not None
    ]
    delay = max(0, (stages[-1].actual_end - state.target_date).days)
    return OrderOutcome(stages[-1].actual_end, float(delay), float(np.mean(slips)))


def features_from_state(states: Sequence[OrderState], as_of: date) -> pd.DataFrame:
    """Feature frame (one row per order) as of ``as_of``; events after it are ignored."""
    if not states:
        raise ValueError("features_from_state needs at least one order state")
    orders = OrderTable(
        order_id=np.array([s.order_id for s in states], dtype=object),
        supplier_id=np.array([s.supplier_id for s in states], dtype=object),
        product_category=np.array([s.product_category for s in states], dtype=object),
        quantity=np.array([s.quantity for s in states], dtype=float),
        order_day=epoch_days(pd.Series([s.order_date for s in states])),
        target_day=epoch_days(pd.Series([s.target_date for s in states])),
    )
    rows = np.arange(len(states))
    day = np.full(len(states), epoch_days(pd.Series([as_of]))[0])
    samples = table_from_live([s.pp_sample for s in states])
    frame = assemble_features(orders, _stage_table(states), rows, day, _supplier(states), samples)
    peaks = [s.capacity or CapacityPeak(float("nan")) for s in states]
    for name in CapacityPeak(0.0).columns():  # the drivers' facts, not features
        frame[name] = [p.columns()[name] for p in peaks]
    return frame


def _supplier(states: Sequence[OrderState]) -> SupplierFeatures:
    def column(name: str) -> np.ndarray:
        return np.array([getattr(s.supplier, name) for s in states], dtype=float)

    totals = SupplierTotals(
        ended_orders=column("ended_orders"),
        on_time_orders=column("on_time_orders"),
        delay_days_total=column("delay_days_total"),
        stage_slip_total=column("stage_slip_total"),
    )
    overload = np.array([np.nan if s.capacity is None else s.capacity.overload_pct for s in states])
    open_orders = np.array([s.supplier_open_orders for s in states])
    return SupplierFeatures(totals, open_orders, overload)


def _stage_table(states: Sequence[OrderState]) -> StageTable:
    width = max(len(s.stages) for s in states)
    stages = [sorted(s.stages, key=lambda st: st.stage_number) for s in states]

    def spread(attribute: str, fill: object = np.nan, dtype: object = float) -> np.ndarray:
        out = np.full((len(states), width), fill, dtype=dtype)
        for i, order_stages in enumerate(stages):
            for k, stage in enumerate(order_stages):
                value = getattr(stage, attribute)
                out[i, k] = fill if value is None else value
        return out

    def days(attribute: str) -> np.ndarray:
        raw = spread(attribute, None, object)
        return epoch_days(pd.Series(raw.ravel())).reshape(raw.shape)

    return StageTable(
        stage_number=spread("stage_number"),
        stage_name=spread("stage_name", "", object),
        planned_start=days("planned_start"),
        planned_end=days("planned_end"),
        actual_start=days("actual_start"),
        actual_end=days("actual_end"),
        qc_failures=spread("qc_failures", 0.0),
    )
