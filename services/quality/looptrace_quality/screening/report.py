"""From tile probabilities to what a person reads: a score, flagged tiles, actions."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from looptrace_quality.screening import image
from looptrace_quality.screening.features import tile_features
from looptrace_quality.screening.image import TILE, Unscreenable
from looptrace_quality.screening.model import ScreeningModel
from looptrace_quality.screening.synth import KINDS

ACTIONS = {
    "stain": "Look at the marked area for stains; ask the supplier to spot-clean or set the "
    "pieces aside, and to check the finishing and packing area for the source.",
    "hole": "Look at the marked area for holes or needle damage; a hole is usually a major "
    "defect, so have the next inspection check these pieces.",
    "broken_yarn": "Look for broken or missing yarns in the marked area; ask the supplier to "
    "check the fabric roll (4-point system) before more is cut.",
    "misprint": "Compare the print in the marked area with the approved strike-off; ask the "
    "supplier to check the print registration and screens.",
    "shade": "Compare the marked pieces with the approved lab dip or shade band; pieces of "
    "one garment should come from one dye lot.",
}
NOTHING_FOUND = (
    "No visible defect found by the pre-screen. This is advisory, not an inspection: the "
    "AQL inspection still decides the lot."
)


@dataclass(frozen=True)
class FlaggedTile:
    index: int  # row * cols + col in the working grid
    row: int
    col: int
    box: tuple[int, int, int, int]  # x, y, width, height in the ORIGINAL photo's pixels
    kind: str  # the most likely defect kind
    confidence: float  # P(defect) of the tile, 0..1


@dataclass(frozen=True)
class Screening:
    """A screened photo. ``score`` is the highest tile P(defect) (0..1); tiles at or above
    ``threshold`` are flagged. ``features`` are kept so labels can train on them later."""

    score: float
    threshold: float
    rows: int
    cols: int
    flagged: tuple[FlaggedTile, ...]
    actions: tuple[str, ...]
    working: np.ndarray  # the downscaled RGB copy the overlay is drawn on
    origin: tuple[int, int, float]  # (top, left, original pixels per working pixel)
    features: np.ndarray

    @property
    def tiles(self) -> int:
        return self.rows * self.cols


def screen(data: bytes, model: ScreeningModel, original_width: int | None = None) -> Screening:
    """Screen one photo's bytes; Unscreenable (with its reason) when that can't be done.
    ``original_width``: of the photo ``data`` is a copy of (tile boxes are given in it)."""
    working = image.load(data)
    return screen_pixels(working.pixels, model, original_width or working.original_width)


def screen_pixels(pixels: np.ndarray, model: ScreeningModel, original_width: int) -> Screening:
    features, (rows, cols, top, left) = tile_features(pixels)
    if rows * cols == 0:
        raise Unscreenable("too_small", "the photo shows too little fabric to judge")
    p, kinds = model.defect_probability(features)
    scale = original_width / pixels.shape[1]
    flagged = tuple(
        FlaggedTile(int(i), int(i // cols), int(i % cols),
                    _box(int(i // cols), int(i % cols), top, left, scale),
                    KINDS[int(kinds[i])], round(float(p[i]), 4))
        for i in np.flatnonzero(p >= model.threshold)
    )  # fmt: skip
    return Screening(
        round(float(p.max()), 4), model.threshold, rows, cols, flagged, actions(flagged),
        pixels, (top, left, scale), features,
    )  # fmt: skip


def _box(row: int, col: int, top: int, left: int, scale: float) -> tuple[int, int, int, int]:
    x, y, side = (left + col * TILE) * scale, (top + row * TILE) * scale, TILE * scale
    return round(x), round(y), round(side), round(side)


def actions(flagged: tuple[FlaggedTile, ...]) -> tuple[str, ...]:
    """One recommended action per defect kind found, most confident kind first."""
    if not flagged:
        return (NOTHING_FOUND,)
    best: dict[str, float] = {}
    for tile in flagged:
        best[tile.kind] = max(best.get(tile.kind, 0.0), tile.confidence)
    kinds = sorted(best, key=lambda k: -best[k])
    return (*(ACTIONS[k] for k in kinds), "Advisory only: the AQL inspection decides the lot.")
