"""Order documents are typed by their content, and the access table says who uploads and reads."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from looptrace_production.documents import (
    ACCESS,
    DocumentType,
    UnsupportedDocumentType,
    check_upload,
    sniff,
)
from looptrace_shared.errors import Forbidden

KNOWN = {"application/pdf", "image/png", "image/jpeg", "text/csv"}


@given(st.binary(max_size=200))
def test_any_bytes_are_typed_or_refused_never_crash(data: bytes) -> None:
    try:
        content_type, ext = sniff(data)
    except UnsupportedDocumentType as err:
        assert err.status == 415 and "checked by content" in str(err)
    else:
        assert content_type in KNOWN and ext
        if content_type == "text/csv":
            assert "\x00" not in data.decode("utf-8")


@pytest.mark.parametrize(
    ("data", "found"),
    [(b"%PDF-1.4 x", "application/pdf"), (b"\x89PNG\r\n\x1a\nxx", "image/png"),
     (b"\xff\xd8\xff\xe0", "image/jpeg"), (b"style,qty\nA,1\n", "text/csv")],
)  # fmt: skip
def test_known_kinds(data: bytes, found: str) -> None:
    assert sniff(data)[0] == found


def test_a_zip_that_is_not_office_is_refused() -> None:
    with pytest.raises(UnsupportedDocumentType, match="damaged ZIP"):
        sniff(b"PK\x03\x04garbage")


def test_the_access_table() -> None:
    assert all("admin" in a.upload and "admin" in a.read for a in ACCESS.values())
    assert "supplier" not in ACCESS[DocumentType.PURCHASE_ORDER].read  # the buyer's prices
    assert all(a.upload <= a.read for a in ACCESS.values()), "uploaders read what they upload"
    with pytest.raises(Forbidden, match="uploaded by admin, supplier"):
        check_upload("buyer", DocumentType.CERTIFICATE)
