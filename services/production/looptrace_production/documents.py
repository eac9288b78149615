"""Order documents: typed, versioned files (tech packs, BOMs, purchase orders, certificates,
lab test reports, packing lists), checked by content, visible by role.

Who may upload and read each type (an admin may always do both; a buyer or supplier only on
its own orders, where "not yours" answers 404 like "not there"):

=================  =================  =====================  ==========================
type               uploaded by        read by                why
=================  =================  =====================  ==========================
tech_pack          buyer              buyer, supplier        the buyer's spec to make to
bom                buyer, supplier    buyer, supplier        either side keeps it current
purchase_order     buyer              buyer                  carries the buyer's prices
certificate        supplier           buyer, supplier        the factory's evidence
lab_test_report    supplier           buyer, supplier        the factory's evidence
packing_list       supplier           buyer, supplier        what was packed and shipped
=================  =================  =====================  ==========================

A type a role may not read does not exist for it (404); a type it may read but not upload is
refused with 403 naming who may. A new version keeps every older one, readable as before.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from looptrace_shared.errors import Forbidden, RuleViolation
from looptrace_shared.events.bounds import check_id


class DocumentType(StrEnum):
    TECH_PACK = "tech_pack"
    BOM = "bom"
    PURCHASE_ORDER = "purchase_order"
    CERTIFICATE = "certificate"
    LAB_TEST_REPORT = "lab_test_report"
    PACKING_LIST = "packing_list"


@dataclass(frozen=True)
class Access:
    upload: frozenset[str]
    read: frozenset[str]


def _access(upload: set[str], read: set[str]) -> Access:
    return Access(frozenset(upload | {"admin"}), frozenset(read | {"admin"}))


BOTH = {"buyer", "supplier"}
ACCESS: dict[DocumentType, Access] = {
    DocumentType.TECH_PACK: _access({"buyer"}, BOTH),
    DocumentType.BOM: _access(BOTH, BOTH),
    DocumentType.PURCHASE_ORDER: _access({"buyer"}, {"buyer"}),
    DocumentType.CERTIFICATE: _access({"supplier"}, BOTH),
    DocumentType.LAB_TEST_REPORT: _access({"supplier"}, BOTH),
    DocumentType.PACKING_LIST: _access({"supplier"}, BOTH),
}

# (content type, file extension) by what the bytes are, never by the file's name
PDF, PNG, JPEG = ("application/pdf", "pdf"), ("image/png", "png"), ("image/jpeg", "jpg")
XLSX = ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx")
DOCX = ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", "docx")
CSV = ("text/csv", "csv")
ACCEPTED = "PDF, PNG, JPEG, XLSX, DOCX or CSV (UTF-8)"


class DocumentTooLarge(RuleViolation):
    rule = "document_too_large"
    status = 413
    title = "Document too large"

    def __init__(self, limit: int) -> None:
        super().__init__(f"the document is larger than {limit} bytes; send a smaller file")


class UnsupportedDocumentType(RuleViolation):
    rule = "unsupported_document_type"
    status = 415
    title = "Unsupported document type"

    def __init__(self, found: str) -> None:
        super().__init__(f"the upload is {found}; send a {ACCEPTED} file (checked by content)")


def can_read(role: str, doc_type: DocumentType) -> bool:
    return role in ACCESS[doc_type].read


def readable_types(role: str) -> list[str]:
    return [t.value for t in DocumentType if can_read(role, t)]


def check_upload(role: str, doc_type: DocumentType) -> None:
    who = ACCESS[doc_type].upload
    if role not in who:
        raise Forbidden(
            f"a {role} may not upload a {doc_type.value}; it is uploaded by "
            f"{', '.join(sorted(who))}"
        )


def sniff(data: bytes) -> tuple[str, str]:
    """(content type, extension) of an accepted document, else UnsupportedDocumentType."""
    if not data:
        raise UnsupportedDocumentType("empty")
    if data.startswith(b"%PDF-"):
        return PDF
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if data.startswith(b"\xff\xd8\xff"):
        return JPEG
    if data.startswith(b"PK\x03\x04"):
        return _office(data)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise UnsupportedDocumentType("binary data of no accepted kind") from None
    if "\x00" in text:
        raise UnsupportedDocumentType("binary data of no accepted kind")
    return CSV


def _office(data: bytes) -> tuple[str, str]:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
    except zipfile.BadZipFile:
        raise UnsupportedDocumentType("a damaged ZIP archive") from None
    if "[Content_Types].xml" in names:
        if any(n.startswith("xl/") for n in names):
            return XLSX
        if any(n.startswith("word/") for n in names):
            return DOCX
    raise UnsupportedDocumentType("a ZIP archive that is no XLSX or DOCX")


@dataclass(frozen=True)
class StoredDocument:
    content_type: str
    size_bytes: int
    sha256: str
    path: Path


def store_document(data: bytes, folder: Path, version_id: str) -> StoredDocument:
    """Check ``data`` and write it as ``<version_id>.<ext>`` under ``folder``."""
    content_type, ext = sniff(data)
    check_id(version_id)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{version_id}.{ext}"
    path.write_bytes(data)
    return StoredDocument(content_type, len(data), hashlib.sha256(data).hexdigest(), path)
