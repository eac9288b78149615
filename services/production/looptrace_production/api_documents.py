"""HTTP routes of order documents: upload (a new document or a new version), list, read.

Who may upload and read which type: the table in ``documents.py`` (and the README). A failed
upload leaves no file behind; the database row and the file are written together or not at all.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Path, Request, UploadFile
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field
from sqlalchemy import select

from looptrace_production.api import planning, visible_order
from looptrace_production.documents import (
    DocumentTooLarge,
    DocumentType,
    can_read,
    check_upload,
    readable_types,
    store_document,
)
from looptrace_production.domain import SupplierOrder
from looptrace_production.models import DocumentRow
from looptrace_production.photos import inside, photo_folder, remove_photo_files
from looptrace_production.retention import readable
from looptrace_production.services import ProductionContext
from looptrace_shared.auth import CurrentUser, Principal, Roles
from looptrace_shared.errors import NotFound
from looptrace_shared.events.bounds import Name
from looptrace_shared.http import UowDep
from looptrace_shared.params import IdPath

router = APIRouter(prefix="/v1", tags=["documents"])
Upload = Annotated[UploadFile, File(description="PDF, PNG, JPEG, XLSX, DOCX or CSV")]


class VersionOut(BaseModel):
    version: int
    content_type: str
    size_bytes: int
    sha256: str
    original_name: str | None
    uploaded_by: str
    uploaded_role: str
    uploaded_at: datetime
    url: str


class DocumentOut(BaseModel):
    document_id: str
    doc_type: str
    title: str
    version: int = Field(description="the latest version")
    versions: list[VersionOut] = Field(description="every version, oldest first")


async def _order(
    uow: UowDep, user: Principal, request: Request, order_id: str, to_change: bool = False
) -> SupplierOrder:
    ctx = ProductionContext(uow, planning(request))
    return await visible_order(ctx, user, order_id, to_change)


def _out(request: Request, rows: list[DocumentRow]) -> DocumentOut:
    latest = rows[-1]
    base = str(
        request.url_for("get_document", order_id=latest.order_id, document_id=latest.document_id)
    )
    versions = [
        VersionOut(
            version=r.version, content_type=r.content_type, size_bytes=r.size_bytes,
            sha256=r.sha256, original_name=r.original_name, uploaded_by=r.uploaded_by,
            uploaded_role=r.uploaded_role, uploaded_at=r.uploaded_at,
            url=f"{base}/versions/{r.version}/content",
        )
        for r in rows
    ]  # fmt: skip
    return DocumentOut(
        document_id=latest.document_id, doc_type=latest.doc_type, title=latest.title,
        version=latest.version, versions=versions,
    )  # fmt: skip


async def _versions(
    uow: UowDep, order_id: str, document_id: str, lock: bool = False
) -> list[DocumentRow]:
    """The document's versions; live and archived when reading, live and locked to ``lock``."""
    d = DocumentRow if lock else readable(DocumentRow)
    q = select(d).where(d.order_id == order_id, d.document_id == document_id).order_by(d.version)
    return list((await uow.session.scalars(q.with_for_update() if lock else q)).all())


async def _readable(
    uow: UowDep, user: Principal, order: SupplierOrder, document_id: str, lock: bool = False
) -> list[DocumentRow]:
    rows = await _versions(uow, order.order_id, document_id, lock)
    if not rows or not can_read(user.role, DocumentType(rows[0].doc_type)):
        raise NotFound(f"order {order.order_id} has no document {document_id} visible to you")
    return rows


async def _store(
    uow: UowDep, user: Principal, request: Request, order: SupplierOrder, file: UploadFile,
    document: tuple[str, DocumentType, str, int],
) -> DocumentRow:  # fmt: skip
    """Check and write the file, then its row; the file goes again if the row fails."""
    settings = planning(request).settings
    data = await file.read(settings.document_max_bytes + 1)
    if len(data) > settings.document_max_bytes:
        raise DocumentTooLarge(settings.document_max_bytes)
    document_id, doc_type, title, version = document
    version_id = str(uuid.uuid4())
    folder = photo_folder(settings.document_dir, order.order_id)
    stored = await asyncio.to_thread(store_document, data, folder, version_id)
    row = DocumentRow(
        id=version_id, document_id=document_id, order_id=order.order_id, doc_type=doc_type.value,
        title=title, version=version, content_type=stored.content_type,
        size_bytes=stored.size_bytes, sha256=stored.sha256, path=str(stored.path),
        original_name=(file.filename or "")[:255] or None, uploaded_by=user.subject,
        uploaded_role=user.role,
    )  # fmt: skip
    try:
        uow.session.add(row)
        await uow.commit()
    except BaseException:
        remove_photo_files(stored.path)
        raise
    return row


@router.post("/orders/{order_id}/documents", status_code=201)
async def upload_document(
    order_id: IdPath,
    uow: UowDep,
    user: Roles("buyer", "supplier"),
    request: Request,
    file: Upload,
    doc_type: Annotated[DocumentType, Form(description="what the document is")],
    title: Annotated[Name, Form(description="a name people recognise it by")],
) -> DocumentOut:
    """A new document (version 1) of a type the caller's role may upload."""
    order = await _order(uow, user, request, order_id, to_change=True)
    check_upload(user.role, doc_type)
    document = (str(uuid.uuid4()), doc_type, title, 1)
    return _out(request, [await _store(uow, user, request, order, file, document)])


@router.post("/orders/{order_id}/documents/{document_id}/versions", status_code=201)
async def upload_version(
    order_id: IdPath,
    document_id: IdPath,
    uow: UowDep,
    user: Roles("buyer", "supplier"),
    request: Request,
    file: Upload,
) -> DocumentOut:
    """A new version of a document; every older version stays readable."""
    order = await _order(uow, user, request, order_id, to_change=True)
    rows = await _readable(uow, user, order, document_id, lock=True)
    latest = rows[-1]
    doc_type = DocumentType(latest.doc_type)
    check_upload(user.role, doc_type)
    document = (document_id, doc_type, latest.title, latest.version + 1)
    return _out(request, [*rows, await _store(uow, user, request, order, file, document)])


@router.get("/orders/{order_id}/documents")
async def list_documents(
    order_id: IdPath, uow: UowDep, user: CurrentUser, request: Request
) -> list[DocumentOut]:
    """The order's documents the caller may read, each with all its versions."""
    order = await _order(uow, user, request, order_id)
    d = readable(DocumentRow)
    q = (
        select(d)
        .where(d.order_id == order.order_id, d.doc_type.in_(readable_types(user.role)))
        .order_by(d.uploaded_at, d.document_id, d.version)
    )
    grouped: dict[str, list[DocumentRow]] = {}
    for row in (await uow.session.scalars(q)).all():
        grouped.setdefault(row.document_id, []).append(row)
    return [_out(request, sorted(rows, key=lambda r: r.version)) for rows in grouped.values()]


@router.get("/orders/{order_id}/documents/{document_id}", name="get_document")
async def get_document(
    order_id: IdPath, document_id: IdPath, uow: UowDep, user: CurrentUser, request: Request
) -> DocumentOut:
    order = await _order(uow, user, request, order_id)
    return _out(request, await _readable(uow, user, order, document_id))


@router.get("/orders/{order_id}/documents/{document_id}/versions/{version}/content")
async def get_document_content(
    order_id: IdPath,
    document_id: IdPath,
    version: Annotated[int, Path(ge=1, le=1_000_000)],
    uow: UowDep,
    user: CurrentUser,
    request: Request,
) -> Any:
    """The file of one version, as uploaded."""
    order = await _order(uow, user, request, order_id)
    rows = await _readable(uow, user, order, document_id)
    row = next((r for r in rows if r.version == version), None)
    if row is None:
        raise NotFound(
            f"document {document_id} has versions 1 to {rows[-1].version}, not {version}"
        )
    found = inside(planning(request).settings.document_dir, row.path)
    if not found.is_file():
        raise NotFound("the document's file is gone; upload it again")
    name = row.original_name or f"{row.title}.{found.suffix.lstrip('.')}"
    return FileResponse(found, media_type=row.content_type, filename=name)
