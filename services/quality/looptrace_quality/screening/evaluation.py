"""Measured accuracy of a screening model on held-out synthetic photos (never trained on)."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import roc_auc_score

from looptrace_quality.screening import model as m
from looptrace_quality.screening.synth import KINDS

HELD_OUT_SEED = 2311  # far from the training and validation seeds


def evaluate(model: m.ScreeningModel, seed: int = HELD_OUT_SEED, photos: int = 60) -> dict:
    """Tile-level ROC AUC (all kinds and per kind against clean tiles) and photo-level
    precision / recall at the model's threshold (a photo is flagged when any tile is)."""
    held = m.synthetic_tiles(seed, photos)
    p, _ = model.defect_probability(held.features)
    truth = held.labels > 0
    per_kind = {
        name: round(float(roc_auc_score(held.labels[pick] == k, p[pick])), 4)
        for k, name in enumerate(KINDS[1:], start=1)
        if (pick := (held.labels == 0) | (held.labels == k)).any() and (held.labels == k).any()
    }
    owners = np.unique(held.photos)
    score = np.array([p[held.photos == i].max() for i in owners])
    defective = np.array([truth[held.photos == i].any() for i in owners])
    flagged = score >= model.threshold
    tp = int((flagged & defective).sum())
    return {
        "data": f"SYNTHETIC held-out fabrics, seed {seed}, {photos} photos, {len(p)} tiles",
        "threshold": model.threshold,
        "tile_roc_auc": round(float(roc_auc_score(truth, p)), 4),
        "tile_roc_auc_by_kind": per_kind,
        "photo_precision": round(tp / max(1, int(flagged.sum())), 4),
        "photo_recall": round(tp / max(1, int(defective.sum())), 4),
        "photos_with_defects": int(defective.sum()),
        "photos_flagged": int(flagged.sum()),
        "trained_on": model.trained_on,
    }
