"""Photo pre-screening: decoding, tile features, the classifier, the report and the overlay."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from looptrace_quality.screening import image, synth
from looptrace_quality.screening import model as m
from looptrace_quality.screening.features import tile_features
from looptrace_quality.screening.image import TILE, Unscreenable
from looptrace_quality.screening.overlay import FRAME, overlay_png
from looptrace_quality.screening.report import NOTHING_FOUND, screen, screen_pixels


def encode(pixels: np.ndarray, fmt: str = "JPEG", mode: str = "RGB") -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels).convert(mode).save(buffer, fmt)
    return buffer.getvalue()


def plain_fabric(h: int = 384, w: int = 512, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w]
    weave = 150 + 20 * np.sin(x * 1.3) * np.sin(y * 1.3) + rng.normal(0, 3, (h, w))
    return np.clip(np.stack([weave, weave * 0.8, weave * 0.6], axis=2), 0, 255).astype(np.uint8)


def test_a_12_megapixel_jpeg_is_downscaled_to_the_working_size() -> None:
    big = np.asarray(Image.fromarray(plain_fabric(300, 400)).resize((4000, 3000)))
    working = image.load(encode(big))
    assert working.pixels.shape == (576, 768, 3)
    assert (working.original_width, working.original_height) == (4000, 3000)


def test_a_hole_makes_its_tile_the_most_unusual() -> None:
    pixels = plain_fabric()
    y, x = np.ogrid[0:384, 0:512]
    pixels[(y - 160) ** 2 + (x - 224) ** 2 < 12**2] = 5  # inside tile row 2, col 3
    features, (rows, cols, top, left) = tile_features(pixels)
    assert (rows, cols, top, left) == (6, 8, 0, 0)
    assert features.shape[0] == 48 and np.isfinite(features).all()
    z = np.abs(features[:, 2 * features.shape[1] // 5 :]).sum(1)  # any relative columns
    assert int(np.argmax(z)) == 2 * cols + 3


def test_tile_labels_follow_the_defect_map() -> None:
    kinds = np.zeros((128, 192), dtype=np.int8)
    kinds[10:20, 70:80] = synth.KINDS.index("hole")  # 100 px of tile (0, 1): above 2 %
    kinds[64:, :] = synth.KINDS.index("shade")  # the whole bottom row
    labels = m.tile_labels(kinds, (2, 3, 0, 0))
    assert labels.tolist() == [0, 2, 0, 5, 5, 5]


def test_defective_photos_score_above_clean_ones(small_model: m.ScreeningModel) -> None:
    rng = np.random.default_rng(99)
    clean, dirty = [], []
    for _ in range(12):
        pixels, kinds = synth.photo(rng)
        score = screen(encode(pixels), small_model).score
        (dirty if (kinds > 0).any() else clean).append(score)
    assert clean and dirty
    assert np.mean(dirty) > np.mean(clean) + 0.1


def test_training_is_deterministic_for_a_seed() -> None:
    tiles = m.synthetic_tiles(3, 4)
    first, second = m.fit(tiles, 3), m.fit(m.synthetic_tiles(3, 4), 3)
    np.testing.assert_array_equal(
        first.predict_proba(tiles.features), second.predict_proba(tiles.features)
    )


def test_the_overlay_frames_exactly_the_flagged_tiles(small_model: m.ScreeningModel) -> None:
    pixels, _ = synth.photo(np.random.default_rng(5), defect_rate=1.0)
    probe = screen_pixels(pixels, small_model, pixels.shape[1])
    scores = sorted(t.confidence for t in probe.flagged) or [probe.score]
    small_model.threshold, kept = probe.score - 1e-4, small_model.threshold
    try:
        result = screen_pixels(pixels, small_model, pixels.shape[1])
    finally:
        small_model.threshold = kept
    assert scores and result.flagged and len(result.flagged) < result.tiles
    drawn = np.asarray(Image.open(io.BytesIO(overlay_png(result))).convert("RGB"))
    assert drawn.shape == pixels.shape
    top, left, _ = result.origin
    flagged = {t.index for t in result.flagged}
    for index in range(result.tiles):
        r, c = divmod(index, result.cols)
        y, x = top + r * TILE, left + c * TILE
        edge = drawn[y, x : x + TILE]
        if index in flagged:
            assert (edge == FRAME).all(), f"tile {index} is flagged but not framed"
        else:
            np.testing.assert_array_equal(edge, pixels[y, x : x + TILE])


def test_actions_name_the_defect_kinds_and_say_advisory(small_model: m.ScreeningModel) -> None:
    pixels, _ = synth.photo(np.random.default_rng(5), defect_rate=1.0)
    result = screen_pixels(pixels, small_model, pixels.shape[1])
    if result.flagged:
        assert "Advisory" in result.actions[-1]
    else:
        assert result.actions == (NOTHING_FOUND,)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"not an image at all", "unsupported"),
        (encode(plain_fabric())[:400], "corrupt"),
        (encode(plain_fabric(), "GIF", "P"), "unsupported"),
        (encode(plain_fabric(100, 100)), "too_small"),
        (encode(plain_fabric(130, 1500)), "too_small"),
    ],
)
def test_a_photo_that_cant_be_screened_says_why(
    data: bytes, reason: str, small_model: m.ScreeningModel
) -> None:
    with pytest.raises(Unscreenable) as err:
        screen(data, small_model)
    assert err.value.reason == reason and str(err.value)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    width=st.integers(1, 1600),
    height=st.integers(1, 1600),
    fmt=st.sampled_from(["JPEG", "PNG", "WEBP", "BMP"]),
    mode=st.sampled_from(["RGB", "L", "RGBA", "P", "I;16"]),
)
def test_any_size_or_format_is_screened_or_refused_with_a_reason(
    width: int, height: int, fmt: str, mode: str, small_model: m.ScreeningModel
) -> None:
    pixels = plain_fabric(height, width)
    try:
        data = encode(pixels, fmt, mode)
    except (OSError, ValueError):
        return  # this format can't hold this mode: nothing to screen
    try:
        result = screen(data, small_model)
    except Unscreenable as err:
        assert err.reason in {"unsupported", "too_small", "corrupt"}
        assert (
            fmt == "BMP" or min(width, height) < 128 or max(width, height) > 6 * min(width, height)
        )
        return
    assert fmt != "BMP" and result.rows >= 2 and result.cols >= 2
    assert 0 <= result.score <= 1 and all(0 <= t.confidence <= 1 for t in result.flagged)
    for tile in result.flagged:
        x, y, w, h = tile.box
        assert 0 <= x and 0 <= y and x + w <= width + 1 and y + h <= height + 1


def test_labels_move_the_score(small_model: m.ScreeningModel) -> None:
    """A clean fabric a person labels as stained every tile: retrained with those labels, the
    model scores that fabric's tiles higher than before."""
    pixels, kinds = synth.photo(np.random.default_rng(41), defect_rate=0.0)
    assert not (kinds > 0).any()
    before = screen_pixels(pixels, small_model, pixels.shape[1])
    n = before.tiles
    stained = np.full(n, synth.KINDS.index("stain"))
    labelled = m.TileSet(before.features, stained, np.zeros(n, np.intp), np.full(n, 20.0))
    retrained = m.train(seed=7, photos=30, labelled=labelled)
    p_before, _ = small_model.defect_probability(before.features)
    p_after, kind = retrained.defect_probability(before.features)
    assert p_after.mean() > p_before.mean() + 0.3
    assert (kind == synth.KINDS.index("stain")).mean() > 0.8
    assert retrained.trained_on["labelled_tiles"] == n


def test_the_shipped_baseline_is_the_one_the_service_uses_while_no_model_file_exists(
    tmp_path: Path,
) -> None:
    from looptrace_quality.screening import store

    shipped = m.load(store.SHIPPED)
    assert shipped is not None, "rebuild baseline.joblib: `looptrace quality screening build`"
    assert shipped.feature_version == m.FEATURE_VERSION
    assert shipped.trained_on.get("seed") == m.BASELINE_SEED
    assert shipped.trained_on.get("synthetic_photos") == m.BASELINE_PHOTOS
    missing = tmp_path / "none.joblib"
    assert store.current(missing).threshold == shipped.threshold
    assert not missing.exists()  # nothing trained or written
