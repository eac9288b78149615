"""Decode a photo and downscale it first: everything after works on a small, fixed-size copy."""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

WORKING_SIDE = 768  # the longest side the screening looks at (a 12 MP photo becomes 768 x 576)
TILE = 64  # pixels of a tile side at working size
MIN_SIDE = 128  # a photo whose shorter side is below this shows too little fabric to judge
MAX_PIXELS = 40_000_000  # the production service refuses larger uploads too
FORMATS = frozenset({"JPEG", "PNG", "WEBP"})


class Unscreenable(ValueError):
    """The photo can't be screened; ``reason`` is one of corrupt | unsupported | too_small |
    too_large, and the message says what to do."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class Working:
    """The downscaled RGB copy (uint8, H x W x 3) and the original's size."""

    pixels: np.ndarray
    original_width: int
    original_height: int


def load(data: bytes) -> Working:
    """Decode ``data`` (JPEG, PNG or WebP) straight to working size; Unscreenable otherwise.
    JPEGs are decoded at a reduced scale (``draft``), so a 12 MP photo costs tens of ms."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                return _downscaled(image)
    except Unscreenable:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise Unscreenable("unsupported", "not an image the screening can read") from None
    except (OSError, SyntaxError, ValueError, EOFError) as err:
        raise Unscreenable("corrupt", f"the image is damaged ({err}); upload it again") from None


def _downscaled(image: Image.Image) -> Working:
    found, (width, height) = image.format or "unknown", image.size
    if found not in FORMATS:
        raise Unscreenable("unsupported", f"a {found} image; send a JPEG, PNG or WebP photo")
    if width * height > MAX_PIXELS:
        raise Unscreenable("too_large", f"{width} x {height} pixels is more than {MAX_PIXELS}")
    if min(width, height) < MIN_SIDE:
        raise Unscreenable(
            "too_small",
            f"{width} x {height} pixels; send a photo at least {MIN_SIDE} pixels on each side",
        )
    scale = WORKING_SIDE / max(width, height)
    if found == "JPEG" and scale < 1:
        image.draft("RGB", (max(1, round(width * scale)), max(1, round(height * scale))))
    image = ImageOps.exif_transpose(image).convert("RGB")
    target = fit(image.width, image.height)
    if min(target) < 2 * TILE:
        raise Unscreenable(
            "too_small",
            f"{width} x {height} pixels is too narrow to judge; send a photo whose shorter side "
            f"is at least a sixth of its longer side and {MIN_SIDE} pixels or more",
        )
    if target != image.size:
        image = image.resize(target, Image.Resampling.BILINEAR, reducing_gap=2.0)
    return Working(np.asarray(image, dtype=np.uint8), width, height)


def fit(width: int, height: int) -> tuple[int, int]:
    """Working size of a ``width`` x ``height`` photo: longest side WORKING_SIDE (or smaller
    photos kept as they are)."""
    scale = min(1.0, WORKING_SIDE / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


def grid(height: int, width: int) -> tuple[int, int, int, int]:
    """(rows, cols, top, left) of the tile grid centred on a ``height`` x ``width`` image."""
    rows, cols = height // TILE, width // TILE
    return rows, cols, (height - rows * TILE) // 2, (width - cols * TILE) // 2
