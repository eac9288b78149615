"""One stage photo's screening outcome: screened (score, tiles, overlay) or unscreenable (why)."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

from looptrace_quality.screening.image import Unscreenable
from looptrace_quality.screening.model import ScreeningModel
from looptrace_quality.screening.overlay import overlay_png
from looptrace_quality.screening.report import Screening, screen


@dataclass(frozen=True)
class Outcome:
    status: str  # screened | unscreenable
    reason: str | None = None
    message: str | None = None
    result: Screening | None = None
    overlay: bytes | None = None


def screen_copy(
    copy_b64: str | None, problem: str | None, model: ScreeningModel, original_width: int
) -> Outcome:
    """Screen the base64 photo copy an event carries; every failure is an ``unscreenable``
    outcome with its reason, never an exception and never silence."""
    if copy_b64 is None:
        return Outcome("unscreenable", "no_copy", problem or "production sent no photo copy")
    try:
        data = base64.b64decode(copy_b64, validate=True)
    except (binascii.Error, ValueError):
        return Outcome("unscreenable", "corrupt", "the photo copy is not valid base64")
    try:
        result = screen(data, model, original_width)
    except Unscreenable as err:
        return Outcome("unscreenable", err.reason, str(err))
    return Outcome("screened", result=result, overlay=overlay_png(result))
