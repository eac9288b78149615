"""What ``train/evaluate/predict --target quality`` do, as plain functions (``workflows.py``'s
sibling): the quality model has its own model directory and registry versions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from looptrace_predictions.quality_model import QualityModel
from looptrace_predictions.registry import promote, read_metadata, save_version
from looptrace_predictions.risk import risk_levels
from looptrace_predictions.training.fitting import split_by_time
from looptrace_predictions.training.quality_fitting import (
    choose_quality_thresholds,
    fit_quality,
    quality_metrics,
)
from looptrace_predictions.training.quality_snapshots import (
    QualityHistory,
    build_quality_snapshots,
    index_quality,
)
from looptrace_predictions.training.workflows import Step, TrainingReport


def train_quality(
    history: pd.DataFrame,
    inspections: pd.DataFrame,
    history_sha256: str,
    model_dir: str | Path,
    step: Step | None = None,
) -> TrainingReport:
    """Fit on the earlier orders' inspections, measure on the later ones, save and activate."""
    note = step or (lambda _: None)
    note("building snapshots")
    snapshots = build_quality_snapshots(index_quality(history, inspections))
    training, validation = split_by_time(snapshots)
    note("fitting models")
    model = fit_quality(training)
    note("measuring on the validation split")
    if validation.empty:
        raise ValueError("the history's later orders have no lot inspections to validate on")
    at_start = validation[validation["qc_start"]]
    model.thresholds = choose_quality_thresholds(model.estimate(at_start))
    metadata = {
        "target": "quality",
        "features": model.features,
        "training_data_sha256": history_sha256,
        "thresholds": model.thresholds,
        "baseline_prior": model.prior,
        "metrics": quality_metrics(model, validation),
        "n_orders": int(snapshots["order_id"].nunique()),
        "n_snapshots": int(len(snapshots)),
        "n_training_snapshots": int(len(training)),
        "n_validation_snapshots": int(len(validation)),
    }
    note("saving")
    version = save_version(model_dir, model, metadata)
    promote(model_dir, version)
    return TrainingReport(version, read_metadata(model_dir, version))


def evaluate_quality(
    history: pd.DataFrame,
    inspections: pd.DataFrame,
    history_sha256: str,
    model: QualityModel,
    model_dir: str | Path,
) -> dict[str, Any]:
    """Metrics on the history; only its validation split if the model was trained on it."""
    snapshots = build_quality_snapshots(index_quality(history, inspections))
    trained_on = read_metadata(model_dir, model.version).get("training_data_sha256")
    if trained_on == history_sha256:
        split, rows = (
            "validation (the model was trained on this history)",
            split_by_time(snapshots)[1],
        )
    else:
        split, rows = "all orders (history not used for training)", snapshots
    return {"model_version": model.version, "split": split,
            "metrics": quality_metrics(model, rows)}  # fmt: skip


def predict_quality(quality: QualityHistory, model: QualityModel) -> pd.DataFrame:
    """Every lot inspection of the history scored as it was about to happen (a backtest)."""
    snapshots = build_quality_snapshots(quality)
    p = model.estimate(snapshots) if len(snapshots) else np.zeros(0)
    return pd.DataFrame(
        {
            "order_id": snapshots["order_id"],
            "inspection_stage": snapshots["inspection_stage"],
            "as_of": pd.to_datetime(snapshots["as_of"]).dt.strftime("%Y-%m-%d"),
            "inspection_round": snapshots["inspection_round"].astype(int),
            "p_rejected": np.round(p, 4),
            "baseline_p_rejected": np.round(model.baseline(snapshots), 4),
            "risk_level": risk_levels(p, model.thresholds),
            "rejected": snapshots["rejected"],
        }
    )
