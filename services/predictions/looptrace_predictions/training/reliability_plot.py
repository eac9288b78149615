"""The reliability diagram ``evaluate --plot out.png`` writes (Pillow, no plotting stack).

x: mean P(late) of a bin, y: the late rate observed in it, both 0–1; the diagonal is
perfect calibration. Each bin is a dot whose area grows with its rows; the model's dots
are blue, the rule's orange; the title gives each one's ECE.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

SIZE, MARGIN = 480, 50
MODEL_COLOUR, RULE_COLOUR = (31, 119, 180), (255, 127, 14)


def _xy(p: float, rate: float) -> tuple[float, float]:
    span = SIZE - 2 * MARGIN
    return MARGIN + p * span, SIZE - MARGIN - rate * span


def _axes(draw: ImageDraw.ImageDraw) -> None:
    draw.rectangle([_xy(0, 1), _xy(1, 0)], outline=(0, 0, 0))
    draw.line([_xy(0, 0), _xy(1, 1)], fill=(160, 160, 160), width=1)
    for k in range(0, 11, 2):
        x, y = _xy(k / 10, 0)
        draw.text((x - 8, y + 6), f"{k / 10:.1f}", fill=(0, 0, 0))
        x, y = _xy(0, k / 10)
        draw.text((x - 30, y - 6), f"{k / 10:.1f}", fill=(0, 0, 0))
    draw.text((SIZE / 2 - 50, SIZE - 22), "mean P(late) in bin", fill=(0, 0, 0))
    draw.text((4, MARGIN - 14), "observed late rate", fill=(0, 0, 0))


def _dots(draw: ImageDraw.ImageDraw, bins: list[dict], colour: tuple[int, int, int]) -> None:
    total = sum(b["n"] for b in bins) or 1
    points = [_xy(b["mean_p"], b["late_rate"]) for b in bins]
    if len(points) > 1:
        draw.line(points, fill=colour, width=2)
    for (x, y), b in zip(points, bins, strict=True):
        r = 3 + 12 * (b["n"] / total) ** 0.5
        draw.ellipse([x - r, y - r, x + r, y + r], outline=colour, width=2)


def write_reliability_diagram(
    path: str | Path, model_bins: list[dict], rule_bins: list[dict], title: str
) -> None:
    image = Image.new("RGB", (SIZE, SIZE), (255, 255, 255))
    draw = ImageDraw.Draw(image)
    _axes(draw)
    _dots(draw, rule_bins, RULE_COLOUR)
    _dots(draw, model_bins, MODEL_COLOUR)
    draw.text((MARGIN, 4), title, fill=(0, 0, 0))
    draw.text((MARGIN, 18), "blue: model   orange: rule", fill=(0, 0, 0))
    image.save(path, format="PNG")
