"""The decoded-image plausibility check (issue #15): codec garbage from a block row on is refused, photos are not.

:mod:`lipsym.io._plausible` judges decoded pixels alone. Both directions are
pinned: intact photos (every shared photo, and re-encodings of some, when
../shared/data is present; the sample image always) load, and garbage
planted on the 8-px block grid from a row on is refused, through
:func:`lipsym.io.load_photo` as well as directly. A JPEG's own check
(:mod:`lipsym.io._jpeg_plausible`, a step from one block on) likewise: a real
JPEG damaged by one bit is refused, low-quality re-encodings load.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from lipsym.errors import CorruptPhotoError
from lipsym.io import _plausible, load_photo

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data"
ASTRONAUT = REPO / "sample_images" / "astronaut.png"


def astronaut() -> np.ndarray:
    return np.asarray(Image.open(ASTRONAUT).convert("RGB"))


def encode(rgb: np.ndarray, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, fmt, **options)
    return buffer.getvalue()


def with_garbage(rgb: np.ndarray, from_row_px: int, seed: int = 0) -> np.ndarray:
    """``rgb`` with every 8 x 8 block from ``from_row_px`` (a multiple of 8) on replaced by unrelated content.

    What a damaged VP8/HEVC/JPEG stream decodes to (benchmarks/fuzz_photos.py):
    each block a colour and gradient of its own, unrelated to its neighbours.
    """
    rng = np.random.default_rng(seed)
    out = rgb.copy()
    height_px, width_px = rgb.shape[:2]
    ramp = np.arange(8)[:, None] + np.arange(8)[None, :]
    for y in range(from_row_px, height_px - 7, 8):
        for x in range(0, width_px - 7, 8):
            base, slope = rng.integers(0, 200, 3), rng.integers(-3, 4, 3)
            out[y : y + 8, x : x + 8] = np.clip(base + ramp[:, :, None] * slope, 0, 255)
    return out


def test_planted_garbage_is_refused_and_the_intact_image_is_not():
    rgb = astronaut()
    _plausible.check_blocks_plausible(rgb, "intact.png")  # must not raise
    with pytest.raises(CorruptPhotoError, match=r"from decoded row 320 of 512 on") as info:
        _plausible.check_blocks_plausible(with_garbage(rgb, 320), "damaged.webp")
    assert "damaged.webp" in str(info.value) and "\n" not in str(info.value)


@pytest.mark.parametrize("fmt", ["WEBP", "BMP", "TIFF"])
def test_load_photo_runs_the_check(fmt):
    rgb = astronaut()
    options = {"lossless": True} if fmt == "WEBP" else {}
    np.testing.assert_array_equal(load_photo("intact", data=encode(rgb, fmt, **options)).rgb, rgb)
    with pytest.raises(CorruptPhotoError, match="blocks no longer fit together"):
        load_photo("damaged", data=encode(with_garbage(rgb, 256), fmt, **options))


def test_a_jpeg_is_block_checked_with_its_own_rule():
    rgb = astronaut()
    load_photo("intact.jpg", data=encode(rgb, "JPEG", quality=90))  # must not raise
    with pytest.raises(CorruptPhotoError, match="blocks no longer fit together"):
        load_photo("damaged.jpg", data=encode(with_garbage(rgb, 256), "JPEG", quality=90))
    # Garbage the default rule would refuse, the JPEG rule lets through when its excess is lower.
    excess = _plausible.strip_excess(with_garbage(rgb, 256), 8)
    scale = 0.9 * _plausible.JPEG_RULE.excess / float(np.median(excess[40:]))
    assert _plausible.garbage_start(excess * scale) is not None
    assert _plausible.garbage_start(excess * scale, _plausible.JPEG_RULE) is None


def with_garbage_patch(rgb: np.ndarray, rows: slice, columns: slice, seed: int = 0) -> np.ndarray:
    """``rgb`` with the 8 x 8 blocks in ``rows`` x ``columns`` (multiples of 8) replaced by unrelated content."""
    out = rgb.copy()
    region = with_garbage(np.ascontiguousarray(rgb[rows, columns]), 0, seed)
    out[rows, columns] = region
    return out


def test_garbage_on_one_side_is_refused_by_its_patches():
    """A damaged HEVC stream in wavefront rows, or a damaged WebP, leaves garbage on one side only
    (benchmarks/fuzz_measured.py seed 0 cases 1237 and 2758): every strip's median stays intact."""
    rgb = astronaut()
    damaged = with_garbage_patch(rgb, slice(128, 512), slice(448, 496))
    _plausible.check_blocks_plausible(damaged, "damaged.webp")  # the strip rule does not see it
    share, windows = _plausible.garbage_patch_share(damaged)
    assert share > _plausible.MAX_PATCH_SHARE and share * windows >= _plausible.MIN_PATCH_WINDOWS
    with pytest.raises(CorruptPhotoError, match=r"^damaged\.webp is corrupt \(\d+\.\d% of it is patches of 8-px"):
        load_photo("damaged.webp", data=encode(damaged, "WEBP", lossless=True))
    half = damaged.reshape(256, 2, 256, 2, 3).mean(axis=(1, 3)).astype(np.uint8)  # 4-px blocks at reduction 2
    with pytest.raises(CorruptPhotoError, match="patches of 4-px blocks"):
        _plausible.check_garbage_patches(half, "damaged.webp", reduction=2)
    _plausible.check_garbage_patches(damaged[::4, ::4], "damaged.webp", reduction=4)  # 2-px blocks: not judged


def test_intact_lossy_photos_and_a_few_misfits_are_not_garbage_patches():
    rgb = astronaut()
    for fmt, options in (("WEBP", {"quality": 50}), ("WEBP", {"quality": 80}), ("WEBP", {"lossless": True})):
        load_photo(f"intact.{fmt.lower()}", data=encode(rgb, fmt, **options))  # must not raise
    # A few dense windows in a small image are a large share, but too few to refuse.
    small = with_garbage_patch(rgb[:128, :128], slice(40, 64), slice(40, 64))
    share, windows = _plausible.garbage_patch_share(small)
    assert share > _plausible.MAX_PATCH_SHARE and share * windows < _plausible.MIN_PATCH_WINDOWS
    _plausible.check_garbage_patches(small, "small.webp")


def test_garbage_must_differ_from_what_is_above_it():
    """A photo saved at low JPEG quality is blocky throughout: not garbage from a row on."""
    rgb = astronaut()
    blocky = load_photo("q30.jpg", data=encode(rgb, "JPEG", quality=30)).rgb  # must not raise
    assert blocky.shape == rgb.shape
    # Garbage from the very top has no reference above it and needs a higher excess.
    excess = _plausible.strip_excess(with_garbage(rgb, 0), 8)
    assert _plausible.garbage_start(excess) == 0
    scale = _plausible.GARBAGE_EXCESS_FROM_TOP / float(np.median(excess))
    assert _plausible.garbage_start(excess * scale * 1.2) == 0
    assert _plausible.garbage_start(excess * scale * 0.8) is None


def test_the_grid_follows_the_reduction():
    rgb = with_garbage(astronaut(), 320)
    half = rgb.reshape(256, 2, 256, 2, 3).mean(axis=(1, 3)).astype(np.uint8)  # 4-px blocks at reduction 2
    with pytest.raises(CorruptPhotoError, match="160 of 256"):
        _plausible.check_blocks_plausible(half, "damaged.webp", reduction=2)
    quarter = rgb[::4, ::4]
    _plausible.check_blocks_plausible(quarter, "damaged.webp", reduction=4)  # 2-px blocks: not judged


def test_small_images_are_not_judged():
    _plausible.check_blocks_plausible(with_garbage(astronaut(), 8)[:56, :56], "thumb.webp")


def shared_photos() -> list[Path]:
    return sorted(p for p in SHARED.rglob("*") if p.suffix.lower() in (".jpg", ".jpeg", ".png"))


@pytest.mark.slow
@pytest.mark.skipif(not SHARED.is_dir(), reason="needs ../shared/data (the shared photos)")
def test_every_shared_photo_and_some_re_encodings_pass():
    """No intact photo is refused: every shared photo at reductions 1 and 2, and re-encodings of every 10th."""
    photos = shared_photos()
    assert len(photos) > 100
    formats = [("JPEG", {"quality": 40}), ("JPEG", {"quality": 70, "progressive": True}), ("WEBP", {"quality": 60})]
    try:
        import pillow_heif

        pillow_heif.register_heif_opener()
        formats.append(("HEIF", {"quality": 60}))
    except ImportError:
        pass
    for number, path in enumerate(photos):
        for reduction in (1, 2):
            load_photo(path, reduction=reduction)
        if number % 10 == 0:
            rgb = np.asarray(Image.open(path).convert("RGB"))
            for fmt, options in formats:
                load_photo(f"{path.name}.{fmt.lower()}", data=encode(rgb, fmt, **options))


def test_a_tall_photo_is_judged_on_every_other_block_row():
    tall = np.tile(astronaut()[:, :256], (8, 1, 1))  # 4096 rows: 512 block rows, every 2nd (1, 3, ...) judged
    _plausible.check_blocks_plausible(tall, "tall.webp")
    with pytest.raises(CorruptPhotoError, match="from decoded row 2408 of 4096 on"):
        _plausible.check_blocks_plausible(with_garbage(tall, 2408), "tall.webp")


@pytest.mark.skipif(not SHARED.is_dir(), reason="needs ../shared/data (the shared photos)")
def test_a_low_quality_jpeg_is_judged_by_the_gentler_jpeg_rule():
    """zoom/45cm.jpg at JPEG q 30 blocks like garbage from a row on: a JPEG is judged by the gentler JPEG_RULE."""
    rgb = np.asarray(Image.open(SHARED / "invariance" / "zoom" / "45cm.jpg").convert("RGB"))
    data = encode(rgb, "JPEG", quality=30)
    decoded = load_photo("45cm_q30.jpg", data=data).rgb  # must not raise
    with pytest.raises(CorruptPhotoError, match="blocks no longer fit together"):
        _plausible.check_blocks_plausible(decoded, "45cm_q30.jpg")
    _plausible.check_blocks_plausible(decoded, "45cm_q30.jpg", rule=_plausible.JPEG_RULE)


# A real London photo (sample_images/london_094_rest.jpg, 4:2:0 baseline, no
# restart markers) with one bit flipped in its scan data: the DC difference
# of one luma block changes and the stream stays valid, so libjpeg decodes
# it without a warning, 43 grey levels darker from decoded row 1120 on
# (the bottom sixth, clothes and backdrop: found by flipping random bits).
LONDON = REPO / "sample_images" / "london_094_rest.jpg"
DC_STEP_OFFSET, DC_STEP_BIT = 325071, 7


def test_a_jpeg_with_a_changed_dc_difference_is_refused():
    intact = LONDON.read_bytes()
    damaged = bytearray(intact)
    damaged[DC_STEP_OFFSET] ^= 1 << DC_STEP_BIT
    with pytest.raises(CorruptPhotoError, match=r"from decoded row 1120 of 1350 on, its Y is offset by -4\d"):
        load_photo("damaged.jpg", data=bytes(damaged))
    # Damaged, yet every decoder accepts it: the check is all that refuses it.
    with _plausible_off():
        photo = load_photo("damaged.jpg", data=bytes(damaged))
    reference = load_photo("intact.jpg", data=intact)  # must not raise
    difference = photo.rgb.astype(int) - reference.rgb
    assert np.abs(difference[:1100]).max() == 0 and np.median(difference[1140:]) < -30
    # At reduction 2 (8-px MCUs) too; at 4 (4-px MCUs) the same step.
    for reduction in (2, 4):
        with pytest.raises(CorruptPhotoError, match="offset by"):
            load_photo("damaged.jpg", data=bytes(damaged), reduction=reduction)


class _plausible_off:
    """Switch the DC-step check off inside a ``with`` block (to look at what the decoder alone returns)."""

    def __enter__(self):
        from lipsym.io import _decode

        self._saved = _decode.check_dc_steps
        _decode.check_dc_steps = lambda *args, **kwargs: None

    def __exit__(self, *exc):
        from lipsym.io import _decode

        _decode.check_dc_steps = self._saved


def test_a_planted_step_is_found_where_it_starts_and_a_smaller_one_is_not():
    from lipsym.io import _jpeg_plausible

    rgb = astronaut().astype(np.int16)
    q90 = _jpeg_plausible.JpegGrid((16, 16), 0.375)  # 4:2:0, DC quantisation steps of 3 / 8 level (q 90)
    stepped = rgb.copy()
    # Luma up by 20 from MCU (row 10, column 12) of 16-px MCUs on, to the end, as a changed DC difference does.
    stepped[160:176, 192:] += 20
    stepped[176:] += 20
    stepped = np.clip(stepped, 0, 255).astype(np.uint8)
    with pytest.raises(CorruptPhotoError, match=r"from decoded row 160 of 512 on, its Y is offset by \+2\d"):
        _jpeg_plausible.check_dc_steps(stepped, q90, "stepped.jpg")
    # In a photo saved at low quality (DC quantisation step 16 levels) a step of 20 is not evidence.
    _jpeg_plausible.check_dc_steps(stepped, _jpeg_plausible.JpegGrid((16, 16), 16.0), "stepped.jpg")
    small = rgb.copy()
    small[176:] += 3
    _jpeg_plausible.check_dc_steps(np.clip(small, 0, 255).astype(np.uint8), q90, "small.jpg")
    _jpeg_plausible.check_dc_steps(astronaut(), q90, "intact.jpg")


def test_a_straight_edge_along_one_mcu_boundary_is_not_a_damaged_block():
    """A letterbox bar or a flat photo pasted on a canvas steps along one boundary row: not damage.

    The step is constant along the edge, as a damaged DC value's is; what tells them apart is
    that damage steps on two boundary rows (a staircase). The app's 24 MP test canvas (a face
    pasted on grey) was refused before the check asked for both rows.
    """
    from lipsym.io import _jpeg_plausible

    q90 = _jpeg_plausible.JpegGrid((16, 16), 0.375)
    rng = np.random.default_rng(0)
    backdrop = np.tile(np.linspace(90, 200, 512)[:, None, None], (1, 768, 3)) + rng.normal(0, 2, (512, 768, 3))
    letterbox = backdrop.copy()
    letterbox[:64] = 16  # a dark bar ending on an MCU boundary, the full width
    canvas = np.full((512, 768, 3), 128.0) + rng.normal(0, 2, (512, 768, 3))
    canvas[48:, 96:608] += 50  # a flat photo pasted below boundary row 3, two thirds of the width
    stair = backdrop.copy()
    stair[160:176, 192:] += 30  # a changed DC value: from MCU (10, 12) to the end
    stair[176:] += 30
    as_uint8 = [np.clip(x, 0, 255).astype(np.uint8) for x in (letterbox, canvas, stair)]
    for name, image in zip(("letterbox", "canvas"), as_uint8[:2]):
        _jpeg_plausible.check_dc_steps(image, q90, f"{name}.jpg")
        # Each steps consistently along one row: the one-row test alone would have refused it.
        steps = _jpeg_plausible.boundary_steps(image, 16, 16, 32)
        median, mad = _jpeg_plausible.staircase_scores(steps)
        assert ((np.abs(median) > 6) & (np.abs(median) > 4 * mad)).any()
        buffer = io.BytesIO()
        Image.fromarray(image).save(buffer, "JPEG", quality=90)
        load_photo(f"{name}.jpg", data=buffer.getvalue())  # must not raise
    with pytest.raises(CorruptPhotoError, match=r"from decoded row 160 of 512 on, its Y is offset by \+[23]\d"):
        _jpeg_plausible.check_dc_steps(as_uint8[2], q90, "stair.jpg")


@pytest.mark.slow
@pytest.mark.skipif(not SHARED.is_dir(), reason="needs ../shared/data (the shared photos)")
def test_low_quality_re_encodings_of_real_photos_are_not_refused():
    """Photos saved at JPEG q 15-30 (a messenger may), 4:2:0 and 4:4:4, load at reductions 1, 2 and 4.

    The hardest of the photos the DC-step thresholds were chosen on: the
    invariance set (zoom/30cm.jpg and 45cm.jpg block strongly at low
    quality) and every 10th other shared photo.
    """
    photos = [p for p in shared_photos() if "invariance" in p.parts] + shared_photos()[::10]
    for path in photos:
        rgb = np.asarray(Image.open(path).convert("RGB"))
        for quality in (15, 20, 30):
            for subsampling in (0, 2):
                data = encode(rgb, "JPEG", quality=quality, subsampling=subsampling)
                for reduction in (1, 2, 4):
                    load_photo(f"{path.name}.q{quality}.jpg", data=data, reduction=reduction)


def _dqt_entries(data: bytes) -> tuple[int, list[int]]:
    """Offset of the first DQT table's 64 entries (8-bit) and the entries."""
    at = data.index(b"\xff\xdb") + 5
    return at, list(data[at:at + 64])


@pytest.mark.parametrize("quality", [5, 50, 90, 95, 100])
def test_every_quality_s_tables_are_smooth(quality):
    """Pillow's (IJG's) tables at any quality load: their entries step by at most 2x between neighbours."""
    from lipsym.io._jpeg_plausible import check_quant_tables, jpeg_grid
    data = encode(astronaut(), "JPEG", quality=quality)
    check_quant_tables(jpeg_grid(data), "q.jpg")
    assert load_photo("q.jpg", data=data).rgb.shape == (512, 512, 3)


def test_a_jpeg_with_a_damaged_quantisation_table_is_refused():
    """One table byte changed (benchmarks/fuzz_measured.py case 302: 6 -> 127): a pattern over the whole photo."""
    data = bytearray(encode(astronaut(), "JPEG", quality=90))
    at, entries = _dqt_entries(bytes(data))
    data[at + 24] = 127
    with pytest.raises(CorruptPhotoError, match=r"^damaged\.jpg is corrupt \(a quantisation table entry of 127"):
        load_photo("damaged.jpg", data=bytes(data))
    data[at + 24] = max(1, entries[24] + 2)  # a change within the table's own steps passes
    load_photo("nudged.jpg", data=bytes(data))


def test_a_clipped_staircase_is_refused_and_a_letterbox_edge_is_not():
    """A DC offset so large that the pixels clip (benchmarks/fuzz_measured.py seed 2 case 416, seed 0
    case 2907: Y -89 and -123 levels): the step varies with what it offsets, so the MAD test misses it,
    but it steps the same way along the whole staircase."""
    from lipsym.io import _jpeg_plausible

    rng = np.random.default_rng(5)
    ramp = np.linspace(20, 220, 512)[None, :, None]  # dark to light across the width: clipping varies
    rgb = np.clip(ramp + rng.normal(0, 8, (256, 512, 3)), 0, 255).astype(np.uint8)
    damaged = rgb.astype(np.int16)
    damaged[112:128, 256:] -= 180  # the rest of MCU row 7 from group 16 on ...
    damaged[128:] -= 180           # ... and everything below
    damaged = damaged.clip(0, 255).astype(np.uint8)
    steps = _jpeg_plausible.boundary_steps(damaged, 16, 16, 32)
    median, mad = _jpeg_plausible.staircase_scores(steps)
    assert abs(median[6, 16, 0]) < 4 * mad[6, 16, 0]  # the consistency test alone would pass it
    with pytest.raises(CorruptPhotoError, match="offset by"):
        _jpeg_plausible.check_dc_steps(damaged, _jpeg_plausible.JpegGrid((16, 16), 0.375), "clipped.jpg")
    letterbox = rgb.copy()
    letterbox[128:] = 0  # a bar from a block boundary on: one straight edge, no staircase
    _jpeg_plausible.check_dc_steps(letterbox, _jpeg_plausible.JpegGrid((16, 16), 0.375), "letterbox.jpg")


def test_a_zero_quantisation_entry_is_refused():
    """Forbidden by the standard; decodes to a grey photo without that coefficient (fuzz seed 2 case 1800)."""
    data = bytearray(encode(astronaut(), "JPEG", quality=90))
    at, _ = _dqt_entries(bytes(data))
    data[at] = 0  # the DC entry
    with pytest.raises(CorruptPhotoError, match="entry of 0, which the JPEG standard forbids"):
        load_photo("grey.jpg", data=bytes(data))
