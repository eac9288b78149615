"""Photo storage: folders only from safe ids and inside the photo dir, a pixel limit, and no
file left behind by a failed upload."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from looptrace_production.photos import (
    PhotoPathOutside,
    PhotoTooManyPixels,
    UnsupportedPhotoType,
    inside,
    photo_folder,
    store_photo,
)


def png(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), "white").save(out, "PNG")
    return out.getvalue()


@pytest.mark.parametrize("order_id", ["../etc", "a/b", "..", ".", "/abs", "a\x00b", "", "x" * 65])
def test_an_order_id_never_names_a_folder_outside_the_photo_dir(
    tmp_path: Path, order_id: str
) -> None:
    with pytest.raises(PhotoPathOutside):
        photo_folder(tmp_path / "photos", order_id)
    assert not (tmp_path / "etc").exists()


def test_a_safe_id_is_a_folder_directly_inside(tmp_path: Path) -> None:
    root = tmp_path / "photos"
    assert photo_folder(root, "PO-1.a_b@c+d") == (root / "PO-1.a_b@c+d").resolve()
    with pytest.raises(PhotoPathOutside):
        inside(root, tmp_path / "elsewhere.jpg")


def test_too_many_pixels_is_refused_before_decoding(tmp_path: Path) -> None:
    with pytest.raises(PhotoTooManyPixels) as err:
        store_photo(png(7000, 7000), tmp_path, "p-1", 320)
    assert err.value.status == 413 and "7000 x 7000" in str(err.value)
    assert list(tmp_path.iterdir()) == []


def test_a_failed_upload_leaves_no_file(tmp_path: Path) -> None:
    (tmp_path / "p-2.thumb.jpg").mkdir()  # the thumbnail cannot be written
    with pytest.raises(UnsupportedPhotoType):
        store_photo(png(40, 30), tmp_path, "p-2", 320)
    assert [p.name for p in tmp_path.iterdir()] == ["p-2.thumb.jpg"]  # the photo was removed


def test_a_good_photo_is_stored_with_its_thumbnail(tmp_path: Path) -> None:
    stored = store_photo(png(400, 300), tmp_path, "p-3", 100)
    assert stored.path.exists() and stored.thumbnail_path.exists() and stored.width == 400
