"""The overlay: the downscaled photo with each flagged tile framed in red (PNG)."""

from __future__ import annotations

import io

from PIL import Image, ImageDraw

from looptrace_quality.screening.image import TILE
from looptrace_quality.screening.report import Screening

FRAME = (255, 0, 0)  # pure red frames; a reader finds flagged tiles by this colour
WIDTH = 3  # pixels of the frame, drawn inside the tile


def overlay_png(result: Screening) -> bytes:
    picture = Image.fromarray(result.working).convert("RGB")
    draw = ImageDraw.Draw(picture)
    top, left, _ = result.origin
    for tile in result.flagged:
        x, y = left + tile.col * TILE, top + tile.row * TILE
        draw.rectangle((x, y, x + TILE - 1, y + TILE - 1), outline=FRAME, width=WIDTH)
    buffer = io.BytesIO()
    picture.save(buffer, "PNG", compress_level=1)  # level 6 costs 200 ms on a noisy fabric
    return buffer.getvalue()
