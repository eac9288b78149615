"""The tile classifier: trained on synthetic fabric (the baseline) plus any real labels.

A histogram gradient-boosting classifier over the tile features predicts the tile's kind
(none or a defect kind); P(defect) = 1 - P(none). Training is deterministic for a seed, so the
baseline is rebuilt bit-for-bit at first use instead of being downloaded.
"""

from __future__ import annotations

import io
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path

import joblib
import numpy as np
from PIL import Image
from sklearn.ensemble import HistGradientBoostingClassifier
from threadpoolctl import threadpool_limits

from looptrace_quality.screening import image, synth
from looptrace_quality.screening.features import tile_features
from looptrace_quality.screening.image import TILE

FEATURE_VERSION = 1  # raise when features change: a model of another version is not loaded
BASELINE_SEED = 23
BASELINE_PHOTOS = 120
VALIDATION_PHOTOS = 40
COVERAGE = {"shade": 0.5}  # share of a tile a defect must cover to label it; others 2 %
DEFAULT_COVERAGE = 0.02


@dataclass
class TileSet:
    features: np.ndarray  # n x F
    labels: np.ndarray  # n, index into synth.KINDS
    photos: np.ndarray  # n, which photo each tile came from
    weights: np.ndarray = field(default_factory=lambda: np.ones(0))


@dataclass
class ScreeningModel:
    classifier: HistGradientBoostingClassifier
    threshold: float  # a tile is flagged when P(defect) >= threshold
    trained_on: dict[str, int]  # synthetic_photos, labelled_tiles, seed
    feature_version: int = FEATURE_VERSION

    def defect_probability(self, features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(P(defect), most likely defect kind index) per tile."""
        with threadpool_limits(1):  # OpenMP threads only spin on a busy machine
            proba = self.classifier.predict_proba(features)
        classes = list(self.classifier.classes_)
        none = proba[:, classes.index(0)] if 0 in classes else np.zeros(len(features))
        defect = proba.copy()
        if 0 in classes:
            defect[:, classes.index(0)] = -1
        kind = np.asarray(classes)[defect.argmax(1)]
        return 1 - none, kind


def tile_labels(kinds: np.ndarray, geometry: tuple[int, int, int, int]) -> np.ndarray:
    """The true label of each tile from a per-pixel defect map (synth.photo)."""
    rows, cols, top, left = geometry
    crop = kinds[top : top + rows * TILE, left : left + cols * TILE]
    tiles = crop.reshape(rows, TILE, cols, TILE).swapaxes(1, 2).reshape(rows * cols, -1)
    labels = np.zeros(rows * cols, dtype=np.intp)
    best = np.zeros(rows * cols)
    for index, name in enumerate(synth.KINDS[1:], start=1):
        share = (tiles == index).mean(1)
        hit = (share >= COVERAGE.get(name, DEFAULT_COVERAGE)) & (share > best)
        labels[hit], best[hit] = index, share[hit]
    return labels


def jpeg_round_trip(pixels: np.ndarray) -> np.ndarray:
    """What the screening sees of a photo: JPEG-encoded (as phones do) and loaded back."""
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "JPEG", quality=88)
    return image.load(buffer.getvalue()).pixels


def synthetic_tiles(seed: int, photos: int) -> TileSet:
    """Tiles of ``photos`` synthetic fabric photos drawn from ``seed``."""
    rng = np.random.default_rng(seed)
    feats, labels, owners = [], [], []
    for number in range(photos):
        pixels, kinds = synth.photo(rng)
        x, geometry = tile_features(jpeg_round_trip(pixels))
        feats.append(x)
        labels.append(tile_labels(kinds, geometry))
        owners.append(np.full(len(x), number))
    return TileSet(np.concatenate(feats), np.concatenate(labels), np.concatenate(owners))


def fit(tiles: TileSet, seed: int) -> HistGradientBoostingClassifier:
    classifier = HistGradientBoostingClassifier(
        max_iter=100, learning_rate=0.1, max_leaf_nodes=31, l2_regularization=1.0,
        early_stopping=False, random_state=seed,
    )  # fmt: skip
    weights = tiles.weights if len(tiles.weights) else None
    with threadpool_limits(1):  # deterministic, and no spinning threads on a shared machine
        return classifier.fit(tiles.features, tiles.labels, sample_weight=weights)


def photo_f1_threshold(model: ScreeningModel, tiles: TileSet) -> float:
    """The tile threshold that gives the best photo-level F1 on ``tiles`` (a photo is flagged
    when any tile is; it truly has a defect when any tile is labelled)."""
    p, _ = model.defect_probability(tiles.features)
    photos = np.unique(tiles.photos)
    score = np.array([p[tiles.photos == i].max() for i in photos])
    truth = np.array([(tiles.labels[tiles.photos == i] > 0).any() for i in photos])
    best, chosen = -1.0, 0.5
    for t in np.linspace(0.2, 0.95, 31):
        tp, fp = int((score >= t)[truth].sum()), int((score >= t)[~truth].sum())
        fn = int(truth.sum()) - tp
        f1 = 2 * tp / max(1, 2 * tp + fp + fn)
        if f1 > best:
            best, chosen = f1, float(t)
    return round(chosen, 3)


def train(
    seed: int = BASELINE_SEED, photos: int = BASELINE_PHOTOS, labelled: TileSet | None = None
) -> ScreeningModel:
    """The synthetic baseline (``seed``, ``photos``), plus ``labelled`` real tiles weighted
    higher; its threshold chosen on a separate synthetic validation set."""
    base = synthetic_tiles(seed, photos)
    base.weights = np.ones(len(base.labels))
    extra = 0
    if labelled is not None and len(labelled.labels):
        extra = len(labelled.labels)
        base = TileSet(
            np.concatenate([base.features, labelled.features]),
            np.concatenate([base.labels, labelled.labels]),
            np.concatenate([base.photos, labelled.photos + photos]),
            np.concatenate([base.weights, labelled.weights]),
        )
    model = ScreeningModel(fit(base, seed), 0.5, {"seed": seed, "synthetic_photos": photos,
                                                   "labelled_tiles": extra})  # fmt: skip
    validation = synthetic_tiles(seed + 1000, max(20, min(VALIDATION_PHOTOS, photos // 2)))
    model.threshold = photo_f1_threshold(model, validation)
    return model


def save(model: ScreeningModel, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(f"{path.suffix}.{os.getpid()}.{threading.get_ident()}.partial")
    joblib.dump(model, partial)
    partial.replace(path)


def load(path: Path) -> ScreeningModel | None:
    """The model saved at ``path``, or None when there is none of this feature version."""
    if not path.is_file():
        return None
    found = joblib.load(path)
    if not isinstance(found, ScreeningModel) or found.feature_version != FEATURE_VERSION:
        return None
    return found
