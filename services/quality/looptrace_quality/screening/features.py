"""Tile features of a working-size photo: colour statistics, texture (LBP, GLCM), edges.

Every feature is taken relative to the photo itself (the tile's value against the median tile),
so the classifier learns "this tile differs from the rest of the fabric", not one fabric's look.
All tiles are computed at once with numpy; no Python loop over tiles.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from looptrace_quality.screening.image import TILE, grid

LEVELS = 8  # grey levels of the co-occurrence matrix
_OFFSETS = ((0, 1), (1, 1), (1, 0), (1, -1), (0, -1), (-1, -1), (-1, 0), (-1, 1))


def _uniform_lbp_table() -> np.ndarray:
    """256 codes -> 10 bins: uniform patterns by their number of ones (0-8), the rest 9."""
    table = np.empty(256, dtype=np.intp)
    for code in range(256):
        bits = [(code >> k) & 1 for k in range(8)]
        turns = sum(bits[k] != bits[(k + 1) % 8] for k in range(8))
        table[code] = sum(bits) if turns <= 2 else 9
    return table


_LBP = _uniform_lbp_table()


def split(channel: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """(rows*cols, TILE*TILE) copy of a (rows*TILE, cols*TILE) channel, tile by tile."""
    return channel.reshape(rows, TILE, cols, TILE).swapaxes(1, 2).reshape(rows * cols, -1)


def tile_features(pixels: np.ndarray) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """(features n x F float32, (rows, cols, top, left)) of a uint8 RGB working image."""
    rows, cols, top, left = grid(pixels.shape[0], pixels.shape[1])
    rgb = pixels[top : top + rows * TILE, left : left + cols * TILE].astype(np.float32) / 255
    lum = rgb @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    opp_a = rgb[..., 0] - rgb[..., 1]
    opp_b = (rgb[..., 0] + rgb[..., 1]) / 2 - rgb[..., 2]
    parts = [
        _colour(lum, opp_a, opp_b, rows, cols),
        _outliers(lum, opp_a, opp_b, rows, cols),
        _profiles(lum, rows, cols),
        _lbp(lum, rows, cols),
        _glcm(lum, rows, cols),
        _edges(lum, rows, cols),
    ]
    parts.append(_lighting_free(parts[0][:, [0, 2, 3]], rgb, rows, cols))
    raw = np.concatenate(parts, axis=1)
    return _relative(raw), (rows, cols, top, left)


def _relative(raw: np.ndarray) -> np.ndarray:
    """Each raw feature, its difference from the median tile, and that difference in robust
    units of the photo's own spread (clipped), plus two photo-wide context values."""
    median = np.median(raw, axis=0)
    spread = 1.4826 * np.median(np.abs(raw - median), axis=0) + 1e-3
    diff = raw - median
    z = np.clip(diff / spread, -25, 25)
    context = np.broadcast_to(median[[0, 1]], (raw.shape[0], 2))
    return np.concatenate([raw, diff, z, context], axis=1).astype(np.float32)


def _colour(lum: np.ndarray, a: np.ndarray, b: np.ndarray, rows: int, cols: int) -> np.ndarray:
    tl, ta, tb = split(lum, rows, cols), split(a, rows, cols), split(b, rows, cols)
    low, high = np.percentile(tl, [2, 98], axis=1)
    return np.stack(
        [tl.mean(1), tl.std(1), ta.mean(1), tb.mean(1), ta.std(1), tb.std(1), low, high], axis=1
    )


def _lighting_free(means: np.ndarray, rgb: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """Tile brightness and colour with the photo's light gradient taken out (a plane fitted
    over the tile grid), and chromaticity (unchanged by brighter or dimmer light): a piece of
    another dye lot differs here even where the light falls off."""
    r, c = np.divmod(np.arange(rows * cols), cols)
    design = np.stack([np.ones(rows * cols), r / rows, c / cols], axis=1)
    coef, *_ = np.linalg.lstsq(design, means, rcond=None)
    residual = means - design @ coef
    total = rgb.sum(axis=2) + 1e-3
    chroma = [split(rgb[..., k] / total, rows, cols).mean(1) for k in (0, 1)]
    return np.concatenate([residual, np.stack(chroma, axis=1)], axis=1)


def _outliers(lum: np.ndarray, a: np.ndarray, b: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """Share of a tile's (weave-smoothed) pixels far from the photo's typical brightness and
    colour: what a hole, a stain or a misprint adds."""
    out = []
    for channel in (lum, a, b):
        smooth = ndimage.uniform_filter(channel, size=7, mode="reflect")
        centre = np.median(smooth[::4, ::4])
        sigma = 1.4826 * np.median(np.abs(smooth[::4, ::4] - centre)) + 0.004
        far = split(np.abs(smooth - centre), rows, cols)
        out += [(far > 4 * sigma).mean(1), (far > 8 * sigma).mean(1), far.max(1) / sigma]
    return np.stack(out, axis=1)


def _profiles(lum: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """Largest row / column mean against the tile mean: a broken or thick yarn is a line."""
    tiles = split(lum, rows, cols).reshape(-1, TILE, TILE)
    mean = tiles.mean(axis=(1, 2))[:, None]
    by_row, by_col = tiles.mean(axis=2) - mean, tiles.mean(axis=1) - mean
    return np.stack(
        [np.abs(by_row).max(1), np.abs(by_col).max(1), by_row.std(1), by_col.std(1)], axis=1
    )


def _lbp(lum: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """Uniform local binary patterns (8 neighbours, radius 1): each tile's histogram, and its
    chi-square distance from the median tile's histogram."""
    smooth = ndimage.uniform_filter(lum, size=3, mode="reflect")
    padded = np.pad(smooth, 1, mode="edge")
    h, w = smooth.shape
    code = np.zeros((h, w), dtype=np.intp)
    for bit, (dy, dx) in enumerate(_OFFSETS):
        code |= (padded[1 + dy : 1 + dy + h, 1 + dx : 1 + dx + w] >= smooth).astype(np.intp) << bit
    bins = split(_LBP[code], rows, cols)
    n = rows * cols
    index = bins + (np.arange(n)[:, None] * 10)
    hist = np.bincount(index.ravel(), minlength=n * 10).reshape(n, 10) / (TILE * TILE)
    typical = np.median(hist, axis=0)
    chi2 = ((hist - typical) ** 2 / (hist + typical + 1e-6)).sum(1)
    return np.concatenate([hist, chi2[:, None]], axis=1)


def _glcm(lum: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """Grey-level co-occurrence (8 levels from the photo's own quantiles), horizontal and
    vertical neighbours: contrast, homogeneity and energy per tile."""
    edges = np.quantile(lum[::4, ::4], np.linspace(0, 1, LEVELS + 1)[1:-1])
    q = np.searchsorted(edges, split(lum, rows, cols)).reshape(-1, TILE, TILE)
    n = q.shape[0]
    i, j = np.indices((LEVELS, LEVELS))
    out = []
    for first, second in ((q[:, :, :-1], q[:, :, 1:]), (q[:, :-1, :], q[:, 1:, :])):
        pair = (first * LEVELS + second).reshape(n, -1) + np.arange(n)[:, None] * LEVELS**2
        counts = np.bincount(pair.ravel(), minlength=n * LEVELS**2).reshape(n, LEVELS, LEVELS)
        p = counts / counts.sum(axis=(1, 2), keepdims=True)
        out += [
            (p * (i - j) ** 2).sum(axis=(1, 2)),
            (p / (1 + np.abs(i - j))).sum(axis=(1, 2)),
            (p**2).sum(axis=(1, 2)),
        ]
    return np.stack(out, axis=1)


def _edges(lum: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """Sobel gradient magnitude: mean, spread and share above the photo's 95th percentile."""
    magnitude = np.hypot(ndimage.sobel(lum, axis=0), ndimage.sobel(lum, axis=1))
    strong = np.quantile(magnitude[::4, ::4], 0.95)
    tiles = split(magnitude, rows, cols)
    return np.stack([tiles.mean(1), tiles.std(1), (tiles > strong).mean(1)], axis=1)
