"""Synthetic order history: suppliers, seasons, slips that propagate, QC rework.

What makes lateness predictable (but not trivially):

* every supplier has its own reliability (``slip_scale``), capacity and QC
  failure rate — visible later as its track record;
* every order has a hidden ``trouble`` level shared by all its stages, and each stage's slip
  shock carries over to the next (AR(1), ``simulate_shocks.py``): a supplier behind on one
  stage stays behind on the next, so early slips announce later ones;
* stages are finish-to-start: a slip pushes every later stage;
* a supplier with more open orders than its capacity, and the peak season
  (August–November), slow every stage down;
* quality stages can fail and loop back for rework (``qc_failures``); an order with
  print or embroidery (``has_print``) fails more often, and every inspection (inline
  checks and lot inspections with their defect counts) is written to a second table
  (``simulate_quality.py``);
* the pre-production sample loop gates bulk production: a late sample, or one rejected
  round after round, holds the gated stage back (``simulate_samples.py``).

Noise on every stage and QC outcomes keeps it from being a lookup table.

The plan is production's: stage names, durations and which stages quality inspects come from
the stage templates contract (production's templates.yaml); how each stage slips and whether its
work grows with the quantity are predictions' own (``stage_params.py``). Making stages' planned
days grow with the quantity (√(quantity / ``REFERENCE_QUANTITY``)).
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date

import numpy as np
import pandas as pd

from looptrace_predictions.samples import HISTORY_SAMPLE_COLUMNS
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
from looptrace_predictions.training.simulate_samples import (
    NO_LOOP,
    PP_GATE_STAGE,
    SampleDraws,
    draw_samples,
    pp_loop,
)
from looptrace_predictions.training.simulate_shocks import persistent_slips
from looptrace_shared.contracts import stage_templates
from looptrace_shared.contracts.stage_templates import TemplateStage

START_DATE = date(2021, 1, 4)
PEAK_SEASON_FACTOR = {8: 1.3, 9: 1.5, 10: 1.6, 11: 1.5, 12: 1.2}
PEAK_ORDER_WEIGHT = {8: 1.4, 9: 1.6, 10: 1.6, 11: 1.3}
REFERENCE_QUANTITY = 2000
CATEGORIES = ("knitwear", "cut-and-sew")
MAX_STAGES = max(len(stage_templates.load()[category]) for category in CATEGORIES)
MAX_QC_LOOPS = 3
NOISE = (-0.05, 0.1)  # log-normal factor on a stage's planned days: mean, sd of the log
REWORK_DAYS = (2, 5)  # days one rework round adds: integers in [low, high)
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
    slip: np.ndarray  # persistent within an order (``simulate_shocks.py``)
    qc: np.ndarray
    rework: np.ndarray
    trouble: np.ndarray
    slack: np.ndarray
    shock: np.ndarray  # the normal shocks behind ``slip``


@dataclass(frozen=True)
class StageDraws:
    """The random numbers of one stage: scalars, or arrays with one entry per draw (the
    ``qc`` and ``rework`` ones with a last axis of ``MAX_QC_LOOPS`` rounds)."""

    noise: np.ndarray | float
    slip: np.ndarray | float
    qc: np.ndarray
    rework: np.ndarray


@dataclass(frozen=True)
class HiddenOrder:
    """What the simulator knows about an order and its history does not show."""

    supplier_id: str
    slip_scale: float  # the supplier's
    qc_fail_rate: float  # the supplier's
    trouble: float
    load: float  # the supplier's open orders / its capacity when the order was placed
    has_print: bool
    defect_rate: float  # true major defects per unit (``simulate_quality.order_defect_rate``)
    slip_shocks: tuple[float, ...] = ()  # per stage position (``simulate_shocks.py``)

    @property
    def load_factor(self) -> float:
        return _load_factor(self.load)


@dataclass(frozen=True)
class SimulatedHistory:
    stages: pd.DataFrame  # one row per stage of each order (``history.py``)
    inspections: pd.DataFrame  # one row per inspection (``inspections.py``)
    hidden: dict[str, HiddenOrder] | None = None  # by order id, when ``keep_hidden``


def simulate_history(n_orders: int, seed: int, progress: Progress | None = None) -> pd.DataFrame:
    """Simulate ``n_orders`` finished orders; deterministic for a given seed."""
    return simulate(n_orders, seed, progress).stages


def simulate(
    n_orders: int, seed: int, progress: Progress | None = None, keep_hidden: bool = False
) -> SimulatedHistory:
    """The stage history and the inspections of ``n_orders`` simulated orders (and, with
    ``keep_hidden``, each order's hidden state: ``bench/predictions_delay_bound.py``)."""
    if n_orders < 1:
        raise ValueError("n_orders must be at least 1")
    book = _Book.drawn(n_orders, seed)
    suppliers, draws, quality_rng = book.suppliers, book.draws, book.quality_rng
    samples = draw_samples(seed, n_orders)  # a stream of their own: the other draws stay
    rows: list[tuple] = []
    inspections: list[tuple] = []
    open_orders: list[list[int]] = [[] for _ in suppliers]
    hidden: dict[str, HiddenOrder] = {}
    for i in range(n_orders):
        heap = open_orders[book.assigned[i]]
        while heap and heap[0] <= book.order_days[i]:
            heapq.heappop(heap)
        supplier = suppliers[book.assigned[i]]
        order = book.order(i, len(heap) / supplier.capacity)
        order_rows, end, secret = _simulate_order(
            i, supplier, order, book.printed(i), (draws, samples)
        )
        if keep_hidden:
            hidden[order_rows[0][0]] = secret
        heapq.heappush(heap, end)
        rows.extend(order_rows)
        inspections.extend(
            order_inspections(
                quality_rng, order_rows, secret.defect_rate, draws.rework[i], draws.trouble[i]
            )
        )
        if progress is not None and (i + 1) % 1000 == 0:
            progress(1000)
    if progress is not None:
        progress(n_orders % 1000)
    frames = _to_frame(rows), inspections_frame(inspections)
    return SimulatedHistory(*frames, hidden if keep_hidden else None)


@dataclass(frozen=True)
class _Book:
    """The orders to simulate, drawn before the order loop (in this order, for the seed)."""

    suppliers: list[Supplier]
    order_days: np.ndarray
    assigned: np.ndarray  # each order's supplier, by index
    categories: np.ndarray
    quantities: np.ndarray
    draws: _Draws
    quality_rng: np.random.Generator
    has_print: np.ndarray

    @classmethod
    def drawn(cls, n_orders: int, seed: int) -> _Book:
        rng = np.random.default_rng(seed)
        span_days = int(np.clip(n_orders / 4, 365, 1460))
        suppliers = _make_suppliers(rng, n_orders / span_days)
        order_days = _order_days(rng, n_orders, span_days)
        weights = np.array([s.capacity * rng.uniform(0.5, 1.5) for s in suppliers])
        assigned = rng.choice(len(suppliers), size=n_orders, p=weights / weights.sum())
        categories = np.where(rng.random(n_orders) < 0.55, "cut-and-sew", "knitwear")
        quantities = np.round(np.exp(rng.uniform(np.log(300), np.log(8000), n_orders)), -1)
        draws = _draw(rng, n_orders)
        quality_rng = np.random.default_rng([seed, QUALITY_STREAM])  # keeps the delay draws
        has_print = quality_rng.random(n_orders) < np.vectorize(PRINT_SHARE.get)(categories)
        return cls(
            suppliers, order_days, assigned, categories, quantities, draws, quality_rng, has_print
        )

    def order(self, i: int, load: float) -> _OrderSpec:
        """Order ``i``, placed when its supplier had ``load`` (open orders / capacity)."""
        return _OrderSpec(
            str(self.categories[i]), int(self.quantities[i]), int(self.order_days[i]), load
        )

    def printed(self, i: int) -> bool:
        return bool(self.has_print[i])


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
    noise = rng.normal(*NOISE, (n, MAX_STAGES))  # drawn in the former order: ρ = 0 is it
    shock, slip = persistent_slips(rng.exponential(1.0, (n, MAX_STAGES)))
    return _Draws(
        noise,
        slip,
        qc=rng.random((n, MAX_STAGES, MAX_QC_LOOPS)),
        rework=rng.integers(*REWORK_DAYS, (n, MAX_STAGES, MAX_QC_LOOPS)),
        trouble=rng.gamma(0.8, 1.0, n),
        slack=rng.integers(1, 8, n),
        shock=shock,
    )


def draw_stage(rng: np.random.Generator, n: int) -> StageDraws:
    """``n`` fresh draws of one stage's random numbers (the same distributions as ``_draw``;
    the slip independent of the stage before: ``simulate_shocks.next_shock`` for that)."""
    return StageDraws(
        noise=rng.normal(*NOISE, n),
        slip=rng.exponential(1.0, n),
        qc=rng.random((n, MAX_QC_LOOPS)),
        rework=rng.integers(*REWORK_DAYS, (n, MAX_QC_LOOPS)),
    )


def stage_duration(
    order: HiddenOrder,
    category: str,
    stage: TemplateStage,
    quantity: int,
    start: int | np.ndarray,
    draws: StageDraws,
) -> tuple[np.ndarray, np.ndarray]:
    """Days (unrounded) a stage started on ``start`` takes, and its failed QC rounds: noise
    on its planned days, its slip (supplier, season, load, trouble) and, for a QC stage, a
    rework per rejected round (``round_fail_chance`` of the order's true defect rate).
    Element-wise over arrays of start days and draws."""
    slip_weight = STAGE_PARAMS[category, stage.name].slip_weight
    slip = order.slip_scale * slip_weight * season_factor(start) * order.load_factor
    slip = slip * (0.3 + order.trouble)
    duration = _planned_days(category, stage, quantity) * np.exp(draws.noise) + slip * draws.slip
    failures = np.zeros(np.shape(duration), dtype=int)
    failing = np.ones(np.shape(duration), dtype=bool)
    for r in range(MAX_QC_LOOPS if stage.qc else 0):
        failing &= draws.qc[..., r] < round_fail_chance(order.defect_rate, quantity, r)
        if not failing.any():
            break
        duration = duration + np.where(failing, draws.rework[..., r], 0)
        failures += failing
    return duration, failures


def season_factor(epoch_day: int | np.ndarray) -> float | np.ndarray:
    """The peak-season slow-down of a stage starting on ``epoch_day`` (or on each of them)."""
    months = np.asarray(epoch_day, dtype="int64").astype("datetime64[D]").astype("datetime64[M]")
    by_month = np.array([PEAK_SEASON_FACTOR.get(m, 1.0) for m in range(1, 13)])
    factor = by_month[months.astype("int64") % 12]
    return float(factor) if np.ndim(epoch_day) == 0 else factor


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
    i: int, supplier: Supplier, order: _OrderSpec, has_print: bool,
    all_draws: tuple[_Draws, SampleDraws],
) -> tuple[list[tuple], int, HiddenOrder]:  # fmt: skip
    """The order's stage rows, its end day and its hidden state (with its true defect rate,
    ``simulate_quality``); the PP sample's approval holds its gated stage back."""
    draws, samples = all_draws
    category, quantity, order_day = order.category, order.quantity, order.order_day
    secret = _hidden_order(supplier, order.load, float(draws.trouble[i]), has_print)
    secret = replace(secret, slip_shocks=tuple(draws.shock[i].tolist()))
    planned_start = order_day
    actual_end = order_day
    rows, loop = [], NO_LOOP
    for k, stage in enumerate(stage_templates.load()[category]):
        planned_end = planned_start + _planned_days(category, stage, quantity)
        actual_start = max(actual_end, planned_start - 2)
        if stage.number == PP_GATE_STAGE.get(category):
            reliability = (supplier.slip_scale, supplier.qc_fail_rate, secret.trouble)
            sample = pp_loop(i, order_day, planned_start, reliability, samples)
            actual_start, loop = max(actual_start, sample.approved), sample.columns()
        stage_draws = StageDraws(
            draws.noise[i, k], draws.slip[i, k], draws.qc[i, k], draws.rework[i, k]
        )
        duration, failures = stage_duration(
            secret, category, stage, quantity, actual_start, stage_draws
        )
        actual_end = actual_start + max(1, round(float(duration)))
        rows.append(
            (k + 1, stage.name, planned_start, planned_end, actual_start, actual_end, int(failures))
        )
        planned_start = planned_end
    target = planned_start + int(draws.slack[i])
    head = (f"PO-{i + 1:06d}", supplier.supplier_id, category, quantity, order_day, target)
    tail = (has_print, supplier.capacity_units, *loop)
    return [head + row + tail for row in rows], actual_end, secret


def _hidden_order(supplier: Supplier, load: float, trouble: float, has_print: bool) -> HiddenOrder:
    defects = order_defect_rate(supplier.qc_fail_rate, trouble, _load_factor(load), has_print)
    return HiddenOrder(
        supplier.supplier_id, supplier.slip_scale, supplier.qc_fail_rate, trouble, load,
        has_print, defects,
    )  # fmt: skip


def _load_factor(load: float) -> float:
    """How much an over-committed supplier slows down (1 up to 80 % of its capacity)."""
    return min(2.0, 1.0 + 0.9 * max(0.0, load - 0.8))


def _to_frame(rows: list[tuple]) -> pd.DataFrame:
    columns = [*HISTORY_COLUMNS, "qc_failures", "has_print", "supplier_capacity_units"]
    frame = pd.DataFrame(rows, columns=[*columns, *HISTORY_SAMPLE_COLUMNS])
    day_columns = [c for c in columns if c.endswith("_date") or c.startswith(("planned", "actual"))]
    epoch = np.datetime64("1970-01-01", "D")
    for column in day_columns:
        frame[column] = epoch + frame[column].to_numpy(dtype="int64").astype("timedelta64[D]")
    for column in HISTORY_SAMPLE_COLUMNS:  # NaN (no such rejection) becomes NaT
        frame[column] = pd.to_datetime(frame[column], unit="D")
    return frame


def _epoch_day(day: date) -> int:
    return (day - date(1970, 1, 1)).days
