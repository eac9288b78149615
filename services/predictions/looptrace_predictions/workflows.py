"""What the CLI commands do, as plain functions: train, evaluate, predict."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from .evaluation import compare
from .model import ScoringModel, fit_models, split_by_time
from .registry import promote, read_metadata, save_version
from .risk import risk_levels
from .snapshots import REPORT_FRACTIONS, build_snapshots, index_history, open_orders_features

Step = Callable[[str], None]
PREDICTION_COLUMNS = ["order_id", "as_of", "p_late", "expected_delay_days", "risk_level"]


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
    snapshots = build_snapshots(history)
    training, validation = split_by_time(snapshots)
    note("fitting models")
    model = fit_models(training)
    note("measuring on the validation split")
    metrics = compare(model, validation)
    metadata = {
        "features": model.features,
        "training_data_sha256": history_sha256,
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
    snapshots = build_snapshots(history, REPORT_FRACTIONS)
    trained_on = read_metadata(model_dir, model.version).get("training_data_sha256")
    if trained_on == history_sha256:
        split = "validation (the model was trained on this history)"
        rows = split_by_time(snapshots)[1]
    else:
        split, rows = "all orders (history not used for training)", snapshots
    return {"model_version": model.version, "split": split, "metrics": compare(model, rows)}


def predict(history: pd.DataFrame, model: ScoringModel, as_of: str) -> pd.DataFrame:
    """Score every order open on ``as_of`` with what was known on that date."""
    features = open_orders_features(index_history(history), as_of)
    p_late, delay = model.predict(features) if len(features) else ([], [])
    return pd.DataFrame(
        {
            "order_id": features["order_id"],
            "as_of": pd.to_datetime(features["as_of"]).dt.strftime("%Y-%m-%d"),
            "p_late": pd.Series(p_late, dtype=float).round(4).to_numpy(),
            "expected_delay_days": pd.Series(delay, dtype=float).round(1).to_numpy(),
            "risk_level": risk_levels(pd.Series(p_late, dtype=float).to_numpy()),
        },
        columns=PREDICTION_COLUMNS,
    )
