"""The quality-risk feature vector of an order's next inspection, from what was known before it.

One function, ``inspection_features``, computes the inspection part for both training
snapshots (``training/quality_snapshots.py``) and live orders (``quality_scoring.py``); the
schedule part is the delay model's own ``assemble_features`` on the same date. Only
inspections dated strictly *before* ``as_of`` count (an inspection on the day itself is the
one being predicted, or happens after it).

Definitions (lot inspection = ``result`` accepted or rejected; inline check = ``inline``):

* supplier — over all its earlier lot inspections (every order): ``supplier_lot_inspections``,
  ``supplier_rejections``; ``supplier_first_pass_rate`` = accepted first rounds / first rounds,
  shrunk towards ``PRIOR_FIRST_PASS`` with the weight of ``PRIOR_WEIGHT`` rounds;
  ``supplier_recent_rejections`` among its last ``RECENT_LOTS`` lots; ``supplier_severity`` the
  switching severity replayed from that sequence (``switching_severity``: 0 reduced, 1 normal,
  2 tightened);
* order — ``inline_checks`` so far, ``inline_dhu`` = 100 × defects / units over them (NaN
  without one), ``inline_dhu_trend`` = DHU of the latest check − DHU of the first (0 with
  fewer than two), ``order_rejections_so_far`` (lot rejections of any stage, the rework so
  far) and ``inspection_round`` = 1 + rejections of the inspected stage so far;
* the inspection — ``inspection_final`` (1 for the plan's last QC stage, 0 for an earlier
  one), ``has_print`` (print or embroidery; NaN unknown).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from functools import cache

import numpy as np
import pandas as pd

from looptrace_predictions.features import EPOCH
from looptrace_shared.contracts import stage_templates

RECENT_LOTS = 5
PRIOR_WEIGHT = 5.0
PRIOR_FIRST_PASS = 0.8
REDUCED, NORMAL, TIGHTENED = 0, 1, 2
SEVERITY_NAMES = {REDUCED: "reduced", NORMAL: "normal", TIGHTENED: "tightened"}

SCHEDULE_FEATURES = [
    "quantity",
    "target_slack_days",
    "days_to_target",
    "progress_gap",
    "finished_end_slip_max",
    "supplier_open_orders",
    "forecast_lateness_days",
]
INSPECTION_FEATURES = [
    "has_print",
    "inspection_final",
    "inspection_round",
    "order_rejections_so_far",
    "inline_checks",
    "inline_dhu",
    "inline_dhu_trend",
    "supplier_lot_inspections",
    "supplier_rejections",
    "supplier_first_pass_rate",
    "supplier_recent_rejections",
    "supplier_severity",
]
QUALITY_FEATURES = ["product_category", *SCHEDULE_FEATURES, *INSPECTION_FEATURES]
INFO = ["order_id", "supplier_id", "as_of", "inspection_stage"]


@cache
def qc_stage_names(category: str) -> frozenset[str]:
    return frozenset(s.name for s in stage_templates.load().get(category, []) if s.qc)


def final_qc_stage(category: str) -> str | None:
    """The plan's last QC stage of a category (its final inspection), None for an unknown one."""
    names = [s.name for s in stage_templates.load().get(category, []) if s.qc]
    return names[-1] if names else None


def switching_severity(rejected: np.ndarray) -> np.ndarray:
    """Severity *before* each lot of the sequence and after the last (len + 1), ISO 2859-1-like:
    normal → tightened when 2 of the last 5 lots were rejected; tightened → normal after 5
    accepted in a row; normal → reduced after 10 accepted in a row; reduced → normal on a
    rejection."""
    state, run = NORMAL, 0
    window: list[bool] = []
    out = [state]
    for lot_rejected in rejected:
        window = [*window[-(RECENT_LOTS - 1) :], bool(lot_rejected)]
        run = 0 if lot_rejected else run + 1
        if state == NORMAL and sum(window) >= 2:
            state, window, run = TIGHTENED, [], 0
        elif (state == TIGHTENED and run >= 5) or (state == REDUCED and lot_rejected):
            state, window, run = NORMAL, [], 0
        elif state == NORMAL and run >= 10:
            state, run = REDUCED, 0
        out.append(state)
    return np.array(out, dtype=float)


@dataclass(frozen=True)
class _SupplierLots:
    day: np.ndarray
    cum_rejected: np.ndarray
    cum_first: np.ndarray
    cum_first_accepted: np.ndarray
    severity: np.ndarray


def _supplier_lots(lots: pd.DataFrame) -> dict[str, _SupplierLots]:
    out = {}
    for supplier, rows in lots.groupby("supplier_id", sort=False):
        rows = rows.sort_values(["day", "order_id"], kind="stable")
        rejected = (rows["result"] == "rejected").to_numpy()
        first = ~rows.duplicated(["order_id", "inspection_stage"]).to_numpy()
        out[str(supplier)] = _SupplierLots(
            day=rows["day"].to_numpy(dtype=float),
            cum_rejected=_cumsum(rejected),
            cum_first=_cumsum(first),
            cum_first_accepted=_cumsum(first & ~rejected),
            severity=switching_severity(rejected),
        )
    return out


def inspection_features(inspections: pd.DataFrame, keys: pd.DataFrame) -> pd.DataFrame:
    """The inspection features of every key row (order_id, supplier_id, as_of_day,
    inspection_stage) from ``inspections`` (INSPECTION_COLUMNS + supplier_id + day)."""
    lots = inspections[inspections["result"] != "inline"]
    supplier = _supplier_columns(_supplier_lots(lots), keys)
    order = _order_columns(inspections, keys)
    return pd.DataFrame({**supplier, **order}, index=keys.index)


def _supplier_columns(by_supplier: dict[str, _SupplierLots], keys: pd.DataFrame) -> dict:
    n = len(keys)
    cols = {name: np.zeros(n) for name in ("count", "rejected", "first", "first_ok", "recent")}
    severity = np.full(n, float(NORMAL))
    suppliers = keys["supplier_id"].astype(str).to_numpy()
    days = keys["as_of_day"].to_numpy(dtype=float)
    for name in np.unique(suppliers):
        lots = by_supplier.get(str(name))
        if lots is None:
            continue
        at = np.flatnonzero(suppliers == name)
        k = np.searchsorted(lots.day, days[at], side="left")  # strictly before as_of
        cols["count"][at] = k
        cols["rejected"][at] = lots.cum_rejected[k]
        cols["first"][at] = lots.cum_first[k]
        cols["first_ok"][at] = lots.cum_first_accepted[k]
        cols["recent"][at] = (
            lots.cum_rejected[k] - lots.cum_rejected[np.maximum(k - RECENT_LOTS, 0)]
        )
        severity[at] = lots.severity[k]
    return {
        "supplier_lot_inspections": cols["count"],
        "supplier_rejections": cols["rejected"],
        "supplier_first_pass_rate": (cols["first_ok"] + PRIOR_WEIGHT * PRIOR_FIRST_PASS)
        / (cols["first"] + PRIOR_WEIGHT),
        "supplier_recent_rejections": cols["recent"],
        "supplier_severity": severity,
    }


def _order_columns(inspections: pd.DataFrame, keys: pd.DataFrame) -> dict[str, np.ndarray]:
    grouped: dict[str, list[tuple]] = defaultdict(list)
    wanted = set(keys["order_id"])
    mine = inspections[inspections["order_id"].isin(wanted)].sort_values("day", kind="stable")
    for row in mine[["order_id", "day", "inspection_stage", "sample_size", "critical", "major",
                     "minor", "result"]].itertuples(index=False):  # fmt: skip
        grouped[row[0]].append(row[1:])
    out = np.full((len(keys), 5), np.nan)
    for i, (order_id, day, stage) in enumerate(
        zip(keys["order_id"], keys["as_of_day"], keys["inspection_stage"], strict=True)
    ):
        out[i] = _one_order([r for r in grouped.get(order_id, []) if r[0] < day], stage)
    names = ["inline_checks", "inline_dhu", "inline_dhu_trend", "order_rejections_so_far",
             "inspection_round"]  # fmt: skip
    return {name: out[:, j] for j, name in enumerate(names)}


def _one_order(past: list[tuple], stage: str) -> tuple[float, float, float, float, float]:
    inline = [(r[2], r[3] + r[4] + r[5]) for r in past if r[6] == "inline"]
    rejected = [r[1] for r in past if r[6] == "rejected"]
    units = sum(u for u, _ in inline)
    dhu = 100.0 * sum(d for _, d in inline) / units if units else np.nan
    trend = 0.0
    if len(inline) >= 2:
        trend = 100.0 * (inline[-1][1] / inline[-1][0] - inline[0][1] / inline[0][0])
    return (
        float(len(inline)),
        dhu,
        trend,
        float(len(rejected)),
        1.0 + sum(s == stage for s in rejected),
    )


def _cumsum(values: np.ndarray) -> np.ndarray:
    return np.concatenate([[0.0], np.cumsum(values, dtype=float)])


def combine(
    schedule: pd.DataFrame, extra: pd.DataFrame, keys: pd.DataFrame, has_print: np.ndarray
) -> pd.DataFrame:
    """Schedule features + inspection features → the quality feature frame (INFO + features)."""
    frame = schedule.reset_index(drop=True).copy()
    frame["as_of"] = EPOCH + keys["as_of_day"].to_numpy(dtype="int64").astype("timedelta64[D]")
    frame["inspection_stage"] = keys["inspection_stage"].to_numpy()
    for name in INSPECTION_FEATURES:
        if name in extra:
            frame[name] = extra[name].to_numpy()
    frame["has_print"] = has_print
    finals = np.array([final_qc_stage(c) for c in frame["product_category"]], dtype=object)
    frame["inspection_final"] = (finals == frame["inspection_stage"].to_numpy()).astype(float)
    return frame[INFO + QUALITY_FEATURES]
