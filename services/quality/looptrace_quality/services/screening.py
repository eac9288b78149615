"""Use cases of photo pre-screening: screen a stored stage photo, and label a screening."""

from __future__ import annotations

import asyncio
from dataclasses import asdict
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from looptrace_quality.models import PhotoScreeningRow, ScreeningLabelRow
from looptrace_quality.screening.kinds import KINDS
from looptrace_quality.services.context import QualityContext
from looptrace_shared.errors import RuleViolation
from looptrace_shared.events.bounds import LIST_MAX
from looptrace_shared.events.production import PhotoStored
from looptrace_shared.events.quality import PhotoScreened, ScreenedTile

if TYPE_CHECKING:
    from looptrace_quality.screening.outcome import Outcome


class LabelRefused(RuleViolation):
    rule = "screening_label_refused"
    status = 422
    title = "Label refused"


async def screen_stored_photo(ctx: QualityContext, data: dict) -> None:  # type: ignore[type-arg]
    """Screen the photo a ``production.photo_stored`` event carries, once: store the outcome
    and publish ``quality.photo_screened`` (a redelivered event changes nothing).
    The model and its libraries (scikit-learn, numpy, SciPy, about 150 MB) are imported here,
    at the first photo, not when the service starts."""
    from looptrace_quality.screening import store
    from looptrace_quality.screening.outcome import screen_copy

    stored = PhotoStored.model_validate(data)
    await ctx.lot(stored.order_id)
    if await ctx.uow.session.get(PhotoScreeningRow, stored.photo_id) is not None:
        return
    path = ctx.settings.screening_model_path
    model = await asyncio.to_thread(store.current, path)
    outcome = await asyncio.to_thread(
        screen_copy, stored.screening_copy, stored.copy_problem, model, stored.width
    )
    row = _row(stored, outcome, store.describe(model))
    ctx.uow.session.add(row)
    ctx.emit(stored.order_id, screened_event(row))


def _row(stored: PhotoStored, outcome: Outcome, model: str) -> PhotoScreeningRow:
    import numpy as np

    result = outcome.result
    row = PhotoScreeningRow(
        photo_id=stored.photo_id, order_id=stored.order_id, stage_number=stored.stage_number,
        status=outcome.status, reason=outcome.reason, message=outcome.message, model=model,
        flagged=[], actions=[], screened_at=datetime.now(UTC), overlay=outcome.overlay,
    )  # fmt: skip
    if result is not None:
        row.score, row.threshold, row.rows, row.cols = (
            result.score, result.threshold, result.rows, result.cols,
        )  # fmt: skip
        row.flagged = [asdict(t) for t in result.flagged]
        row.actions = list(result.actions)
        row.features = np.ascontiguousarray(result.features, dtype=np.float32).tobytes()
        row.feature_count = int(result.features.shape[1])
    return row


def screened_event(row: PhotoScreeningRow) -> PhotoScreened:
    top = sorted(row.flagged, key=lambda t: -t["confidence"])[:LIST_MAX]
    return PhotoScreened(
        order_id=row.order_id, photo_id=row.photo_id, stage_number=row.stage_number,
        status=row.status, reason=row.reason, message=(row.message or None) and row.message[:500],
        score=row.score, threshold=row.threshold,
        flagged=[ScreenedTile(**{**t, "box": list(t["box"])}) for t in top],
        flagged_count=len(row.flagged), actions=row.actions, model=row.model,
        screened_at=row.screened_at,
    )  # fmt: skip


def label_rows(
    row: PhotoScreeningRow, kind: str, tiles: list[int] | None, by: str
) -> list[ScreeningLabelRow]:
    """The labels a person gives: ``kind`` (a defect kind or ``none``) for ``tiles``, or for
    the whole photo when no tiles are named (``none``: every tile; a defect kind: the tiles the
    screening flagged). LabelRefused says what to fix."""
    if kind not in KINDS:
        raise LabelRefused(f"kind {kind!r} is unknown; use one of {', '.join(KINDS)}")
    if row.status != "screened" or not row.rows or not row.cols:
        raise LabelRefused(
            f"photo {row.photo_id} was not screened ({row.reason}); nothing to label"
        )
    count = row.rows * row.cols
    if tiles is None:
        if kind == "none":
            return [ScreeningLabelRow(photo_id=row.photo_id, tile=-1, kind=kind, labelled_by=by)]
        tiles = [t["index"] for t in row.flagged]
        if not tiles:
            raise LabelRefused("no tile was flagged; name the tiles that show the defect")
    wrong = [t for t in tiles if not 0 <= t < count]
    if wrong:
        raise LabelRefused(f"tiles {wrong} don't exist; the photo has tiles 0 to {count - 1}")
    return [
        ScreeningLabelRow(photo_id=row.photo_id, tile=t, kind=kind, labelled_by=by)
        for t in sorted(set(tiles))
    ]
