"""Quality-risk training snapshots: one per lot inspection, taken when it is about to happen.

A snapshot of a lot inspection is taken on its ``inspected_on`` day and labelled with its
result (``rejected``). Its features use only what was known then: the schedule features of
the order on that day (``features.assemble_features``: stages done by that day, the supplier's
delay record of orders ended before it) and the inspection features of every inspection dated
strictly before it (``quality_features.inspection_features``). A round-1 snapshot is the one
"at the time the QC stage starts" (the first inspection of the stage is on its first day).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from looptrace_predictions.features import assemble_features, epoch_days
from looptrace_predictions.quality_features import combine, inspection_features
from looptrace_predictions.training.inspections import INLINE, REJECTED
from looptrace_predictions.training.snapshots import IndexedHistory, index_history

LABELS = ["rejected", "order_date", "labelled", "qc_start"]


@dataclass(frozen=True)
class QualityHistory:
    """A stage history and its inspections, prepared once."""

    indexed: IndexedHistory
    inspections: pd.DataFrame  # INSPECTION_COLUMNS + supplier_id + day, of known orders only
    has_print: pd.Series  # per order id: 1.0 / 0.0 / NaN


def index_quality(history: pd.DataFrame, inspections: pd.DataFrame) -> QualityHistory:
    indexed = index_history(history)
    supplier = pd.Series(indexed.orders.supplier_id, index=indexed.summary.index)
    known = inspections[inspections["order_id"].isin(supplier.index)].copy()
    known["supplier_id"] = supplier.reindex(known["order_id"]).to_numpy()
    known["day"] = epoch_days(known["inspected_on"])
    flags = history["has_print"] if "has_print" in history else pd.Series(np.nan, history.index)
    has_print = flags.groupby(history["order_id"], sort=False).first()
    return QualityHistory(indexed, known.reset_index(drop=True), has_print.astype(float))


def build_quality_snapshots(quality: QualityHistory) -> pd.DataFrame:
    """Feature rows plus labels, one per lot inspection of the history."""
    lots = quality.inspections[quality.inspections["result"] != INLINE]
    keys = lots.assign(as_of_day=lots["day"])[
        ["order_id", "supplier_id", "as_of_day", "inspection_stage"]
    ].reset_index(drop=True)
    frame = quality_frame(quality, keys)
    summary = quality.indexed.summary.reindex(keys["order_id"])
    frame["rejected"] = (lots["result"] == REJECTED).to_numpy()
    frame["order_date"] = summary["order_date"].to_numpy()
    frame["labelled"] = True
    frame["qc_start"] = frame["inspection_round"] == 1
    return frame


def quality_frame(quality: QualityHistory, keys: pd.DataFrame) -> pd.DataFrame:
    """The quality features of every key (order_id, supplier_id, as_of_day, inspection_stage)."""
    indexed = quality.indexed
    rows = indexed.summary.index.get_indexer(keys["order_id"])
    as_of = keys["as_of_day"].to_numpy(dtype=float)
    supplier = indexed.ledger.features(indexed.orders.supplier_id[rows], as_of)
    schedule = assemble_features(
        indexed.orders, indexed.stages, rows, as_of, supplier, indexed.samples
    )
    extra = inspection_features(quality.inspections, keys)
    has_print = quality.has_print.reindex(keys["order_id"]).to_numpy(dtype=float)
    return combine(schedule, extra, keys, has_print)
