"""Stage photos: accepted by content (JPEG, PNG, WebP, checked with Pillow), stored with a thumbnail."""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from looptrace_shared.errors import RuleViolation
from looptrace_shared.events.bounds import check_id

MAX_PIXELS = 40_000_000  # about 6300 x 6300: far beyond a phone photo, far below a bomb

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


class PhotoTooManyPixels(RuleViolation):
    rule = "photo_too_many_pixels"
    status = 413
    title = "Photo has too many pixels"

    def __init__(self, width: int, height: int, limit: int) -> None:
        super().__init__(
            f"the photo is {width} x {height} pixels; send one of at most {limit} pixels "
            "(e.g. 4000 x 3000)"
        )


class PhotoPathOutside(RuleViolation):
    rule = "photo_path_outside_folder"
    status = 422
    title = "Photo path not allowed"


def photo_folder(root: Path, order_id: str) -> Path:
    """The order's photo folder under ``root``: the id must be a safe id, and the resolved
    path must stay inside ``root`` (so ``/`` or ``..`` can never write elsewhere)."""
    try:
        check_id(order_id)
    except ValueError as err:
        raise PhotoPathOutside(str(err)) from None
    base = root.resolve()
    folder = (base / order_id).resolve()
    if folder.parent != base:
        raise PhotoPathOutside(f"order id {order_id!r} does not name a folder inside the photo dir")
    return folder


def inside(root: Path, path: str | Path) -> Path:
    """``path`` resolved, if it lies inside ``root``; PhotoPathOutside otherwise."""
    resolved, base = Path(path).resolve(), root.resolve()
    if not resolved.is_relative_to(base):
        raise PhotoPathOutside("the stored photo is not inside the photo dir")
    return resolved


@dataclass(frozen=True)
class StoredPhoto:
    content_type: str
    size_bytes: int
    width: int
    height: int
    path: Path
    thumbnail_path: Path
    screening_copy: bytes | None = None  # a downscaled JPEG for quality's pre-screening
    copy_problem: str | None = None


SCREENING_COPY_PX = 1024  # longest side of the copy the photo_stored event carries
SCREENING_COPY_BYTES = 500_000  # its bound (base64 adds a third: under the event's limit)


def screening_copy(image: Image.Image) -> tuple[bytes | None, str | None]:
    """(a JPEG of at most SCREENING_COPY_PX on its longest side, None), or (None, why not).
    A JPEG is decoded at a reduced scale (``draft``), so a 12 MP photo costs little."""
    side = SCREENING_COPY_PX
    if image.format == "JPEG":
        image.draft("RGB", (side, side))
    copy = image.convert("RGB")
    copy.thumbnail((side, side))
    for quality in (85, 70, 50):
        buffer = io.BytesIO()
        copy.save(buffer, "JPEG", quality=quality)
        if buffer.tell() <= SCREENING_COPY_BYTES:
            return buffer.getvalue(), None
    return None, f"no JPEG copy of at most {SCREENING_COPY_BYTES} bytes could be made"


def inspect_image(data: bytes, max_pixels: int = MAX_PIXELS) -> tuple[str, int, int]:
    """(format, width, height) of a JPEG/PNG/WebP image, or UnsupportedPhotoType /
    PhotoTooManyPixels (checked from the header, before anything is decoded)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                found, size = image.format or "unknown", image.size
                if size[0] * size[1] > max_pixels:
                    raise PhotoTooManyPixels(size[0], size[1], max_pixels)
                image.verify()
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise UnsupportedPhotoType("not an image Pillow can read") from None
    except (OSError, SyntaxError, ValueError) as err:
        raise UnsupportedPhotoType(f"a damaged image ({err})") from None
    if found not in FORMATS:
        raise UnsupportedPhotoType(f"a {found} image")
    return found, size[0], size[1]


def store_photo(
    data: bytes, directory: Path, photo_id: str, thumbnail_px: int, max_pixels: int = MAX_PIXELS
) -> StoredPhoto:
    """Check ``data`` is a supported image, write it and a JPEG thumbnail under ``directory``.
    Nothing is left behind when any step fails."""
    found, width, height = inspect_image(data, max_pixels)
    content_type, ext = FORMATS[found]
    check_id(photo_id)
    directory.mkdir(parents=True, exist_ok=True)
    path, thumb = directory / f"{photo_id}.{ext}", directory / f"{photo_id}.thumb.jpg"
    try:
        path.write_bytes(data)
        with Image.open(io.BytesIO(data)) as image:
            copy, problem = screening_copy(image)
        with Image.open(io.BytesIO(data)) as image:
            image.thumbnail((thumbnail_px, thumbnail_px))
            image.convert("RGB").save(thumb, "JPEG", quality=80)
    except Exception as err:
        remove_photo_files(path, thumb)
        if isinstance(err, OSError | SyntaxError | ValueError):
            raise UnsupportedPhotoType(f"a damaged image ({err})") from None
        raise
    return StoredPhoto(content_type, len(data), width, height, path, thumb, copy, problem)


def remove_photo_files(*paths: Path) -> None:
    for p in paths:
        if p.is_file() or p.is_symlink():
            p.unlink()
