"""Use case: quality's pre-screening of a stage photo, kept on the photo for the timeline."""

from __future__ import annotations

from looptrace_production.models import PhotoRow
from looptrace_production.services import ProductionContext
from looptrace_shared.events.quality import PhotoScreened


async def record_photo_screening(ctx: ProductionContext, event: PhotoScreened) -> None:
    """The screening's status, score and flagged-tile count on the photo's row; a screening of
    a photo production does not hold (another order's id) changes nothing."""
    row = await ctx.uow.session.get(PhotoRow, event.photo_id)
    if row is None or row.order_id != event.order_id:
        return
    row.screening_status, row.screening_reason = event.status, event.reason
    row.screening_score, row.screening_flagged = event.score, event.flagged_count
