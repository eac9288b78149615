"""Synthetic order history: suppliers, seasons, slips that propagate, QC rework.

What makes lateness predictable (but not trivially):

* every supplier has its own reliability (``slip_scale``), capacity and QC
  failure rate — visible later as its track record;
* every order has a hidden ``trouble`` level shared by all its stages, so early
  slips announce later ones;
* stages are finish-to-start: a slip pushes every later stage;
* a supplier with more open orders than its capacity, and the peak season
  (August–November), slow every stage down;
* quality stages can fail and loop back for rework (``qc_failures``); an order with
  print or embroidery (``has_print``) fails more often, and every inspection (inline
  checks and lot inspections with their defect counts) is written to a second table
  (``simulate_quality.py``).

Noise on every stage and QC outcomes keeps it from being a lookup table.

The plan is production's: stage names, durations and which stages quality inspects come from
the stage templates contract (production's templates.yaml); how each stage slips and whether its
work grows with the quantity are predictions' own (``stage_params.py``). Making stages' planned
days grow with the quantity (√(quantity / ``REFERENCE_QUANTITY``)).
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from looptrace_predictions.stage_params import STAGE_PARAMS
from looptrace_predictions.training.history import HISTORY_COLUMNS, write_history
from looptrace_predictions.training.inspections import write_inspections
from looptrace_predictions.training.simulate_quality import (
    QUALITY_STREAM,
    inspections_frame,
    order_defect_rate,
    order_inspections,
    round_fail_chance,
)
from looptrace_shared.contracts import stage_templates
from looptrace_shared.contracts.stage_templates import TemplateStage

START_DATE = date(2021, 1, 4)
PEAK_SEASON_FACTOR = {8: 1.3, 9: 1.5, 10: 1.6, 11: 1.5, 12: 1.2}
PEAK_ORDER_WEIGHT = {8: 1.4, 9: 1.6, 10: 1.6, 11: 1.3}
REFERENCE_QUANTITY = 2000
CATEGORIES = ("knitwear", "cut-and-sew")
MAX_STAGES = max(len(stage_templates.load()[category]) for category in CATEGORIES)
MAX_QC_LOOPS = 3
PRINT_SHARE = {"cut-and-sew": 0.6, "knitwear": 0.3}
# a supplier's weekly making capacity in units: its order slots × this (``capacity.py`` measures
# its utilisation from the planned making days of its open orders)
UNITS_PER_SLOT_WEEK = 700

Progress = Callable[[int], None]


@dataclass(frozen=True)
class Supplier:
    supplier_id: str
    capacity: int
    slip_scale: float
    qc_fail_rate: float

    @property
    def capacity_units(self) -> int:
        """Units per week its making stages can take (the history's supplier_capacity_units)."""
        return self.capacity * UNITS_PER_SLOT_WEEK


@dataclass
class _Draws:
    """Random numbers drawn up front (vectorised) so the order loop is arithmetic."""

    noise: np.ndarray
    slip: np.ndarray
    qc: np.ndarray
    rework: np.ndarray
    trouble: np.ndarray
    slack: np.ndarray


@dataclass(frozen=True)
class SimulatedHistory:
    stages: pd.DataFrame  # one row per stage of each order (``history.py``)
    inspections: pd.DataFrame  # one row per inspection (``inspections.py``)


def simulate_history(n_orders: int, seed: int, progress: Progress | None = None) -> pd.DataFrame:
    """Simulate ``n_orders`` finished orders; deterministic for a given seed."""
    return simulate(n_orders, seed, progress).stages


def simulate(n_orders: int, seed: int, progress: Progress | None = None) -> SimulatedHistory:
    """The stage history and the inspections of ``n_orders`` simulated orders."""
    if n_orders < 1:
        raise ValueError("n_orders must be at least 1")
    rng = np.random.default_rng(seed)
    span_days = int(np.clip(n_orders / 4, 365, 1460))
    suppliers = _make_suppliers(rng, n_orders / span_days)
    order_days = _order_days(rng, n_orders, span_days)
    weights = np.array([s.capacity * rng.uniform(0.5, 1.5) for s in suppliers])
    assigned = rng.choice(len(suppliers), size=n_orders, p=weights / weights.sum())
    categories = np.where(rng.random(n_orders) < 0.55, "cut-and-sew", "knitwear")
    quantities = np.round(np.exp(rng.uniform(np.log(300), np.log(8000), n_orders)), -1)
    draws = _draw(rng, n_orders)
    quality_rng = np.random.default_rng([seed, QUALITY_STREAM])  # the delay draws stay as they were
    has_print = quality_rng.random(n_orders) < np.vectorize(PRINT_SHARE.get)(categories)
    rows: list[tuple] = []
    inspections: list[tuple] = []
    open_orders: list[list[int]] = [[] for _ in suppliers]
    for i in range(n_orders):
        heap = open_orders[assigned[i]]
        while heap and heap[0] <= order_days[i]:
            heapq.heappop(heap)
        supplier = suppliers[assigned[i]]
        load = len(heap) / supplier.capacity
        order = _OrderSpec(str(categories[i]), int(quantities[i]), int(order_days[i]), load)
        order_rows, end, defects = _simulate_order(i, supplier, order, bool(has_print[i]), draws)
        heapq.heappush(heap, end)
        rows.extend(order_rows)
        inspections.extend(
            order_inspections(quality_rng, order_rows, defects, draws.rework[i], draws.trouble[i])
        )
        if progress is not None and (i + 1) % 1000 == 0:
            progress(1000)
    if progress is not None:
        progress(n_orders % 1000)
    return SimulatedHistory(_to_frame(rows), inspections_frame(inspections))


def write_simulated_history(
    path: str,
    n_orders: int,
    seed: int,
    progress: Progress | None = None,
    inspections_path: str | None = None,
) -> SimulatedHistory:
    simulated = simulate(n_orders, seed, progress)
    write_history(simulated.stages, path)
    if inspections_path is not None:
        write_inspections(simulated.inspections, inspections_path)
    return simulated


def _make_suppliers(rng: np.random.Generator, orders_per_day: float) -> list[Supplier]:
    count = max(6, round(orders_per_day * 55 / 6))
    return [
        Supplier(
            supplier_id=f"S{k + 1}",
            capacity=int(rng.integers(3, 13)),
            slip_scale=float(rng.lognormal(np.log(0.4), 0.55)),
            qc_fail_rate=float(rng.beta(2, 9)),
        )
        for k in range(count)
    ]


def _order_days(rng: np.random.Generator, n_orders: int, span_days: int) -> np.ndarray:
    start = pd.Timestamp(START_DATE)
    months = (start + pd.to_timedelta(np.arange(span_days), unit="D")).month
    weight = np.array([PEAK_ORDER_WEIGHT.get(int(m), 1.0) for m in months])
    offsets = np.sort(rng.choice(span_days, size=n_orders, p=weight / weight.sum()))
    return _epoch_day(START_DATE) + offsets


def _draw(rng: np.random.Generator, n: int) -> _Draws:
    return _Draws(
        noise=rng.normal(-0.05, 0.1, (n, MAX_STAGES)),
        slip=rng.exponential(1.0, (n, MAX_STAGES)),
        qc=rng.random((n, MAX_STAGES, MAX_QC_LOOPS)),
        rework=rng.integers(2, 5, (n, MAX_STAGES, MAX_QC_LOOPS)),
        trouble=rng.gamma(0.8, 1.0, n),
        slack=rng.integers(1, 8, n),
    )


def _planned_days(category: str, stage: TemplateStage, quantity: int) -> int:
    if not STAGE_PARAMS[category, stage.name].scales_with_quantity:
        return stage.duration_days
    return max(1, round(stage.duration_days * (quantity / REFERENCE_QUANTITY) ** 0.5))


@dataclass(frozen=True)
class _OrderSpec:
    category: str
    quantity: int
    order_day: int
    load: float  # the supplier's open orders / its capacity when the order is placed


def _simulate_order(
    i: int, supplier: Supplier, order: _OrderSpec, has_print: bool, draws: _Draws
) -> tuple[list[tuple], int, float]:
    """The order's stage rows, its end day and its true defect rate (``simulate_quality``)."""
    category, quantity, order_day = order.category, order.quantity, order.order_day
    template = stage_templates.load()[category]
    trouble = draws.trouble[i]
    load_factor = min(2.0, 1.0 + 0.9 * max(0.0, order.load - 0.8))
    defects = order_defect_rate(supplier.qc_fail_rate, trouble, load_factor, has_print)
    planned_start = order_day
    actual_end = order_day
    rows = []
    for k, stage in enumerate(template):
        planned = _planned_days(category, stage, quantity)
        planned_end = planned_start + planned
        actual_start = max(actual_end, planned_start - 2)
        season = PEAK_SEASON_FACTOR.get(_month(actual_start), 1.0)
        slip_weight = STAGE_PARAMS[category, stage.name].slip_weight
        slip = supplier.slip_scale * slip_weight * season * load_factor * (0.3 + trouble)
        duration = planned * np.exp(draws.noise[i, k]) + slip * draws.slip[i, k]
        failures = 0
        if stage.qc:
            while failures < MAX_QC_LOOPS and draws.qc[i, k, failures] < round_fail_chance(
                defects, quantity, failures
            ):
                duration += draws.rework[i, k, failures]
                failures += 1
        actual_end = actual_start + max(1, round(duration))
        rows.append(
            (k + 1, stage.name, planned_start, planned_end, actual_start, actual_end, failures)
        )
        planned_start = planned_end
    target = planned_start + int(draws.slack[i])
    head = (f"PO-{i + 1:06d}", supplier.supplier_id, category, quantity, order_day, target)
    tail = (has_print, supplier.capacity_units)
    return [head + row + tail for row in rows], actual_end, defects


def _to_frame(rows: list[tuple]) -> pd.DataFrame:
    columns = [*HISTORY_COLUMNS, "qc_failures", "has_print", "supplier_capacity_units"]
    frame = pd.DataFrame(rows, columns=columns)
    day_columns = [c for c in columns if c.endswith("_date") or c.startswith(("planned", "actual"))]
    epoch = np.datetime64("1970-01-01", "D")
    for column in day_columns:
        frame[column] = epoch + frame[column].to_numpy(dtype="int64").astype("timedelta64[D]")
    return frame


def _epoch_day(day: date) -> int:
    return (day - date(1970, 1, 1)).days


_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


def _month(epoch_day: int) -> int:
    return date.fromordinal(_EPOCH_ORDINAL + int(epoch_day)).month
