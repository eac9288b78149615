"""How well can anything predict the simulator's delays? An oracle bound on the delay MAE.

    .venv/bin/python bench/predictions_delay_bound.py [--orders 3000] [--seed 2] [--draws 1000]

Re-runs the simulator (same seed, same random stream) keeping what it hides: every
supplier's slip scale and QC failure rate, every order's ``trouble`` and load factor. At
25/50/75 % of each open order's planned duration, the oracle knows all of that plus
everything that had happened by then, and simulates the rest of the order ``--draws``
times (the running stage conditioned on not having ended yet). The median of those draws
is the lowest-MAE prediction of the delay that exists given that knowledge: no model fed
only what a buyer can see beats it, except by luck. Printed next to the three honest
baselines of ``evaluate`` (their MAE on the same snapshots) and the issue's 0.3 × target.
"""

from __future__ import annotations

import heapq

import click
import numpy as np
import pandas as pd

from looptrace_predictions.projection import earned_schedule_delay, production_forecast_delay
from looptrace_predictions.stage_params import STAGE_PARAMS
from looptrace_predictions.training import simulate as sim
from looptrace_predictions.training.snapshots import REPORT_FRACTIONS, build_snapshots
from looptrace_shared.contracts import stage_templates


def _hidden(n_orders: int, seed: int) -> tuple[pd.DataFrame, list, np.ndarray, np.ndarray]:
    """The simulator's history plus its hidden state (mirrors ``simulate_history``)."""
    rng = np.random.default_rng(seed)
    span_days = int(np.clip(n_orders / 4, 365, 1460))
    suppliers = sim._make_suppliers(rng, n_orders / span_days)
    order_days = sim._order_days(rng, n_orders, span_days)
    weights = np.array([s.capacity * rng.uniform(0.5, 1.5) for s in suppliers])
    assigned = rng.choice(len(suppliers), size=n_orders, p=weights / weights.sum())
    categories = np.where(rng.random(n_orders) < 0.55, "cut-and-sew", "knitwear")
    quantities = np.round(np.exp(rng.uniform(np.log(300), np.log(8000), n_orders)), -1)
    draws = sim._draw(rng, n_orders)
    rows: list[tuple] = []
    loads = np.zeros(n_orders)
    open_orders: list[list[int]] = [[] for _ in suppliers]
    for i in range(n_orders):
        heap = open_orders[assigned[i]]
        while heap and heap[0] <= order_days[i]:
            heapq.heappop(heap)
        supplier = suppliers[assigned[i]]
        loads[i] = len(heap) / supplier.capacity
        order_rows, end = sim._simulate_order(
            i, supplier, str(categories[i]), int(quantities[i]), int(order_days[i]), loads[i], draws
        )
        heapq.heappush(heap, end)
        rows.extend(order_rows)
    frame = sim._to_frame(rows)
    if not frame.equals(sim.simulate_history(n_orders, seed)):
        raise SystemExit("the simulator changed: update this bench's mirror of simulate_history")
    order_supplier = [suppliers[a] for a in assigned]
    return frame, order_supplier, draws.trouble, loads


def _remaining(
    stages: pd.DataFrame,
    supplier: sim.Supplier,
    trouble: float,
    load: float,
    as_of: int,
    target: int,
    rng: np.random.Generator,
    m: int,
) -> np.ndarray:
    """``m`` draws of the delay of one order, given everything up to ``as_of``."""
    template = {s.name: s for s in stage_templates.load()[stages["product_category"].iloc[0]]}
    day = lambda v: (np.datetime64(v, "D") - np.datetime64("1970-01-01", "D")).astype(int)  # noqa: E731
    load_factor = min(2.0, 1.0 + 0.9 * max(0.0, load - 0.8))
    end = None
    for _, st in stages.iterrows():
        a_start, a_end = day(st["actual_start"]), day(st["actual_end"])
        if a_end <= as_of:
            end = np.full(m, float(a_end))
            continue
        ps = day(st["planned_start"])
        planned = day(st["planned_end"]) - ps
        started = a_start <= as_of
        start = np.full(m, float(a_start)) if started else np.maximum(end, ps - 2)
        months = pd.DatetimeIndex(start.astype("int64").astype("datetime64[D]")).month
        season = np.array([sim.PEAK_SEASON_FACTOR.get(int(x), 1.0) for x in months])
        weight = STAGE_PARAMS[st["product_category"], st["stage_name"]].slip_weight
        slip = supplier.slip_scale * weight * season * load_factor * (0.3 + trouble)
        tries = 40 if started else 1
        dur = _stage_durations(
            rng,
            m * tries,
            planned,
            np.repeat(slip, tries),
            supplier,
            trouble,
            load_factor,
            template[st["stage_name"]].qc,
        )
        dur = np.maximum(1, np.round(dur)).reshape(m, tries) if started else dur.reshape(m, 1)
        if started:  # keep, per draw, the first duration that outlasts what was seen
            ok = start[:, None] + dur > as_of
            pick = np.where(ok.any(axis=1), np.argmax(ok, axis=1), 0)
            chosen = dur[np.arange(m), pick]
            chosen = np.where(ok.any(axis=1), chosen, as_of - start + 1)
        else:
            chosen = np.maximum(1, np.round(dur[:, 0]))
        end = start + chosen
    return np.maximum(0.0, end - target)


def _stage_durations(rng, n, planned, slip, supplier, trouble, load_factor, qc) -> np.ndarray:  # type: ignore[no-untyped-def]
    duration = planned * np.exp(rng.normal(-0.05, 0.1, n)) + slip * rng.exponential(1.0, n)
    if qc:
        fail_p = min(0.9, supplier.qc_fail_rate * (0.5 + 0.5 * trouble) * load_factor)
        failing = np.ones(n, dtype=bool)
        for _ in range(sim.MAX_QC_LOOPS):
            failing &= rng.random(n) < fail_p
            duration += np.where(failing, rng.integers(2, 5, n), 0)
    return duration


@click.command()
@click.option("--orders", type=click.IntRange(min=200), default=3000, show_default=True)
@click.option("--seed", type=int, default=2, show_default=True)
@click.option("--draws", type=click.IntRange(min=50), default=1000, show_default=True)
def main(orders: int, seed: int, draws: int) -> None:
    frame, suppliers, trouble, loads = _hidden(orders, seed)
    snaps = build_snapshots(frame, REPORT_FRACTIONS)
    snaps = snaps[snaps["labelled"]]
    index = {oid: i for i, oid in enumerate(sorted(frame["order_id"].unique()))}
    by_order = {oid: g.sort_values("stage_number") for oid, g in frame.groupby("order_id")}
    rng = np.random.default_rng(12345)
    epoch = np.datetime64("1970-01-01", "D")
    oracle = np.empty(len(snaps))
    for j, row in enumerate(snaps.itertuples()):
        i = index[row.order_id]
        as_of = int((np.datetime64(row.as_of, "D") - epoch).astype(int))
        st = by_order[row.order_id]
        target = int((np.datetime64(st["target_date"].iloc[0], "D") - epoch).astype(int))
        oracle[j] = np.median(
            _remaining(st, suppliers[i], trouble[i], loads[i], as_of, target, rng, draws)
        )
    actual = snaps["delay_days"].to_numpy(dtype=float)
    for fraction in REPORT_FRACTIONS:
        mask = (snaps["fraction"] == fraction).to_numpy()
        part = snaps[mask]
        base = {
            "no_delay": np.mean(actual[mask]),
            "earned_schedule": np.mean(np.abs(earned_schedule_delay(part) - actual[mask])),
            "production_forecast": np.mean(np.abs(production_forecast_delay(part) - actual[mask])),
        }
        best = min(base.values())
        bound = float(np.mean(np.abs(oracle[mask] - actual[mask])))
        click.echo(
            f"{fraction:.0%}: n={mask.sum()} oracle MAE {bound:.2f} d = {bound / best:.2f} x best "
            f"baseline ({min(base, key=base.get)} {best:.2f}); "
            + ", ".join(f"{k} {v:.2f}" for k, v in base.items())
            + f"; issue target 0.3 x = {0.3 * best:.2f}"
        )


if __name__ == "__main__":
    main()
