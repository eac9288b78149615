"""Drift: does the live population still look like the one the model was trained on?

Training stores, with the model, a *reference distribution*: for every numeric feature
and for the scores (``p_late``, ``delay_p50_days``) the decile edges over the training
snapshots and the share of rows in each bin; for the category, the share of each value.
The worker records what it scores (``live_samples``: features and scores of each order,
once per day). ``psi_report`` compares the two with the population stability index

    PSI = Σ over bins (live share − reference share) × ln(live share / reference share)

(shares floored at ``SHARE_FLOOR``), and reads it the usual way: below ``WATCH_FROM``
stable, up to ``RETRAIN_FROM`` worth watching, from ``RETRAIN_FROM`` on — on any feature
or score — retrain.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from looptrace_predictions.features import CATEGORICAL_FEATURES, NUMERIC_FEATURES

if TYPE_CHECKING:
    from looptrace_predictions.risk_model import ScoringModel

SCORES = ("p_late", "delay_p50_days")
SHARE_FLOOR = 1e-4
WATCH_FROM = 0.1
RETRAIN_FROM = 0.25
MIN_LIVE_ROWS = 100
DECILES = np.linspace(0.1, 0.9, 9)


def scored_frame(features: pd.DataFrame, model: ScoringModel) -> pd.DataFrame:
    """The features plus the model's scores, the columns drift looks at."""
    estimate = model.estimate(features)
    frame = features[CATEGORICAL_FEATURES + NUMERIC_FEATURES].copy()
    frame["p_late"] = estimate.p_late
    frame["delay_p50_days"] = estimate.delay[:, 1]
    return frame


def _numeric_reference(values: np.ndarray) -> dict[str, Any]:
    edges = np.unique(np.quantile(values, DECILES)) if len(values) else np.array([])
    return {"edges": edges.tolist(), "shares": _shares(values, edges).tolist()}


def _shares(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    index = np.searchsorted(edges, values, side="right")
    counts = np.bincount(index, minlength=len(edges) + 1).astype(float)
    return counts / max(len(values), 1)


def reference_distribution(training: pd.DataFrame, model: ScoringModel) -> dict[str, Any]:
    frame = scored_frame(training, model)
    numeric = {
        name: _numeric_reference(frame[name].to_numpy(dtype=float)[~frame[name].isna()])
        for name in [*NUMERIC_FEATURES, *SCORES]
    }
    categorical = {
        name: frame[name].astype(str).value_counts(normalize=True).to_dict()
        for name in CATEGORICAL_FEATURES
    }
    return {"numeric": numeric, "categorical": categorical, "n": int(len(frame))}


def psi(reference: np.ndarray, live: np.ndarray) -> float:
    """Population stability index of two share vectors over the same bins."""
    ref = np.maximum(np.asarray(reference, dtype=float), SHARE_FLOOR)
    cur = np.maximum(np.asarray(live, dtype=float), SHARE_FLOOR)
    return float(np.sum((cur - ref) * np.log(cur / ref)))


def psi_report(
    reference: dict[str, Any], live: pd.DataFrame, version: str | None = None
) -> dict[str, Any]:
    """PSI per feature and score, and what to do about it.

    Scores are compared only where ``live["model_version"]`` is ``version`` (the model the
    reference belongs to): another model's (or the baseline's) scores say nothing about it.
    """
    if version is not None and "model_version" in live:
        live = live.copy()
        other = live["model_version"] != version
        for name in SCORES:
            if name in live:
                live.loc[other, name] = np.nan
    if len(live) < MIN_LIVE_ROWS:
        return {
            "verdict": "not enough live data",
            "advice": f"need at least {MIN_LIVE_ROWS} scored orders, have {len(live)}",
            "n_live": int(len(live)),
            "psi": {},
        }
    values: dict[str, float] = {}
    for name, ref in reference["numeric"].items():
        if name in live:
            column = live[name].to_numpy(dtype=float)
            if np.isnan(column).all():
                continue
            shares = _shares(column[~np.isnan(column)], np.asarray(ref["edges"]))
            values[name] = psi(np.asarray(ref["shares"]), shares)
    for name, ref in reference["categorical"].items():
        if name in live:
            seen = live[name].astype(str).value_counts(normalize=True)
            keys = sorted(set(ref) | set(seen.index))
            values[name] = psi(
                np.array([ref.get(k, 0.0) for k in keys]),
                np.array([seen.get(k, 0.0) for k in keys]),
            )
    return _verdict(values, len(live))


def _verdict(values: dict[str, float], n_live: int) -> dict[str, Any]:
    worst = max(values.values(), default=0.0)
    drifted = sorted((n for n, v in values.items() if v >= RETRAIN_FROM), key=lambda n: -values[n])
    if worst >= RETRAIN_FROM:
        verdict = "retrain"
        advice = (
            f"PSI ≥ {RETRAIN_FROM} on {', '.join(drifted)}: run `looptrace predictions retrain`"
        )
    elif worst >= WATCH_FROM:
        verdict, advice = "watch", f"PSI between {WATCH_FROM} and {RETRAIN_FROM}: check again soon"
    else:
        verdict, advice = "stable", f"every PSI below {WATCH_FROM}: no need to retrain"
    psi_sorted = dict(sorted(values.items(), key=lambda kv: -kv[1]))
    return {"verdict": verdict, "advice": advice, "n_live": int(n_live), "psi": psi_sorted}
