"""The ``--target quality`` halves of ``looptrace predictions train / evaluate / predict``."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import click
import pandas as pd
from rich.console import Console
from rich.table import Table

from looptrace_predictions.quality_model import QualityModel
from looptrace_predictions.registry import ModelNotFound, load_active
from looptrace_predictions.training import quality_workflows
from looptrace_predictions.training.inspections import inspections_path_for, load_inspections
from looptrace_predictions.training.quality_snapshots import index_quality
from looptrace_predictions.training.workflows import file_sha256

TARGETS = ("delay", "quality")
MAX_ERRORS_SHOWN = 20


def target_option() -> Any:
    return click.option(
        "--target", type=click.Choice(TARGETS), default="delay", show_default=True,
        help="delay: P(late) and the delay; quality: P(the next inspection is rejected)",
    )  # fmt: skip


def inspections_option() -> Any:
    return click.option(
        "--inspections", "inspections_path", type=click.Path(dir_okay=False),
        help="the inspections CSV (--target quality); default <history>.inspections.csv",
    )  # fmt: skip


def load(history_path: str, inspections_path: str | None, console: Console) -> pd.DataFrame:
    path = Path(inspections_path) if inspections_path else inspections_path_for(history_path)
    if not path.exists():
        raise click.ClickException(
            f"{path} does not exist; give the inspections with --inspections "
            "(`looptrace predictions simulate` writes them beside the history)"
        )
    frame, errors = load_inspections(path)
    for message in errors[:MAX_ERRORS_SHOWN]:
        console.print(f"[yellow]{path}: {message}[/yellow]", highlight=False)
    if len(errors) > MAX_ERRORS_SHOWN:
        console.print(f"[yellow]… and {len(errors) - MAX_ERRORS_SHOWN} more broken rows[/yellow]")
    return frame


def train(history: pd.DataFrame, inspections: pd.DataFrame, sha: str, model_dir: str,
          console: Console) -> None:  # fmt: skip
    try:
        report = quality_workflows.train_quality(history, inspections, sha, model_dir)
    except ValueError as error:
        raise click.ClickException(str(error)) from error
    meta = report.metadata
    console.print(
        f"quality model {report.version} is active in {model_dir} ({meta['n_orders']} orders, "
        f"{meta['n_snapshots']} lot inspections); levels: medium ≥ "
        f"{meta['thresholds']['medium']:.3f}, high ≥ {meta['thresholds']['high']:.3f}"
    )
    console.print("time-based validation split:")
    console.print(metrics_table(meta["metrics"]))


def evaluate(history: pd.DataFrame, inspections: pd.DataFrame, history_path: str,
             model_dir: str, as_json: bool, console: Console) -> None:  # fmt: skip
    model = active(model_dir)
    sha = file_sha256(history_path)
    try:
        result = quality_workflows.evaluate_quality(history, inspections, sha, model, model_dir)
    except ValueError as error:
        raise click.ClickException(str(error)) from error
    if as_json:
        click.echo(json.dumps(_json_safe(result)))
        return
    console.print(f"quality model {result['model_version']} on {result['split']}")
    console.print(metrics_table(result["metrics"]))


def predict(history: pd.DataFrame, inspections: pd.DataFrame, model_dir: str, out: str,
            console: Console) -> None:  # fmt: skip
    frame = quality_workflows.predict_quality(
        index_quality(history, inspections), active(model_dir)
    )
    frame.to_csv(out, index=False)
    levels = frame["risk_level"].value_counts().to_dict()
    console.print(
        f"scored {len(frame)} lot inspections as they were about to happen → {out} {levels}"
    )


def active(model_dir: str) -> QualityModel:
    try:
        model: QualityModel = load_active(model_dir, QualityModel)
    except ModelNotFound as error:
        raise click.ClickException(str(error)) from error
    if not isinstance(model, QualityModel):  # pragma: no cover - load_active builds the kind
        raise click.ClickException(f"{model_dir} holds no quality model")
    return model


def metrics_table(metrics: dict) -> Table:
    table = Table(
        title="P(next inspection rejected): model vs baseline (supplier's rate, beta prior)"
    )
    for column in ["at", "n", "rejected", "AUC mod", "AUC base", "AUC gain", "Brier mod",
                   "Brier base", "ECE mod"]:  # fmt: skip
        table.add_column(column, justify="right")
    for group, scores in metrics.items():
        m, b = scores["model"], scores["baseline"]
        table.add_row(
            group, str(m["n"]), _f(m["rejected_share"]), _f(m["roc_auc"]), _f(b["roc_auc"]),
            _f(m["roc_auc"] - b["roc_auc"]), _f(m["brier"]), _f(b["brier"]), _f(m["ece"]),
        )  # fmt: skip
    return table


def _f(value: Any, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    return f"{value:.{digits}f}"


def _json_safe(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, float) and math.isnan(value):
        return None
    return value
