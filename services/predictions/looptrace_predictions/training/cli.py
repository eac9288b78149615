"""`looptrace predictions …`: simulate a history, train, evaluate, predict."""

from __future__ import annotations

import json
import math
from datetime import date, timedelta
from typing import Any

import click
import pandas as pd
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from looptrace_predictions.config import PredictionsSettings
from looptrace_predictions.registry import ModelNotFound, load_active
from looptrace_predictions.training import quality_cli, workflows
from looptrace_predictions.training.history import load_history, write_history
from looptrace_predictions.training.inspections import inspections_path_for, write_inspections
from looptrace_predictions.training.live_history import (
    read_history,
    read_inspections,
    read_live_frame,
)
from looptrace_predictions.training.reliability_plot import write_reliability_diagram
from looptrace_predictions.training.report import metrics_report
from looptrace_predictions.training.simulate import write_simulated_history

MAX_ERRORS_SHOWN = 20


@click.group(help="Delay-risk model: simulate history, train, evaluate, predict.")
def predictions() -> None:
    pass


@predictions.command(help="Write a synthetic order history CSV.")
@click.option("--orders", "n_orders", type=click.IntRange(min=1), default=3000, show_default=True)
@click.option("--seed", type=int, default=1, show_default=True)
@click.option("--out", type=click.Path(dir_okay=False), required=True)
@click.option(
    "--inspections-out", type=click.Path(dir_okay=False),
    help="where the inspections go; default <out>.inspections.csv",
)  # fmt: skip
def simulate(n_orders: int, seed: int, out: str, inspections_out: str | None) -> None:
    console = Console(stderr=True)
    inspections = inspections_out or str(inspections_path_for(out))
    with Progress(*_columns(), console=console, transient=True) as bar:
        task = bar.add_task("simulating orders", total=n_orders)
        sim = write_simulated_history(
            out, n_orders, seed, lambda n: bar.advance(task, n), inspections
        )
    console.print(f"wrote {len(sim.stages)} stage rows of {n_orders} orders to {out}")
    console.print(f"wrote {len(sim.inspections)} inspections to {inspections}")


@predictions.command(help="Train a new model version on a history and make it active.")
@click.option(
    "--history", "history_path", type=click.Path(exists=True, dir_okay=False), required=True
)
@click.option("--out", "model_dir", type=click.Path(file_okay=False), required=True)
@quality_cli.target_option()
@quality_cli.inspections_option()
def train(history_path: str, model_dir: str, target: str, inspections_path: str | None) -> None:
    console = Console()
    history = _load(history_path, console)
    if target == "quality":
        inspections = quality_cli.load(history_path, inspections_path, console)
        sha = workflows.file_sha256(history_path)
        quality_cli.train(history, inspections, sha, model_dir, console)
        return
    _train(history, history_path, model_dir, console)


def _train(history: pd.DataFrame, history_path: str, model_dir: str, console: Console) -> None:
    steps = ["building snapshots", "fitting models", "measuring on the validation split", "saving"]
    with Progress(*_columns(), console=console, transient=True) as bar:
        task = bar.add_task("training", total=len(steps))

        def step(name: str) -> None:
            bar.update(task, description=name, completed=steps.index(name))

        sha = workflows.file_sha256(history_path)
        try:
            report = workflows.train(history, sha, model_dir, step)
        except ValueError as error:
            raise click.ClickException(str(error)) from error
        bar.update(task, completed=len(steps))
    meta = report.metadata
    console.print(
        f"model {report.version} is active in {model_dir} "
        f"({meta['n_orders']} orders, {meta['n_snapshots']} snapshots)"
    )
    console.print("time-based validation split:")
    console.print(metrics_report(meta["metrics"]))


@predictions.command(help="Compare the active model with the baseline rule on a history.")
@click.option(
    "--history", "history_path", type=click.Path(exists=True, dir_okay=False), required=True
)
@click.option("--model", "model_dir", type=click.Path(exists=True, file_okay=False), required=True)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option(
    "--plot", "plot_path", type=click.Path(dir_okay=False), help="Write a reliability diagram PNG."
)
@quality_cli.target_option()
@quality_cli.inspections_option()
def evaluate(
    history_path: str, model_dir: str, as_json: bool, plot_path: str | None, target: str,
    inspections_path: str | None,
) -> None:  # fmt: skip
    console = Console(stderr=as_json)
    history = _load(history_path, console)
    if target == "quality":
        inspections = quality_cli.load(history_path, inspections_path, console)
        quality_cli.evaluate(history, inspections, history_path, model_dir, as_json, console)
        return
    model = _active(model_dir)
    sha = workflows.file_sha256(history_path)
    try:
        result = workflows.evaluate(history, sha, model, model_dir)
    except ValueError as error:
        raise click.ClickException(str(error)) from error
    if plot_path:
        _plot(plot_path, result)
        console.print(f"reliability diagram → {plot_path}")
    if as_json:
        click.echo(json.dumps(_json_safe(result)))
        return
    console.print(f"model {result['model_version']} on {result['split']}")
    console.print(metrics_report(result["metrics"]))


def _plot(path: str, result: dict) -> None:
    metrics = result["metrics"]
    ece = metrics["classification"]["model"]["overall"]["ece"]
    rule = metrics["classification"]["rule"]["overall"]["ece"]
    title = f"model {result['model_version']}: ECE {ece:.3f} (rule {rule:.3f})"
    calibration = metrics["calibration"]
    write_reliability_diagram(path, calibration["model"], calibration["rule"], title)


@predictions.command(help="Score every order open on a date, using only what was known then.")
@click.option(
    "--history", "history_path", type=click.Path(exists=True, dir_okay=False), required=True
)
@click.option("--model", "model_dir", type=click.Path(exists=True, file_okay=False), required=True)
@click.option("--as-of", "as_of", help="Date YYYY-MM-DD (delay; quality scores every inspection).")
@click.option("--out", type=click.Path(dir_okay=False), required=True)
@quality_cli.target_option()
@quality_cli.inspections_option()
def predict(
    history_path: str, model_dir: str, as_of: str | None, out: str, target: str,
    inspections_path: str | None,
) -> None:  # fmt: skip
    console = Console(stderr=True)
    if target == "quality":
        inspections = quality_cli.load(history_path, inspections_path, console)
        quality_cli.predict(_load(history_path, console), inspections, model_dir, out, console)
        return
    if as_of is None:
        raise click.UsageError("--as-of is required with --target delay")
    try:
        date.fromisoformat(as_of)
    except ValueError as error:
        raise click.BadParameter(
            f"'{as_of}' is not a date (YYYY-MM-DD)", param_hint="--as-of"
        ) from error
    history = _load(history_path, console)
    frame = workflows.predict(history, _active(model_dir), as_of)
    frame.to_csv(out, index=False)
    levels = frame["risk_level"].value_counts().to_dict()
    console.print(f"scored {len(frame)} open orders as of {as_of} → {out} {levels}")


@predictions.command(
    "export-history", help="Write the orders this service followed as a history CSV."
)
@click.option("--out", type=click.Path(dir_okay=False), required=True)
@click.option(
    "--inspections-out", type=click.Path(dir_okay=False),
    help="where the recorded inspections go; default <out>.inspections.csv",
)  # fmt: skip
def export_history(out: str, inspections_out: str | None) -> None:
    frame = _live_history()
    write_history(frame, out)
    click.echo(f"wrote {len(frame)} stage rows of {frame['order_id'].nunique()} orders to {out}")
    inspections = read_inspections(PredictionsSettings().database_url)
    target = inspections_out or str(inspections_path_for(out))
    write_inspections(inspections, target)
    click.echo(f"wrote {len(inspections)} inspections to {target}")


@predictions.command(help="Export the live history and train a new active version on it.")
@click.option("--out", "model_dir", type=click.Path(file_okay=False), required=True)
@click.option(
    "--history-out", type=click.Path(dir_okay=False), default="live-history.csv",
    show_default=True, help="where the exported history is kept (its SHA goes into the model)",
)  # fmt: skip
def retrain(model_dir: str, history_out: str) -> None:
    console = Console()
    write_history(_live_history(), history_out)
    console.print(f"exported the live history to {history_out}")
    _train(_load(history_out, console), history_out, model_dir, console)


@predictions.command(help="Compare what the worker scored with the model's training data (PSI).")
@click.option("--model", "model_dir", type=click.Path(exists=True, file_okay=False), required=True)
@click.option("--days", type=click.IntRange(min=1), default=30, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def drift(model_dir: str, days: int, as_json: bool) -> None:
    version = _active(model_dir).version
    since = date.today() - timedelta(days=days)
    live = read_live_frame(PredictionsSettings().database_url, since)
    try:
        report = workflows.drift(model_dir, version, live)
    except ValueError as error:
        raise click.ClickException(str(error)) from error
    if as_json:
        click.echo(json.dumps(_json_safe(report)))
        return
    click.echo(f"model {version}, {report['n_live']} live samples since {since}")
    for name, value in report["psi"].items():
        click.echo(f"  {name:32s} PSI {value:.3f}")
    click.echo(f"{report['verdict']}: {report['advice']}")


def _live_history() -> pd.DataFrame:
    frame = read_history(PredictionsSettings().database_url)
    if frame.empty:
        raise click.ClickException("the predictions schema holds no orders with a plan to export")
    return frame


def _load(path: str, console: Console) -> pd.DataFrame:
    history, errors = load_history(path)
    for message in errors[:MAX_ERRORS_SHOWN]:
        console.print(f"[yellow]{path}: {message}[/yellow]", highlight=False)
    if len(errors) > MAX_ERRORS_SHOWN:
        console.print(f"[yellow]… and {len(errors) - MAX_ERRORS_SHOWN} more broken rows[/yellow]")
    if history.empty:
        raise click.ClickException(f"{path} has no usable rows; fix the errors above")
    return history


def _active(model_dir: str) -> Any:
    try:
        return load_active(model_dir)
    except ModelNotFound as error:
        raise click.ClickException(str(error)) from error


def _columns() -> tuple:
    return (SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn())


def _json_safe(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def main() -> None:  # pragma: no cover
    predictions()


if __name__ == "__main__":  # pragma: no cover
    predictions()
