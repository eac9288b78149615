"""Order documents over HTTP: typed, versioned, checked by content, and visible by role — a
role-by-object matrix (own and someone else's order, every type) against the documented table."""

from __future__ import annotations

import hashlib
import io
import uuid
import zipfile
from typing import Any

import pytest

from looptrace_production.documents import ACCESS, DocumentType

pytestmark = pytest.mark.integration

OWN, OTHER = ("b-doc", "s-doc"), ("b-doc-x", "s-doc-x")
PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def xlsx() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/workbook.xml", "<workbook/>")
    return out.getvalue()


@pytest.fixture(scope="module")
async def orders(running, kit) -> dict[str, str]:  # type: ignore[no-untyped-def]
    out = {}
    for name, (buyer, supplier) in (("own", OWN), ("other", OTHER)):
        oid = str(uuid.uuid4())
        await kit.assign(kit.assignment(oid, "knitwear", supplier=supplier, buyer=buyer))
        await kit.until(lambda oid=oid: running.timeline(oid), bool, what="plan exists")
        out[name] = oid
    return out


async def upload(running: Any, oid: str, who: tuple[str, str], doc_type: str, data: bytes,
                 name: str = "f.pdf") -> Any:  # fmt: skip
    files = {"file": (name, data, "application/octet-stream")}
    form = {"doc_type": doc_type, "title": f"{doc_type} of {oid[:6]}"}
    return await running.http.post(
        f"/v1/orders/{oid}/documents", files=files, data=form, headers=running.token(*who)
    )


def uploader(doc_type: DocumentType, parties: tuple[str, str]) -> tuple[str, str]:
    role = "buyer" if "buyer" in ACCESS[doc_type].upload else "supplier"
    return role, parties[0] if role == "buyer" else parties[1]


async def test_documents_by_role_and_object(running, orders) -> None:  # type: ignore[no-untyped-def]
    ids: dict[tuple[str, DocumentType], str] = {}
    for name, parties in (("own", OWN), ("other", OTHER)):
        for t in DocumentType:
            r = await upload(running, orders[name], uploader(t, parties), t.value, PDF)
            assert r.status_code == 201, r.text
            ids[(name, t)] = r.json()["document_id"]
    callers = {
        "buyer": ("buyer", OWN[0]), "supplier": ("supplier", OWN[1]),
        "admin": ("admin", "ops"), "inspector": ("inspector", "qc-1"),
    }  # fmt: skip
    wrong = []
    for label, who in callers.items():
        role = who[0]
        for name in ("own", "other"):
            oid = orders[name]
            listed = await running.http.get(
                f"/v1/orders/{oid}/documents", headers=running.token(*who)
            )
            visible = role == "admin" or (name == "own" and role in ("buyer", "supplier"))
            want_types = {t.value for t in DocumentType if role in ACCESS[t].read}
            if visible and {d["doc_type"] for d in listed.json()} != want_types:
                wrong.append(f"{label} lists {listed.json()} on {name}")
            if not visible and listed.status_code != 404:
                wrong.append(f"{label} lists {name}'s documents: {listed.status_code}")
            for t in DocumentType:
                r = await running.http.get(
                    f"/v1/orders/{oid}/documents/{ids[(name, t)]}", headers=running.token(*who)
                )
                want = 200 if visible and role in ACCESS[t].read else 404
                if r.status_code != want:
                    wrong.append(f"{label} reads {name} {t.value}: {r.status_code}, want {want}")
                up = await upload(running, oid, who, t.value, PDF)
                want_up = (
                    201 if visible and role in ACCESS[t].upload
                    else 403 if visible or role == "inspector" else 404
                )  # fmt: skip
                if up.status_code != want_up:
                    wrong.append(
                        f"{label} uploads {name} {t.value}: {up.status_code}, want {want_up}"
                    )
    assert not wrong, "\n".join(wrong)


async def test_versions_keep_the_old_and_content_is_checked(running, orders) -> None:  # type: ignore[no-untyped-def]
    oid, buyer, supplier = orders["own"], ("buyer", OWN[0]), ("supplier", OWN[1])
    first = await upload(running, oid, buyer, "bom", PDF)
    doc, sheet = first.json(), xlsx()
    v2 = await running.http.post(
        f"/v1/orders/{oid}/documents/{doc['document_id']}/versions",
        files={"file": ("bom.xlsx", sheet, "application/pdf")},  # the name and type claimed lie
        headers=running.token(*supplier),
    )
    assert v2.status_code == 201, v2.text
    versions = v2.json()["versions"]
    assert [v["version"] for v in versions] == [1, 2] and v2.json()["version"] == 2
    assert versions[1]["content_type"].endswith("spreadsheetml.sheet")
    assert [v["uploaded_role"] for v in versions] == ["buyer", "supplier"]
    for v, data in zip(versions, (PDF, sheet), strict=True):
        r = await running.http.get(v["url"], headers=running.token(*buyer))
        assert r.status_code == 200 and r.content == data
        assert v["sha256"] == hashlib.sha256(data).hexdigest()
    gone = await running.http.get(
        versions[0]["url"].replace("/versions/1/", "/versions/3/"), headers=running.token(*buyer)
    )
    assert gone.status_code == 404 and "versions 1 to 2" in gone.json()["detail"]

    refusals = {
        "unsupported_document_type": await upload(running, oid, buyer, "bom", b"MZ\x90\x00\x03"),
        "document_too_large": await upload(running, oid, buyer, "bom", PDF + b" " * 100_001),
    }
    assert refusals["unsupported_document_type"].status_code == 415
    assert refusals["document_too_large"].status_code == 413
    for rule, r in refusals.items():
        assert r.json()["rule"] == rule
    bad_type = await upload(running, oid, buyer, "invoice", PDF)
    assert bad_type.status_code == 422 and "doc_type" in bad_type.text
    listed = await running.http.get(f"/v1/orders/{oid}/documents", headers=running.token(*buyer))
    boms = [d for d in listed.json() if d["document_id"] == doc["document_id"]]
    assert len(boms) == 1 and boms[0]["version"] == 2, "a failed upload adds no version"
