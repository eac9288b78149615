"""Procedurally generated fabric photos with synthetic defects: the baseline's training data.

SYNTHETIC, and said so wherever it is used: woven (plain, twill), knit and heather textures,
optionally printed, under uneven light and sensor noise, with stains, holes, broken yarns,
misprints and shade differences drawn on top. Each photo comes with a per-pixel defect map, so
every tile has a true label. Deterministic for a given seed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image
from scipy import ndimage

from looptrace_quality.screening.kinds import DEFECT_KINDS as DEFECT_KINDS
from looptrace_quality.screening.kinds import KINDS as KINDS

SIZES = ((576, 768), (768, 576), (768, 768), (512, 768))  # (height, width) at working size


@dataclass
class Fabric:
    rgb: np.ndarray  # float32 H x W x 3 in 0..1
    u: np.ndarray  # coordinates along the weave (warp / weft), for yarn-aligned defects
    v: np.ndarray
    print_period: float  # 0 when the fabric is not printed
    print_colour: np.ndarray


def _noise_field(rng: np.random.Generator, h: int, w: int, blur: float) -> np.ndarray:
    """Smooth unit-variance noise with features of about ``blur`` pixels (coarse noise is drawn
    small and enlarged: a wide Gaussian filter would cost a second per photo)."""
    if blur <= 3:
        field = ndimage.gaussian_filter(rng.normal(size=(h, w)).astype(np.float32), blur)
    else:
        small = rng.normal(size=(int(h / blur) + 2, int(w / blur) + 2)).astype(np.float32)
        field = np.asarray(
            Image.fromarray(small, mode="F").resize((w, h), Image.Resampling.BICUBIC)
        )
    return field / (field.std() + 1e-6)


def _texture(rng: np.random.Generator, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    period = rng.uniform(3, 10)
    weave = rng.integers(4)
    tau = 2 * np.pi / period
    if weave == 0:  # plain weave
        return np.sin(tau * u) * np.sin(tau * v)
    if weave == 1:  # twill: diagonal ribs
        return np.sin(tau * (u + v * rng.choice([1, -1])))
    if weave == 2:  # knit: rows of V-shaped loops
        return np.sin(tau * u + 2 * np.abs(np.sin(tau * v / 2)))
    h, w = u.shape  # heather: fine mottled yarns
    return _noise_field(rng, h, w, rng.uniform(0.7, 2.0))


def fabric(rng: np.random.Generator, h: int, w: int) -> Fabric:
    """A defect-free fabric photo of ``h`` x ``w`` pixels."""
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    angle = rng.uniform(-0.2, 0.2)
    u, v = x * np.cos(angle) + y * np.sin(angle), -x * np.sin(angle) + y * np.cos(angle)
    base = rng.uniform(0.12, 0.9, 3).astype(np.float32)
    shade = 1 + rng.uniform(0.03, 0.15) * _texture(rng, u, v)
    shade += 0.025 * _noise_field(rng, h, w, rng.uniform(8, 30))  # yarn irregularity
    rgb = base * shade[..., None]
    period, colour = 0.0, rng.uniform(0.05, 0.95, 3).astype(np.float32)
    if rng.random() < 0.35:
        period = float(rng.uniform(24, 90))
        rgb = np.where(_motif(rng, u, v, period)[..., None], colour * shade[..., None], rgb)
    light = 1 + rng.uniform(-0.15, 0.15) * (x / w - 0.5) + rng.uniform(-0.15, 0.15) * (y / h - 0.5)
    light -= rng.uniform(0, 0.2) * ((x / w - 0.5) ** 2 + (y / h - 0.5) ** 2)
    rgb = rgb * light[..., None] + rng.normal(0, rng.uniform(0.004, 0.02), (h, w, 3))
    return Fabric(rgb.astype(np.float32), u, v, period, colour)


def _motif(rng: np.random.Generator, u: np.ndarray, v: np.ndarray, period: float) -> np.ndarray:
    tau, style = 2 * np.pi / period, rng.integers(3)
    if style == 0:  # dots
        return np.sin(tau * u) * np.sin(tau * v) > 0.6
    if style == 1:  # stripes
        return np.sin(tau * u) > 0.3
    return (np.sin(tau * u) > 0) ^ (np.sin(tau * v) > 0)  # checks


def _blob(rng: np.random.Generator, h: int, w: int, radius: tuple[float, float]) -> np.ndarray:
    """A soft irregular blob (0..1) of about ``radius`` pixels somewhere in the photo."""
    cy, cx = rng.uniform(0.05, 0.95) * h, rng.uniform(0.05, 0.95) * w
    ry, rx = rng.uniform(*radius), rng.uniform(*radius)
    y, x = np.ogrid[0:h, 0:w]
    dist = ((y - cy) / ry) ** 2 + ((x - cx) / rx) ** 2
    ragged = 0.35 * _noise_field(rng, h, w, max(2.0, min(ry, rx) / 3))
    return np.clip(1.6 - dist - ragged, 0, 1)


def stain(rng: np.random.Generator, f: Fabric) -> np.ndarray:
    alpha = _blob(rng, *f.u.shape, (10, 45)) * rng.uniform(0.35, 0.85)
    tint = rng.uniform(0.35, 0.95, 3).astype(np.float32)
    f.rgb[:] = f.rgb * (1 - alpha[..., None]) + f.rgb * tint * alpha[..., None]
    return alpha > 0.12


def hole(rng: np.random.Generator, f: Fabric) -> np.ndarray:
    inside = _blob(rng, *f.u.shape, (4, 16)) > 0.5
    rim = ndimage.binary_dilation(inside, iterations=2) & ~inside
    behind = rng.uniform(0.0, 0.2) if rng.random() < 0.75 else rng.uniform(0.8, 1.0)
    f.rgb[inside] = behind + rng.normal(0, 0.01, (int(inside.sum()), 3))
    f.rgb[rim] *= rng.uniform(0.55, 0.85)
    return ndimage.binary_dilation(inside | rim, iterations=1)


def broken_yarn(rng: np.random.Generator, f: Fabric) -> np.ndarray:
    h, w = f.u.shape
    along, across = (f.u, f.v) if rng.random() < 0.5 else (f.v, f.u)
    at, start = rng.uniform(0.05, 0.95) * across.max(), rng.uniform(0, 0.7) * along.max()
    length, width = rng.uniform(60, 400), rng.uniform(0.8, 2.5)
    line = (np.abs(across - at) < width) & (along > start) & (along < start + length)
    factor = rng.uniform(0.45, 0.75) if rng.random() < 0.6 else rng.uniform(1.25, 1.6)
    f.rgb[line] = np.clip(f.rgb[line] * factor, 0, 1)
    return ndimage.binary_dilation(line, iterations=1)


def misprint(rng: np.random.Generator, f: Fabric) -> np.ndarray:
    """Print out of register (printed fabric) or a stray print mark (plain fabric)."""
    region = _blob(rng, *f.u.shape, (20, 60)) > 0.5
    period = f.print_period or float(rng.uniform(12, 40))
    shift = rng.uniform(0.25, 0.5) * period
    mark = _motif(rng, f.u + shift, f.v + shift / 2, period) & region
    colour = np.clip(f.print_colour + rng.uniform(-0.4, 0.4, 3), 0, 1).astype(np.float32)
    f.rgb[mark] = colour * (f.rgb[mark].mean(1, keepdims=True) / (f.rgb.mean() + 1e-6)) ** 0.3
    return region & ndimage.binary_dilation(mark, iterations=3)


def shade(rng: np.random.Generator, f: Fabric) -> np.ndarray:
    """A piece cut from another dye lot: a band from one edge, lighter or darker, hue moved."""
    h, w = f.u.shape
    part = rng.uniform(0.2, 0.45)
    region = np.zeros((h, w), dtype=bool)
    cut_h, cut_w = int(h * part), int(w * part)
    edges = (np.s_[:cut_h, :], np.s_[h - cut_h :, :], np.s_[:, :cut_w], np.s_[:, w - cut_w :])
    region[edges[rng.integers(4)]] = True
    factor = (1 + rng.choice([-1, 1]) * rng.uniform(0.08, 0.2)) * rng.uniform(0.94, 1.06, 3)
    f.rgb[region] *= factor.astype(np.float32)
    return region


DRAW = {
    "stain": stain,
    "hole": hole,
    "broken_yarn": broken_yarn,
    "misprint": misprint,
    "shade": shade,
}


def photo(rng: np.random.Generator, defect_rate: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """(uint8 RGB photo, per-pixel kind index into KINDS) of a random fabric."""
    h, w = SIZES[rng.integers(len(SIZES))]
    f = fabric(rng, h, w)
    kinds = np.zeros((h, w), dtype=np.int8)
    if rng.random() < defect_rate:
        for name in rng.choice(DEFECT_KINDS, size=rng.integers(1, 3), replace=False):
            kinds[DRAW[str(name)](rng, f)] = KINDS.index(str(name))
    return (np.clip(f.rgb, 0, 1) * 255 + 0.5).astype(np.uint8), kinds
