"""The downscaled copy a stored photo's production.photo_stored event carries for quality's
pre-screening: a JPEG, at most SCREENING_COPY_PX on its longest side and SCREENING_COPY_BYTES."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from looptrace_production.photos import SCREENING_COPY_BYTES, SCREENING_COPY_PX, store_photo


def noisy(width: int, height: int, fmt: str) -> bytes:
    pixels = np.random.default_rng(width * 7 + height).integers(0, 256, (height, width, 3))
    out = io.BytesIO()
    Image.fromarray(pixels.astype(np.uint8)).save(out, fmt)
    return out.getvalue()


@settings(max_examples=12, deadline=None)
@given(
    width=st.integers(1, 2600),
    height=st.integers(1, 2600),
    fmt=st.sampled_from(["JPEG", "PNG", "WEBP"]),
)
def test_the_copy_is_a_bounded_jpeg_of_the_same_picture(
    tmp_path_factory, width: int, height: int, fmt: str
) -> None:  # type: ignore[no-untyped-def]
    folder = Path(tmp_path_factory.mktemp("copy"))
    stored = store_photo(noisy(width, height, fmt), folder, "p-1", 200)
    assert stored.screening_copy is not None and stored.copy_problem is None
    assert len(stored.screening_copy) <= SCREENING_COPY_BYTES
    with Image.open(io.BytesIO(stored.screening_copy)) as copy:
        assert copy.format == "JPEG"
        assert max(copy.size) <= max(SCREENING_COPY_PX, 1)
        scale = max(copy.size) / max(width, height)
        assert abs(copy.size[0] - width * scale) <= 2 and abs(copy.size[1] - height * scale) <= 2
