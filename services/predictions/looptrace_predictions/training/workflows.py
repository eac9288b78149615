"""What the CLI commands do, as plain functions: train, evaluate, predict."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from looptrace_predictions.registry import promote, read_metadata, save_version
from looptrace_predictions.risk import INTERVAL_LEVEL, risk_levels
from looptrace_predictions.risk_model import ScoringModel
from looptrace_predictions.training.drift import psi_report, reference_distribution
from looptrace_predictions.training.evaluation import compare
from looptrace_predictions.training.fitting import fit_models, split_by_time
from looptrace_predictions.training.lead_time import choose_thresholds, life_snapshots
from looptrace_predictions.training.snapshots import (
    REPORT_FRACTIONS,
    build_snapshots,
    index_history,
    open_orders_features,
)

Step = Callable[[str], None]
PREDICTION_COLUMNS = [
    "order_id",
    "as_of",
    "p_late",
    "expected_delay_days",
    "delay_p10_days",
    "delay_p90_days",
    "risk_level",
]


@dataclass(frozen=True)
class TrainingReport:
    version: str
    metadata: dict[str, Any]


def file_sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def train(
    history: pd.DataFrame, history_sha256: str, model_dir: str | Path, step: Step | None = None
) -> TrainingReport:
    """Fit on the earlier orders, measure on the later ones, save and activate."""
    note = step or (lambda _: None)
    note("building snapshots")
    indexed = index_history(history)
    snapshots = build_snapshots(indexed)
    training, validation = split_by_time(snapshots)
    note("fitting models")
    model = fit_models(training)
    note("measuring on the validation split")
    life = life_snapshots(indexed, pd.Index(validation["order_id"].unique()))
    model.thresholds = choose_thresholds(life, model.estimate(life).p_late)
    validation_at = build_snapshots(indexed, REPORT_FRACTIONS)
    validation_at = validation_at[validation_at["order_id"].isin(validation["order_id"])]
    metrics = compare(model, validation_at, life)
    metadata = {
        "features": model.features,
        "training_data_sha256": history_sha256,
        "thresholds": model.thresholds,
        "interval_level": INTERVAL_LEVEL,
        "interval_correction_days": model.interval_correction,
        "reference_distribution": reference_distribution(training, model),
        "metrics": metrics,
        "n_orders": int(snapshots["order_id"].nunique()),
        "n_snapshots": int(len(snapshots)),
        "n_training_snapshots": int(len(training)),
        "n_validation_snapshots": int(len(validation)),
    }
    note("saving")
    version = save_version(model_dir, model, metadata)
    promote(model_dir, version)
    return TrainingReport(version, read_metadata(model_dir, version))


def evaluate(
    history: pd.DataFrame,
    history_sha256: str,
    model: ScoringModel,
    model_dir: str | Path,
) -> dict[str, Any]:
    """Metrics on the history; only its validation split if the model was trained on it."""
    indexed = index_history(history)
    snapshots = build_snapshots(indexed, REPORT_FRACTIONS)
    trained_on = read_metadata(model_dir, model.version).get("training_data_sha256")
    if trained_on == history_sha256:
        split = "validation (the model was trained on this history)"
        later = split_by_time(build_snapshots(indexed))[1]["order_id"].unique()
        rows = snapshots[snapshots["order_id"].isin(later)]
    else:
        split, rows = "all orders (history not used for training)", snapshots
    life = life_snapshots(indexed, pd.Index(rows["order_id"].unique()))
    metrics = compare(model, rows, life)
    return {"model_version": model.version, "split": split, "metrics": metrics}


def predict(history: pd.DataFrame, model: ScoringModel, as_of: str) -> pd.DataFrame:
    """Score every order open on ``as_of`` with what was known on that date."""
    features = open_orders_features(index_history(history), as_of)
    if len(features):
        estimate = model.estimate(features)
        p_late, delay = estimate.p_late, estimate.delay
    else:
        p_late, delay = np.zeros(0), np.zeros((0, 3))
    return pd.DataFrame(
        {
            "order_id": features["order_id"],
            "as_of": pd.to_datetime(features["as_of"]).dt.strftime("%Y-%m-%d"),
            "p_late": p_late.round(4),
            "expected_delay_days": delay[:, 1].round(1),
            "delay_p10_days": delay[:, 0].round(1),
            "delay_p90_days": delay[:, 2].round(1),
            "risk_level": risk_levels(p_late, model.thresholds),
        },
        columns=PREDICTION_COLUMNS,
    )


def drift(model_dir: str | Path, version: str, live: pd.DataFrame) -> dict[str, Any]:
    """PSI of the live samples against the reference stored with ``version``."""
    reference = read_metadata(model_dir, version).get("reference_distribution")
    if reference is None:
        raise ValueError(f"model {version} was saved without a reference distribution; retrain")
    return {"model_version": version, **psi_report(reference, live, version)}
