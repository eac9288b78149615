"""HTTP schemas and routes of the production service.

``POST /v1/progress`` takes one report or a list. A list is all-or-nothing: it runs in one
transaction, and the first report that breaks a rule refuses the whole list with a 422
problem naming the item (``item 3: ...``) and the rule; nothing is written.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, File, Path, Request, UploadFile
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field

from looptrace_production import repository as repo
from looptrace_production import services as uc
from looptrace_production.domain import SupplierOrder
from looptrace_production.events import PhotoStored
from looptrace_production.models import PhotoRow, StageNoteRow
from looptrace_production.photos import (
    PhotoTooLarge,
    inside,
    photo_folder,
    remove_photo_files,
    store_photo,
)
from looptrace_production.services import Fact, Planning, ProductionContext
from looptrace_production.timeline import TimelineOut, build_timeline
from looptrace_shared.auth import CurrentUser, Principal, Roles
from looptrace_shared.errors import Conflict, NotFound, RuleViolation
from looptrace_shared.events.bounds import PROGRESS_LIST_MAX, Note
from looptrace_shared.events.production import ProgressReported
from looptrace_shared.http import UowDep
from looptrace_shared.params import IdPath

StagePath = Annotated[
    str,
    Path(
        min_length=1,
        max_length=100,
        pattern=r"^[^\x00-\x1f\x7f/]+$",
        description="stage number (1, 2, …) or stage name",
    ),
]
ProgressList = Annotated[list[ProgressReported], Field(min_length=1, max_length=PROGRESS_LIST_MAX)]

router = APIRouter(prefix="/v1", tags=["production"])


class ProgressOut(BaseModel):
    message_id: str
    order_id: str
    stage_number: int
    stage_name: str
    status: str
    percentage: float
    duplicate: bool = Field(description="the same message_id was already recorded: nothing changed")
    events: list[str]


class NoteIn(BaseModel):
    text: Note = Field(min_length=1)


class NoteOut(BaseModel):
    id: int
    stage_number: int
    text: str
    author: str


class PhotoOut(BaseModel):
    id: str
    stage_number: int
    content_type: str
    size_bytes: int
    width: int
    height: int
    url: str
    thumbnail_url: str


def planning(request: Request) -> Planning:
    return request.app.state.runtime.state  # type: ignore[no-any-return]


def can_see(user: Principal, order: SupplierOrder) -> bool:
    return user.is_admin or (user.role, user.subject) in (
        ("supplier", order.supplier_id),
        ("buyer", order.buyer_id),
    )


class OrderArchived(Conflict):
    rule = "order_archived"


async def visible_order(
    ctx: ProductionContext, user: Principal, ref: str, to_change: bool = False
) -> SupplierOrder:
    """The order (live or archived) if the caller may see it, else 404; 409 if it is archived
    and the caller means ``to_change`` its records."""
    order = await repo.find_order(ctx.uow.session, ref)
    if order is None or not can_see(user, order):
        raise NotFound(f"no order {ref!r} in production visible to you")
    if to_change and await repo.is_archived(ctx.uow.session, order.order_id):
        raise OrderArchived(
            f"order {order.order_number} is completed and archived (retention): its production "
            "records can be read but no longer changed"
        )
    return order


def _item_refusal(n: int, err: RuleViolation) -> RuleViolation:
    refusal = RuleViolation(f"item {n}: {err}")
    refusal.rule, refusal.status, refusal.title = err.rule, err.status, err.title
    return refusal


async def _report_one(ctx: ProductionContext, user: Principal, fact: Fact) -> uc.ProgressResult:
    r: ProgressReported = fact.data
    ref = r.order_id or r.order_number
    if not ref:
        raise RuleViolation("give the order as order_id or order_number")
    order = await ctx.find(ref)
    if order is None or not (user.is_admin or order.supplier_id == user.subject):
        raise NotFound(f"no order {ref!r} in production visible to you")
    return await uc.report_progress(ctx, r, fact.message_id or "")


@router.post("/progress")
async def report_progress(
    body: ProgressReported | ProgressList,
    uow: UowDep,
    user: Roles("supplier"),
    request: Request,
) -> list[ProgressOut]:
    """Report progress on stages (one report or a list of at most 1000, all-or-nothing)."""
    reports = body if isinstance(body, list) else [body]
    facts = [Fact(r, message_id=r.message_id or str(uuid.uuid4())) for r in reports]
    ctx = ProductionContext(uow, planning(request))
    await uc.preload(ctx, facts)
    results = []
    for n, fact in enumerate(facts, start=1):
        try:
            results.append(await _report_one(ctx, user, fact))
        except RuleViolation as err:
            raise (_item_refusal(n, err) if len(reports) > 1 else err) from err
    await ctx.save()
    await uow.commit()
    return [ProgressOut(**asdict(r)) for r in results]


def photo_base(request: Request, order_id: str) -> str:
    return str(request.url_for("get_photo", order_id=order_id, photo_id="x")).removesuffix("/x")


@router.get("/orders/{order_id}/timeline")
async def timeline(
    order_id: IdPath, uow: UowDep, user: CurrentUser, request: Request
) -> TimelineOut:
    """Every stage: status, %, baseline/forecast/actual dates, delay, notes, photos."""
    order = await visible_order(ProductionContext(uow, planning(request)), user, order_id)
    s = uow.session
    progress, notes = (
        await repo.progress_of(s, order.order_id),
        await repo.notes_of(s, order.order_id),
    )
    photos = await repo.photos_of(s, order.order_id)
    return build_timeline(order, progress, notes, photos, photo_base(request, order.order_id))


def _stage_ref(stage: str) -> int | str:
    """A stage number in ASCII digits (1-100), else the stage's name."""
    if stage.isascii() and stage.isdigit():
        number = int(stage)
        if not 1 <= number <= 100:
            raise NotFound(f"no stage {stage}; stages are numbered from 1")
        return number
    return stage


@router.post("/orders/{order_id}/stages/{stage}/notes", status_code=201)
async def add_note(
    order_id: IdPath,
    stage: StagePath,
    note: NoteIn,
    uow: UowDep,
    user: CurrentUser,
    request: Request,
) -> NoteOut:
    ctx = ProductionContext(uow, planning(request))
    order = await visible_order(ctx, user, order_id, to_change=True)
    number = order.plan.stage(_stage_ref(stage)).number
    row = StageNoteRow(
        order_id=order.order_id,
        stage_number=number,
        author=user.subject,
        author_role=user.role,
        text=note.text,
    )
    uow.session.add(row)
    await uow.session.flush()
    await uow.commit()
    return NoteOut(id=row.id, stage_number=number, text=row.text, author=row.author)


async def _read_limited(file: UploadFile, limit: int) -> bytes:
    data = await file.read(limit + 1)
    if len(data) > limit:
        raise PhotoTooLarge(limit)
    return data


@router.post("/orders/{order_id}/stages/{stage}/photos", status_code=201)
async def add_photo(
    order_id: IdPath,
    stage: StagePath,
    uow: UowDep,
    user: Roles("supplier"),
    request: Request,
    file: Annotated[UploadFile, File(description="JPEG, PNG or WebP")],
) -> PhotoOut:
    """Upload a stage photo; the content is checked (not the file name) and a thumbnail made.
    A failed upload leaves no file behind."""
    p = planning(request)
    ctx = ProductionContext(uow, p)
    order = await visible_order(ctx, user, order_id, to_change=True)
    number = order.plan.stage(_stage_ref(stage)).number
    data = await _read_limited(file, p.settings.photo_max_bytes)
    photo_id = str(uuid.uuid4())
    folder = photo_folder(p.settings.photo_dir, order.order_id)
    settings = p.settings
    stored = await asyncio.to_thread(
        store_photo, data, folder, photo_id, settings.photo_thumbnail_px, settings.photo_max_pixels
    )
    try:
        return await _record_photo(ctx, user, request, order, number, file, stored, photo_id)
    except BaseException:
        remove_photo_files(stored.path, stored.thumbnail_path)
        raise


async def _record_photo(  # type: ignore[no-untyped-def]
    ctx, user, request, order, number, file, stored, photo_id
) -> PhotoOut:
    """The photo's row and its ``production.photo_stored`` event (for quality's pre-screening),
    in one transaction."""
    uow = ctx.uow
    row = PhotoRow(
        id=photo_id,
        order_id=order.order_id,
        stage_number=number,
        content_type=stored.content_type,
        size_bytes=stored.size_bytes,
        width=stored.width,
        height=stored.height,
        path=str(stored.path),
        thumbnail_path=str(stored.thumbnail_path),
        original_name=(file.filename or "")[:255] or None,
        uploaded_by=user.subject,
    )
    uow.session.add(row)
    ctx.publish(order, [_stored_event(order, number, user, stored, photo_id)])
    await uow.commit()
    url = f"{photo_base(request, order.order_id)}/{photo_id}"
    return PhotoOut(
        id=photo_id,
        stage_number=number,
        content_type=stored.content_type,
        size_bytes=stored.size_bytes,
        width=stored.width,
        height=stored.height,
        url=url,
        thumbnail_url=f"{url}/thumbnail",
    )


def _stored_event(  # type: ignore[no-untyped-def]
    order: SupplierOrder, number: int, user: Principal, stored, photo_id: str
) -> PhotoStored:
    return PhotoStored(
        photo_id=photo_id,
        stage_number=number,
        stage_name=order.plan.stage(number).name,
        content_type=stored.content_type,
        width=stored.width,
        height=stored.height,
        uploaded_by=user.subject,
        stored_at=datetime.now(UTC),
        screening_copy=stored.screening_copy,
        copy_problem=stored.copy_problem,
    )


async def _photo(
    uow: UowDep, user: Principal, request: Request, order_id: str, photo_id: str
) -> PhotoRow:
    order = await visible_order(ProductionContext(uow, planning(request)), user, order_id)
    row = await repo.photo(uow.session, photo_id)
    if row is None or row.order_id != order.order_id:
        raise NotFound(f"order {order_id} has no photo {photo_id}")
    return row


@router.get("/orders/{order_id}/photos/{photo_id}", name="get_photo")
async def get_photo(
    order_id: IdPath, photo_id: IdPath, uow: UowDep, user: CurrentUser, request: Request
) -> Any:
    row = await _photo(uow, user, request, order_id, photo_id)
    return FileResponse(_stored(request, row.path), media_type=row.content_type)


@router.get("/orders/{order_id}/photos/{photo_id}/thumbnail")
async def get_thumbnail(
    order_id: IdPath, photo_id: IdPath, uow: UowDep, user: CurrentUser, request: Request
) -> Any:
    row = await _photo(uow, user, request, order_id, photo_id)
    return FileResponse(_stored(request, row.thumbnail_path), media_type="image/jpeg")


def _stored(request: Request, path: str) -> Any:
    """A stored photo's file, checked to lie inside the photo dir and to exist."""
    found = inside(planning(request).settings.photo_dir, path)
    if not found.is_file():
        raise NotFound("the photo's file is gone; upload it again")
    return found
