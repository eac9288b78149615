"""Training snapshots and as-of scoring frames from an order history.

A snapshot of an order is taken on ``order_date + fraction × planned duration``
(planned duration = order_date → last planned_end, rounded down to a day) and
only while the order is still open on that date. Its features use only what was
known on that date (see ``features.py`` and ``supplier_history.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from looptrace_predictions.arrays import OrderTable, StageTable
from looptrace_predictions.capacity import window_overload
from looptrace_predictions.features import assemble_features, epoch_days
from looptrace_predictions.samples import SampleTable, table_from_history
from looptrace_predictions.supplier_history import SupplierLedger
from looptrace_predictions.training.history import summarise_orders

TRAINING_FRACTIONS = (0.1, 0.25, 0.4, 0.5, 0.6, 0.75, 0.9)
REPORT_FRACTIONS = (0.25, 0.5, 0.75)
LABEL_COLUMNS = ["fraction", "order_date", "late", "delay_days", "lateness_days", "labelled"]


@dataclass(frozen=True)
class IndexedHistory:
    """A history prepared once for many as-of look-ups."""

    summary: pd.DataFrame
    orders: OrderTable
    stages: StageTable
    ledger: SupplierLedger
    plan_end: np.ndarray
    end: np.ndarray
    capacity: np.ndarray  # the supplier's units per week, per order (NaN: unknown)
    samples: SampleTable  # each order's PP sample loop (``samples.py``)


def index_history(history: pd.DataFrame) -> IndexedHistory:
    summary = summarise_orders(history)
    orders = OrderTable(
        order_id=summary.index.to_numpy(dtype=object),
        supplier_id=summary["supplier_id"].to_numpy(dtype=object),
        product_category=summary["product_category"].to_numpy(dtype=object),
        quantity=summary["quantity"].to_numpy(dtype=float),
        order_day=epoch_days(summary["order_date"]),
        target_day=epoch_days(summary["target_date"]),
    )
    end = epoch_days(summary["end"])
    outcomes = summary[["late", "delay_days", "mean_stage_slip"]].assign(end=end)
    ledger = SupplierLedger(orders.supplier_id, orders.order_day, outcomes.reset_index(drop=True))
    stages = _stage_table(history, summary.index)
    capacity = _capacity(history, summary.index)
    plan_end = epoch_days(summary["plan_end"])
    samples = table_from_history(history, summary.index)
    return IndexedHistory(summary, orders, stages, ledger, plan_end, end, capacity, samples)


def _capacity(history: pd.DataFrame, order_ids: pd.Index) -> np.ndarray:
    if "supplier_capacity_units" not in history:
        return np.full(len(order_ids), np.nan)
    first = history.groupby("order_id", sort=False)["supplier_capacity_units"].first()
    return pd.to_numeric(first.reindex(order_ids), errors="coerce").to_numpy(dtype=float)


def build_snapshots(
    history: pd.DataFrame | IndexedHistory, fractions: tuple[float, ...] = TRAINING_FRACTIONS
) -> pd.DataFrame:
    """Feature rows plus labels for every open order at every fraction."""
    indexed = history if isinstance(history, IndexedHistory) else index_history(history)
    order_day = indexed.orders.order_day
    rows, days, at = [], [], []
    for fraction in fractions:  # gathered first, featurised in one call
        as_of = np.floor(order_day + fraction * (indexed.plan_end - order_day))
        open_rows = np.flatnonzero(_open_on(indexed, as_of))
        rows.append(open_rows)
        days.append(as_of[open_rows])
        at.append(np.full(len(open_rows), fraction))
    frame = _frame(indexed, np.concatenate(rows), np.concatenate(days))
    return frame.assign(fraction=np.concatenate(at))


def open_orders_features(history: pd.DataFrame | IndexedHistory, as_of: str) -> pd.DataFrame:
    """Feature rows of every order open on ``as_of`` (placed by then, not finished)."""
    indexed = history if isinstance(history, IndexedHistory) else index_history(history)
    day = epoch_days(pd.Series([as_of]))[0]
    when = np.full(len(indexed.orders.order_day), day)
    rows = np.flatnonzero(_open_on(indexed, when) & (indexed.orders.order_day <= day))
    return _frame(indexed, rows, when[rows]).assign(fraction=np.nan)


def _open_on(indexed: IndexedHistory, day: np.ndarray) -> np.ndarray:
    return ~(indexed.end <= day)


def _frame(indexed: IndexedHistory, rows: np.ndarray, as_of: np.ndarray) -> pd.DataFrame:
    supplier = indexed.ledger.features(indexed.orders.supplier_id[rows], as_of)
    overload = window_overload(indexed.orders, indexed.stages, indexed.capacity, rows, as_of)
    supplier = replace(supplier, window_overload=overload)
    frame = assemble_features(
        indexed.orders, indexed.stages, rows, as_of, supplier, indexed.samples
    )
    summary = indexed.summary.iloc[rows]
    frame["order_date"] = summary["order_date"].to_numpy()
    frame["late"] = summary["late"].to_numpy(dtype=bool)
    frame["delay_days"] = summary["delay_days"].to_numpy(dtype=float)
    frame["lateness_days"] = indexed.end[rows] - indexed.orders.target_day[rows]
    frame["labelled"] = summary["labelled"].to_numpy(dtype=bool)
    return frame


def _stage_table(history: pd.DataFrame, order_ids: pd.Index) -> StageTable:
    ordered = history.sort_values(["order_id", "stage_number"], kind="stable")
    row = order_ids.get_indexer(ordered["order_id"])
    position = ordered.groupby("order_id", sort=False).cumcount().to_numpy()
    shape = (len(order_ids), int(position.max()) + 1 if len(position) else 1)

    def spread(values: np.ndarray, fill: object = np.nan, dtype: object = float) -> np.ndarray:
        out = np.full(shape, fill, dtype=dtype)
        out[row, position] = values
        return out

    return StageTable(
        stage_number=spread(ordered["stage_number"].to_numpy(dtype=float)),
        stage_name=spread(ordered["stage_name"].to_numpy(dtype=object), "", object),
        planned_start=spread(epoch_days(ordered["planned_start"])),
        planned_end=spread(epoch_days(ordered["planned_end"])),
        actual_start=spread(epoch_days(ordered["actual_start"])),
        actual_end=spread(epoch_days(ordered["actual_end"])),
        qc_failures=spread(ordered["qc_failures"].to_numpy(dtype=float), 0.0),
    )
