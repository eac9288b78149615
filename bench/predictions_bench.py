"""Predictions benchmark: batched scoring throughput and training time.

    .venv/bin/python bench/predictions_bench.py [--orders 100000] [--batch 10000] [--seed 1]

Simulates ``--orders`` orders, trains a model on them (timed: snapshots, fit,
validation metrics), then scores feature rows in batches of ``--batch`` rows,
one ``predict`` call per batch, and prints rows per second.
"""

from __future__ import annotations

import tempfile
import time

import click
import pandas as pd
from threadpoolctl import threadpool_limits

from looptrace_predictions.registry import load_active
from looptrace_predictions.training.simulate import simulate_history
from looptrace_predictions.training.snapshots import build_snapshots
from looptrace_predictions.training.workflows import train

SCORING_TARGET_ROWS_PER_SECOND = 50_000


def _timed(label: str, action):  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    result = action()
    elapsed = time.perf_counter() - start
    click.echo(f"{label}: {elapsed:.1f} s")
    return result, elapsed


@click.command()
@click.option("--orders", type=click.IntRange(min=200), default=100_000, show_default=True)
@click.option("--batch", type=click.IntRange(min=1), default=10_000, show_default=True)
@click.option("--seed", type=int, default=1, show_default=True)
@click.option(
    "--threads",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="OpenMP threads for boosting (1 avoids spin contention on a shared box)",
)
def main(orders: int, batch: int, seed: int, threads: int) -> None:
    with threadpool_limits(limits=threads):
        _run(orders, batch, seed)


def _run(orders: int, batch: int, seed: int) -> None:
    history, _ = _timed(f"simulate {orders} orders", lambda: simulate_history(orders, seed))
    with tempfile.TemporaryDirectory() as model_dir:
        report, train_seconds = _timed(
            f"train on {orders} orders (snapshots + fit + validation)",
            lambda: train(history, "bench", model_dir),
        )
        click.echo(f"  {report.metadata['n_snapshots']} snapshots; validation metrics:")
        for who in ("model", "rule"):
            m = report.metadata["metrics"]["classification"][who]["25%"]
            click.echo(f"  {who:8s} at 25 %: AUC {m['roc_auc']:.3f} Brier {m['brier']:.3f}")
        model = load_active(model_dir)
    rows, featurise_seconds = _timed("featurise snapshots", lambda: build_snapshots(history))
    click.echo(f"  {len(rows) / featurise_seconds:,.0f} snapshot rows/s featurised")
    _score(model, rows, batch)
    click.echo(f"training time for {orders} orders: {train_seconds:.1f} s")


def _score(model, rows: pd.DataFrame, batch: int) -> None:  # type: ignore[no-untyped-def]
    batches = [rows.iloc[i : i + batch] for i in range(0, len(rows) - batch + 1, batch)][:20]
    if not batches:
        batches = [rows]
    model.predict(batches[0])  # warm-up
    start = time.perf_counter()
    scored = sum(len(model.predict(part)[0]) for part in batches)
    elapsed = time.perf_counter() - start
    rate = scored / elapsed
    verdict = "meets" if rate >= SCORING_TARGET_ROWS_PER_SECOND else "BELOW"
    click.echo(
        f"scoring: {scored} rows in {len(batches)} batches of {len(batches[0])}: "
        f"{rate:,.0f} rows/s ({verdict} target {SCORING_TARGET_ROWS_PER_SECOND:,})"
    )


if __name__ == "__main__":
    main()
