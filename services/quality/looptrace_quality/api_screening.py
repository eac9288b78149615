"""HTTP routes of photo pre-screening: a photo's screening, its overlay, and people's labels.

Access is the photo's: whoever may see the order (its supplier, its buyer, staff) may read
its screenings; anyone else gets 404, as for an unknown photo. Inspectors, admins and the
order's buyer may label.
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from fastapi.responses import Response
from pydantic import BaseModel, Field

from looptrace_quality import repository as repo
from looptrace_quality.api_common import readable_lot
from looptrace_quality.models import PhotoScreeningRow
from looptrace_quality.services.screening import label_rows
from looptrace_shared.auth import CurrentUser, Principal, Roles
from looptrace_shared.db import UnitOfWork
from looptrace_shared.errors import NotFound
from looptrace_shared.http import UowDep
from looptrace_shared.params import IdPath

router = APIRouter(tags=["quality: photo screening"])
ADVISORY = (
    "Advisory pre-screening by a model trained on SYNTHETIC fabric photos (plus any labels): "
    "not an inspection result; the AQL inspection decides the lot."
)


class TileOut(BaseModel):
    index: int
    row: int
    col: int
    box: list[int] = Field(description="x, y, width, height in the original photo's pixels")
    kind: str = Field(description="most likely defect kind")
    confidence: float = Field(description="P(defect) of the tile, 0..1")


class ScreeningOut(BaseModel):
    photo_id: str
    order_id: str
    stage_number: int
    status: str = Field(description="screened | unscreenable")
    reason: str | None = Field(description="why unscreenable: corrupt, unsupported, too_small…")
    message: str | None
    score: float | None = Field(description="highest tile P(defect), 0..1")
    threshold: float | None = Field(description="tiles at or above it are flagged")
    rows: int | None
    cols: int | None
    flagged: list[TileOut]
    actions: list[str]
    model: str
    overlay_url: str | None
    screened_at: datetime
    note: str = ADVISORY


class LabelIn(BaseModel):
    kind: str = Field(description="none, stain, hole, broken_yarn, misprint or shade")
    tiles: list[int] | None = Field(
        default=None,
        max_length=400,
        description="tile indexes (row * cols + col); omit to label the whole photo",
    )


class LabelsOut(BaseModel):
    photo_id: str
    labelled: int = Field(description="label rows written (a whole-photo 'none' is one)")


async def readable_screening(
    uow: UnitOfWork, user: Principal, order_id: str, photo_id: str, to_change: bool = False
) -> PhotoScreeningRow:
    """The photo's screening (live or archived; live only ``to_change`` it)."""
    lot = await readable_lot(uow, user, order_id, to_change)
    row = await repo.screening_to_read(uow.session, photo_id)
    if row is None or row.order_id != lot.order_id:
        raise NotFound(f"order {order_id} has no screened photo {photo_id} (yet)")
    return row


def screening_out(row: PhotoScreeningRow) -> ScreeningOut:
    base = f"/v1/orders/{row.order_id}/photos/{row.photo_id}/screening"
    return ScreeningOut(
        photo_id=row.photo_id, order_id=row.order_id, stage_number=row.stage_number,
        status=row.status, reason=row.reason, message=row.message, score=row.score,
        threshold=row.threshold, rows=row.rows, cols=row.cols,
        flagged=[TileOut(**t) for t in row.flagged], actions=row.actions, model=row.model,
        overlay_url=f"{base}/overlay" if row.overlay else None, screened_at=row.screened_at,
    )  # fmt: skip


@router.get("/orders/{order_id}/photos/{photo_id}/screening")
async def get_screening(
    order_id: IdPath, photo_id: IdPath, uow: UowDep, user: CurrentUser
) -> ScreeningOut:
    """The photo's advisory pre-screening: score, flagged tiles, actions; or why it could not
    be screened."""
    return screening_out(await readable_screening(uow, user, order_id, photo_id))


@router.get("/orders/{order_id}/photos/{photo_id}/screening/overlay")
async def get_overlay(
    order_id: IdPath, photo_id: IdPath, uow: UowDep, user: CurrentUser
) -> Response:
    """The downscaled photo with the flagged tiles framed in red (PNG)."""
    row = await readable_screening(uow, user, order_id, photo_id)
    if row.overlay is None:
        raise NotFound(f"photo {photo_id} has no overlay: it was not screened ({row.reason})")
    return Response(row.overlay, media_type="image/png")


@router.post("/orders/{order_id}/photos/{photo_id}/screening/labels", status_code=201)
async def label(
    order_id: IdPath,
    photo_id: IdPath,
    body: LabelIn,
    uow: UowDep,
    user: Roles("inspector", "admin", "buyer"),
) -> LabelsOut:
    """Label the photo or some of its tiles (a defect kind, or none); a new label of the same
    tile replaces the old. `looptrace quality screening train` learns from these."""
    row = await readable_screening(uow, user, order_id, photo_id, to_change=True)
    rows = label_rows(row, body.kind, body.tiles, f"{user.role}:{user.subject}")
    for found in rows:
        await uow.session.merge(found)
    await uow.commit()
    return LabelsOut(photo_id=photo_id, labelled=len(rows))
