"""How well can anything predict the simulator's delays? An oracle bound on the delay MAE.

    .venv/bin/python bench/predictions_delay_bound.py [--orders 3000] [--seed 2] [--draws 1000]

Runs the simulator keeping what it hides (``simulate(keep_hidden=True)``): every order's
supplier slip scale and QC failure rate, ``trouble``, load, print/embroidery and true
defect rate. At 25/50/75 % of each open order's planned duration, the oracle knows all of
that plus everything that had happened by then, and simulates the rest of the order
``--draws`` times with the simulator's own stage draw (``stage_duration``: noise, slip, and
rework for each ISO 2859-1 round its defect rate fails), the running stage conditioned on
not having ended yet. The slip shocks of the ended stages are hidden state it knows; the
running and later stages' shocks continue their AR(1) chain from the last ended one
(``simulate_shocks.py``). The PP sample's approval (its own stream of draws) is known to
it: the gated stage starts no earlier. The median of those draws
is the lowest-MAE prediction of the delay that exists given that knowledge: no model fed
only what a buyer can see beats it, except by luck. Printed next to the three honest
baselines of ``evaluate`` (their MAE on the same snapshots) and the issue's 0.3 × target.
"""

from __future__ import annotations

from dataclasses import replace

import click
import numpy as np
import pandas as pd

from looptrace_predictions.projection import earned_schedule_delay, production_forecast_delay
from looptrace_predictions.training import simulate as sim
from looptrace_predictions.training import simulate_shocks as shocks_module
from looptrace_predictions.training.simulate_samples import PP_GATE_STAGE
from looptrace_predictions.training.snapshots import REPORT_FRACTIONS, build_snapshots
from looptrace_shared.contracts import stage_templates


def _remaining(
    stages: pd.DataFrame,
    hidden: sim.HiddenOrder,
    as_of: int,
    target: int,
    rng: np.random.Generator,
    m: int,
) -> np.ndarray:
    """``m`` draws of the delay of one order, given everything up to ``as_of``."""
    category, quantity = stages["product_category"].iloc[0], int(stages["quantity"].iloc[0])
    template = {s.name: s for s in stage_templates.load()[category]}
    day = _epoch_day
    end = np.full(m, float(day(stages["order_date"].iloc[0])))  # where the simulator starts
    shock: np.ndarray | None = None  # the slip shock of the stage before (per draw)
    for k, (_, st) in enumerate(stages.iterrows()):
        a_start, a_end = day(st["actual_start"]), day(st["actual_end"])
        if a_end <= as_of:  # an ended stage: its shock is part of the hidden state
            end, shock = np.full(m, float(a_end)), np.full(m, hidden.slip_shocks[k])
            continue
        started = a_start <= as_of
        start = (
            np.full(m, float(a_start)) if started else np.maximum(end, day(st["planned_start"]) - 2)
        )
        if not started and st["stage_number"] == PP_GATE_STAGE.get(category):
            start = np.maximum(start, day(st["pp_approved_date"]))  # the sample loop's outcome
        tries = 40 if started else 1
        before = None if shock is None else np.repeat(shock, tries)
        shocks = shocks_module.next_shock(rng, before, m * tries)
        draws = replace(sim.draw_stage(rng, m * tries), slip=shocks_module.slip_of(shocks))
        stage = template[st["stage_name"]]
        dur, _ = sim.stage_duration(
            hidden, category, stage, quantity, np.repeat(start.astype("int64"), tries), draws
        )
        chosen, pick = _outlasting(np.maximum(1, np.round(dur)).reshape(m, tries), start, as_of)
        shock = shocks.reshape(m, tries)[np.arange(m), pick] if started else shocks
        end = start + chosen
    return np.maximum(0.0, end - target)


def _outlasting(dur: np.ndarray, start: np.ndarray, as_of: int) -> tuple[np.ndarray, np.ndarray]:
    """Per draw, the first of its tries that outlasts what was seen by ``as_of`` (a stage
    that had not started yet has one try, always taken), and which try it was."""
    if dur.shape[1] == 1:
        return dur[:, 0], np.zeros(len(dur), dtype=int)
    ok = start[:, None] + dur > as_of
    pick = np.where(ok.any(axis=1), np.argmax(ok, axis=1), 0)
    chosen = np.where(ok.any(axis=1), dur[np.arange(len(dur)), pick], as_of - start + 1)
    return chosen, pick


def _epoch_day(value: object) -> int:
    """Days since 1970-01-01 of a date (the simulator's day numbers)."""
    return int((pd.Timestamp(value).normalize() - pd.Timestamp(0)).days)  # type: ignore[arg-type]


@click.command()
@click.option("--orders", type=click.IntRange(min=200), default=3000, show_default=True)
@click.option("--seed", type=int, default=2, show_default=True)
@click.option("--draws", type=click.IntRange(min=50), default=1000, show_default=True)
def main(orders: int, seed: int, draws: int) -> None:
    simulated = sim.simulate(orders, seed, keep_hidden=True)
    frame, hidden = simulated.stages, simulated.hidden
    assert hidden is not None
    snaps = build_snapshots(frame, REPORT_FRACTIONS)
    snaps = snaps[snaps["labelled"]]
    by_order = {oid: g.sort_values("stage_number") for oid, g in frame.groupby("order_id")}
    rng = np.random.default_rng(12345)
    oracle = np.empty(len(snaps))
    for j, row in enumerate(snaps.itertuples()):
        as_of = _epoch_day(row.as_of)
        st = by_order[row.order_id]
        target = _epoch_day(st["target_date"].iloc[0])
        oracle[j] = np.median(_remaining(st, hidden[row.order_id], as_of, target, rng, draws))
    actual = snaps["delay_days"].to_numpy(dtype=float)
    for fraction in REPORT_FRACTIONS:
        mask = (snaps["fraction"] == fraction).to_numpy()
        part = snaps[mask]
        base: dict[str, float] = {
            "no_delay": float(np.mean(actual[mask])),
            "earned_schedule": float(np.mean(np.abs(earned_schedule_delay(part) - actual[mask]))),
            "production_forecast": float(
                np.mean(np.abs(production_forecast_delay(part) - actual[mask]))
            ),
        }
        best = min(base.values())
        bound = float(np.mean(np.abs(oracle[mask] - actual[mask])))
        click.echo(
            f"{fraction:.0%}: n={mask.sum()} oracle MAE {bound:.2f} d = {bound / best:.2f} x best "
            f"baseline ({min(base, key=lambda k: base[k])} {best:.2f}); "
            + ", ".join(f"{k} {v:.2f}" for k, v in base.items())
            + f"; issue target 0.3 x = {0.3 * best:.2f}"
        )


if __name__ == "__main__":
    main()
