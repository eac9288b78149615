"""Stage photos: accepted by content (JPEG, PNG, WebP, checked with Pillow), stored with a thumbnail."""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from looptrace_shared.errors import RuleViolation

FORMATS = {
    "JPEG": ("image/jpeg", "jpg"),
    "PNG": ("image/png", "png"),
    "WEBP": ("image/webp", "webp"),
}


class PhotoTooLarge(RuleViolation):
    rule = "photo_too_large"
    status = 413
    title = "Photo too large"

    def __init__(self, limit: int) -> None:
        super().__init__(
            f"the photo is larger than {limit} bytes; send a smaller or more compressed one"
        )


class UnsupportedPhotoType(RuleViolation):
    rule = "unsupported_photo_type"
    status = 415
    title = "Unsupported photo type"

    def __init__(self, found: str) -> None:
        super().__init__(
            f"the upload is {found}; send a JPEG, PNG or WebP image (checked by content)"
        )


@dataclass(frozen=True)
class StoredPhoto:
    content_type: str
    size_bytes: int
    width: int
    height: int
    path: Path
    thumbnail_path: Path


def inspect_image(data: bytes) -> tuple[str, int, int]:
    """(format, width, height) of a JPEG/PNG/WebP image, or UnsupportedPhotoType."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                found, size = image.format or "unknown", image.size
                image.verify()
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise UnsupportedPhotoType("not an image Pillow can read") from None
    except (OSError, SyntaxError, ValueError) as err:
        raise UnsupportedPhotoType(f"a damaged image ({err})") from None
    if found not in FORMATS:
        raise UnsupportedPhotoType(f"a {found} image")
    return found, size[0], size[1]


def store_photo(data: bytes, directory: Path, photo_id: str, thumbnail_px: int) -> StoredPhoto:
    """Check ``data`` is a supported image, write it and a JPEG thumbnail under ``directory``."""
    found, width, height = inspect_image(data)
    content_type, ext = FORMATS[found]
    directory.mkdir(parents=True, exist_ok=True)
    path, thumb = directory / f"{photo_id}.{ext}", directory / f"{photo_id}.thumb.jpg"
    path.write_bytes(data)
    with Image.open(io.BytesIO(data)) as image:
        image.thumbnail((thumbnail_px, thumbnail_px))
        image.convert("RGB").save(thumb, "JPEG", quality=80)
    return StoredPhoto(content_type, len(data), width, height, path, thumb)
