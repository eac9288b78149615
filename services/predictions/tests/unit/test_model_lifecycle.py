import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from threadpoolctl import threadpool_limits

from looptrace_predictions.features import FEATURES
from looptrace_predictions.registry import (
    ActiveModel,
    ModelNotFound,
    active_version,
    list_versions,
    load_active,
    promote,
    read_metadata,
)
from looptrace_predictions.training.cli import predictions
from looptrace_predictions.training.history import write_history
from looptrace_predictions.training.simulate import simulate_history
from looptrace_predictions.training.workflows import PREDICTION_COLUMNS, predict, train

ORDERS = 400


@pytest.fixture(scope="module", autouse=True)
def one_thread() -> object:
    """Boosting on one OpenMP thread: small fits are faster so on a shared 2-core box."""
    with threadpool_limits(limits=1):
        yield


@pytest.fixture(scope="module")
def history() -> pd.DataFrame:
    return simulate_history(ORDERS, seed=4)


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory, history: pd.DataFrame) -> Path:
    root = tmp_path_factory.mktemp("models")
    train(history, "sha-of-history", root)
    return root


def test_training_saves_an_active_version_with_metadata(model_dir: Path) -> None:
    assert list_versions(model_dir) == ["v1"]
    assert active_version(model_dir) == "v1"
    meta = read_metadata(model_dir, "v1")
    assert meta["features"] == FEATURES
    assert meta["training_data_sha256"] == "sha-of-history"
    assert meta["n_orders"] == ORDERS
    assert meta["n_snapshots"] > meta["n_validation_snapshots"] > 0
    classes = meta["metrics"]["classification"]
    for who in ("model", "rule"):
        assert set(classes[who]) == {"overall", "25%", "50%", "75%"}
        assert 0.0 <= classes[who]["overall"]["brier"] <= 1.0
    assert classes["model"]["overall"]["roc_auc"] > 0.6
    assert 0.0 <= meta["thresholds"]["medium"] <= meta["thresholds"]["high"] <= 1.0
    assert set(meta["reference_distribution"]["numeric"]) >= {"p_late", "progress_gap"}
    assert load_active(model_dir).thresholds == meta["thresholds"]  # the worker levels with them


def test_promoting_a_version_is_picked_up_by_the_holder(
    model_dir: Path, history: pd.DataFrame, tmp_path: Path
) -> None:
    holder = ActiveModel(model_dir)
    assert holder.version == "v1"
    assert holder.reload_if_changed() is False
    train(history, "sha-of-history", model_dir)
    assert list_versions(model_dir) == ["v1", "v2"]
    assert holder.reload_if_changed() is True
    assert holder.version == "v2"
    promote(model_dir, "v1")
    assert holder.reload_if_changed() is True
    assert holder.version == load_active(model_dir).version == "v1"
    with pytest.raises(ModelNotFound, match="versions: v1, v2"):
        promote(model_dir, "v9")
    with pytest.raises(ModelNotFound, match="train --out"):
        load_active(tmp_path)


def test_predict_scores_only_orders_open_on_the_date(
    model_dir: Path, history: pd.DataFrame
) -> None:
    as_of = history["order_date"].quantile(0.5).floor("D")
    scored = predict(history, load_active(model_dir), as_of.strftime("%Y-%m-%d"))
    assert list(scored.columns) == PREDICTION_COLUMNS
    ends = history.drop_duplicates("order_id", keep="last").set_index("order_id")
    open_ids = ends[(ends["order_date"] <= as_of) & (ends["actual_end"] > as_of)].index
    assert sorted(scored["order_id"]) == sorted(open_ids)
    assert scored["p_late"].between(0, 1).all()
    assert (scored["expected_delay_days"] >= 0).all()
    assert set(scored["risk_level"]) <= {"low", "medium", "high"}


def test_batch_prediction_is_one_vectorised_call(model_dir: Path, history: pd.DataFrame) -> None:
    from looptrace_predictions.training.snapshots import build_snapshots

    frame = build_snapshots(history).head(200)
    model = load_active(model_dir)
    p_late, delay = model.predict(frame)
    single = model.predict(frame.iloc[[7]])
    assert p_late.shape == delay.shape == (200,)
    assert np.isclose(single[0][0], p_late[7]) and np.isclose(single[1][0], delay[7])
    quantiles = model.estimate(frame).delay
    assert (np.diff(quantiles, axis=1) >= 0).all() and np.allclose(quantiles[:, 1], delay)


def test_cli_simulate_train_evaluate_predict(tmp_path: Path) -> None:
    runner = CliRunner()
    history, models, out = tmp_path / "h.csv", tmp_path / "models", tmp_path / "p.csv"
    result = runner.invoke(
        predictions, ["simulate", "--orders", "300", "--seed", "3", "--out", str(history)]
    )
    assert result.exit_code == 0, result.output
    result = runner.invoke(predictions, ["train", "--history", str(history), "--out", str(models)])
    assert result.exit_code == 0, result.output
    assert "v1 is active" in result.output and "AUC" in result.output
    plot = tmp_path / "reliability.png"
    result = runner.invoke(
        predictions,
        ["evaluate", "--history", str(history), "--model", str(models), "--json",
         "--plot", str(plot)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    report = json.loads(result.stdout)
    assert report["split"].startswith("validation")
    assert set(report["metrics"]) == {
        "delay_mae",
        "classification",
        "intervals",
        "calibration",
        "warnings",
    }
    result = runner.invoke(
        predictions,
        [
            "predict",
            "--history",
            str(history),
            "--model",
            str(models),
            "--as-of",
            "2021-06-01",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    assert pd.read_csv(out).columns.tolist() == PREDICTION_COLUMNS


def test_cli_explains_what_to_fix(tmp_path: Path) -> None:
    runner = CliRunner()
    history = tmp_path / "h.csv"
    write_history(simulate_history(20, seed=1), history)
    result = runner.invoke(
        predictions,
        [
            "predict",
            "--history",
            str(history),
            "--model",
            str(tmp_path),
            "--as-of",
            "2021-13-01",
            "--out",
            "x.csv",
        ],
    )
    assert result.exit_code != 0 and "is not a date (YYYY-MM-DD)" in result.output
    result = runner.invoke(
        predictions,
        [
            "predict",
            "--history",
            str(history),
            "--model",
            str(tmp_path),
            "--as-of",
            "2021-02-01",
            "--out",
            "x.csv",
        ],
    )
    assert result.exit_code != 0 and "no active model" in result.output


def test_a_version_in_an_older_format_leaves_the_worker_on_what_it_had(tmp_path: Path) -> None:
    import joblib

    from looptrace_predictions.scoring import LiveModel

    (tmp_path / "v1").mkdir()
    joblib.dump(
        {"classifier": None, "regressor": None, "features": []}, tmp_path / "v1" / "model.joblib"
    )
    (tmp_path / "v1" / "metadata.json").write_text("{}")
    promote(tmp_path, "v1")
    with pytest.raises(ModelNotFound, match="older format"):
        load_active(tmp_path)
    live = LiveModel(tmp_path)  # starts, on the baseline rule
    assert live.is_baseline and live.reload() is False
