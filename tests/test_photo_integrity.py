"""Integrity of loaded photos: damaged data is refused, memory is bounded, content decides the format.

Issue #15 (integrity under damage) and #14 (any readable image, decided by
content). Damaged photos are built from a real photo: a London JPEG when the
shared data is present, else ``sample_images/astronaut.png``.
"""

from __future__ import annotations

import importlib.util
import io
import struct
import sys
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from lipsym.errors import CorruptPhotoError, LipsymError, PhotoError, PhotoTooLargeError, TruncatedPhotoError
from lipsym.io import _decode, _limits, _photo, _pixels, _strict
from lipsym.io import load_photo, read_header

REPO = Path(__file__).resolve().parents[1]
LONDON_JPEG = REPO.parent / "shared" / "data" / "london_dev" / "neutral" / "001_03.jpg"
ASTRONAUT = REPO / "sample_images" / "astronaut.png"
DAMAGE_AT = (0.2, 0.35, 0.5, 0.65, 0.8, 0.95)  # fractions of the file


def heif_encoder() -> bool:
    try:
        import pillow_heif

        pillow_heif.register_heif_opener()
        Image.new("RGB", (64, 64)).save(io.BytesIO(), "HEIF")
    except (ImportError, OSError, ValueError, KeyError):
        return False
    return True


@pytest.fixture(scope="module")
def real_photo() -> tuple[bytes, np.ndarray]:
    """A real photograph: its JPEG bytes (the original file when it is one) and its pixels."""
    source = LONDON_JPEG if LONDON_JPEG.is_file() else ASTRONAUT
    rgb = np.asarray(Image.open(source).convert("RGB"))
    if source.suffix == ".jpg":
        return source.read_bytes(), rgb
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, "JPEG", quality=92)
    return buffer.getvalue(), rgb


def encoded(real_photo, fmt: str) -> bytes:
    jpeg, rgb = real_photo
    if fmt == "JPEG":
        return jpeg
    small = np.ascontiguousarray(rgb[::2, ::2])  # keeps HEIC encoding quick
    buffer = io.BytesIO()
    Image.fromarray(small).save(buffer, fmt, **({"quality": 85} if fmt in ("WEBP", "HEIF") else {}))
    return buffer.getvalue()


def damaged(data: bytes, fraction: float, seed: int = 15) -> bytes:
    """``data`` with 300 random bytes written over it at ``fraction`` of its length (issue #15's damage)."""
    out = bytearray(data)
    at = int(len(out) * fraction)
    out[at : at + 300] = np.random.default_rng(seed).integers(0, 256, 300, dtype=np.uint8).tobytes()
    return bytes(out)


def png_bytes(array: np.ndarray, *, declared_height_px: int | None = None) -> bytes:
    """An 8-bit RGB PNG whose header may declare more rows than its data holds."""
    height_px, width_px = array.shape[:2]
    raw = b"".join(b"\x00" + array[y].tobytes() for y in range(height_px))

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width_px, declared_height_px or height_px, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


# --- corrupt but decodable ---------------------------------------------------------------


class TestCorruptButDecodable:
    """Byte damage in a real photo is never measured as "ok"."""

    @pytest.mark.parametrize("fraction", DAMAGE_AT)
    def test_png_damage_is_a_corrupt_photo_error(self, real_photo, fraction, tmp_path):
        # Every PNG chunk carries a CRC: any damage to the image data is found.
        path = tmp_path / "damaged.png"
        path.write_bytes(damaged(encoded(real_photo, "PNG"), fraction))
        with pytest.raises(CorruptPhotoError) as info:
            load_photo(path)
        message = str(info.value)
        assert path.name in message and "\n" not in message

    def test_jpeg_damage_is_a_corrupt_photo_error(self, real_photo, tmp_path):
        """JPEG has no checksum, but damaged entropy-coded data almost always desynchronises libjpeg."""
        refused = 0
        for fraction in DAMAGE_AT:
            for seed in (15, 16, 17):
                try:
                    load_photo("damaged.jpg", data=damaged(real_photo[0], fraction, seed))
                except CorruptPhotoError as exc:
                    assert "damaged.jpg" in str(exc) and "\n" not in str(exc)
                    refused += 1
        assert refused >= len(DAMAGE_AT) * 3 - 2, refused

    @pytest.mark.parametrize("fraction", DAMAGE_AT)
    @pytest.mark.parametrize("fmt", ["JPEG", "WEBP", pytest.param("HEIF", marks=pytest.mark.skipif(
        not heif_encoder(), reason="pillow-heif cannot encode HEIC here"))])
    def test_damage_without_checksum(self, real_photo, fmt, fraction, tmp_path):
        """JPEG, WebP (VP8) and HEIC (HEVC) carry no checksum over their compressed data.

        Damage there either makes the decoder complain or fail (an error), or
        yields a different but *valid* bitstream: the format's decoders then
        report nothing, through OpenCV, Pillow or pillow-heif alike, so no
        loader can tell it from an unusual photo (docs/photos.md). The test
        pins exactly that: never "ok" unless an independent decode, run as
        strictly, agrees that it is a valid image.
        """
        data = damaged(encoded(real_photo, fmt), fraction)
        path = tmp_path / f"damaged.{fmt.lower()}"
        path.write_bytes(data)
        try:
            photo = load_photo(path)
        except PhotoError:
            return
        assert independent_decode(data, fmt).shape[:2] == photo.rgb.shape[:2]

    @pytest.mark.parametrize("fmt", ["WEBP", pytest.param("HEIF", marks=pytest.mark.skipif(
        not heif_encoder(), reason="pillow-heif cannot encode HEIC here"))])
    def test_damaged_container_is_refused(self, real_photo, fmt, tmp_path):
        # The container structure (RIFF sizes, ISO-BMFF boxes) is checked.
        data = bytearray(encoded(real_photo, fmt))
        data[12:40] = bytes(28)
        path = tmp_path / f"box.{fmt.lower()}"
        path.write_bytes(bytes(data))
        with pytest.raises(PhotoError):
            load_photo(path)

    def test_issue_jpeg_is_refused_and_nothing_reaches_stderr(self, real_photo, tmp_path, capfd):
        """Issue #15: 300 bytes overwritten mid-file; libjpeg's warning must not be printed raw."""
        path = tmp_path / "london.jpg"
        path.write_bytes(damaged(real_photo[0], 0.5))
        with pytest.raises(CorruptPhotoError, match="Corrupt JPEG data"):
            load_photo(path)
        captured = capfd.readouterr()
        assert captured.err == "" and captured.out == ""

    def test_png_with_half_its_rows_is_refused(self, tmp_path):
        """Issue #15: a header declaring 2700 rows over data holding 1350."""
        rows = np.random.default_rng(2).integers(0, 256, (1350, 64, 3), dtype=np.uint8)
        path = tmp_path / "short.png"
        path.write_bytes(png_bytes(rows, declared_height_px=2700))
        with pytest.raises(CorruptPhotoError, match="1350 of the 2700 rows"):
            load_photo(path)
        assert read_header(path).height_px == 2700  # the header alone is readable

    def test_interlaced_png_with_missing_rows_is_refused(self, tmp_path):
        # Interlaced PNGs go to the whole-image decoders; their rows are counted first.
        rgb = np.random.default_rng(3).integers(0, 256, (96, 96, 3), dtype=np.uint8)
        passes = ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2))
        raw = b"".join(b"\x00" + rgb[y, x0::dx].tobytes() for x0, y0, dx, dy in passes for y in range(y0, 96, dy))

        def chunk(kind: bytes, body: bytes) -> bytes:
            return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

        def interlaced(pixel_data: bytes) -> bytes:
            return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 96, 96, 8, 2, 0, 0, 1))
                    + chunk(b"IDAT", zlib.compress(pixel_data)) + chunk(b"IEND", b""))

        np.testing.assert_array_equal(load_photo("whole.png", data=interlaced(raw)).rgb, rgb)
        with pytest.raises(CorruptPhotoError):
            load_photo("short.png", data=interlaced(raw[: len(raw) * 3 // 4]))


def independent_decode(data: bytes, fmt: str) -> np.ndarray:
    """Decode with a second route that also reports any decoder complaint."""
    with _strict.strict_decoding("independent", fmt):
        if fmt == "WEBP":
            pixels = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
            assert pixels is not None
            return pixels
        if fmt == "JPEG":
            return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))  # Pillow's libjpeg, not OpenCV's
        import pillow_heif

        return np.asarray(pillow_heif.open_heif(io.BytesIO(data)))


def test_plausibility_check_catches_a_flat_grey_tail():
    rgb = np.random.default_rng(4).integers(0, 256, (400, 300, 3), dtype=np.uint8)
    _strict.check_plausible(rgb, "photo.jpg")
    rgb[-4:] = 128  # a few grey rows can be real (a backdrop): accepted
    _strict.check_plausible(rgb, "photo.jpg")
    rgb[-40:] = 128
    with pytest.raises(CorruptPhotoError, match="last 40 of 400"):
        _strict.check_plausible(rgb, "photo.jpg")
    rgb[360:363] = 7
    _strict.check_plausible(rgb, "photo.jpg")  # a band starting off an MCU row is not libjpeg's filling
    _strict.check_plausible(np.full((400, 300, 3), 128, np.uint8), "wall.jpg")  # grey throughout


def test_decoder_messages_about_metadata_are_not_errors():
    _strict.raise_if_damaged(["Corrupt EXIF data. Expecting to read 12 bytes", "Metadata Warning"], "a.tif", "TIFF")
    with pytest.raises(CorruptPhotoError, match="premature end"):
        _strict.raise_if_damaged(["Corrupt JPEG data: premature end of data segment"], "a.jpg", "JPEG")


# --- the strip decoder equals whole-image decoding ------------------------------------------


def png_variants() -> dict[str, bytes]:
    rng = np.random.default_rng(5)
    rgb = rng.integers(0, 256, (37, 53, 3), dtype=np.uint8)
    alpha = rng.integers(0, 256, (37, 53), dtype=np.uint8)
    out = {}
    for name, image, options in [
        ("rgb8", Image.fromarray(rgb), {}),
        ("rgba8", Image.fromarray(np.dstack([rgb, alpha])), {}),
        ("gray8", Image.fromarray(rgb[:, :, 0]), {}),
        ("la8", Image.fromarray(np.dstack([rgb[:, :, 0], alpha])), {}),
        ("bits1", Image.fromarray(rgb[:, :, 0] > 127), {}),
        ("palette", Image.fromarray(rgb).quantize(40), {}),
        ("palette-trns", Image.fromarray(rgb).quantize(40), {"transparency": 3}),
        ("palette4", Image.fromarray(rgb).quantize(12), {"bits": 4}),
        ("gray16", Image.fromarray(rng.integers(0, 65536, (37, 53), dtype=np.uint16)), {}),
    ]:
        buffer = io.BytesIO()
        image.save(buffer, "PNG", optimize=False, **options)
        out[name] = buffer.getvalue()
    rgba16 = rng.integers(0, 65536, (37, 53, 4), dtype=np.uint16)
    out["rgba16"] = cv2.imencode(".png", rgba16)[1].tobytes()
    out["rgb16"] = cv2.imencode(".png", rgba16[:, :, :3])[1].tobytes()
    return out


def whole_image_reference(data: bytes, reduction: int) -> np.ndarray:
    """What the whole-image decoders give (Pillow; OpenCV for 16-bit colour), converted the same way."""
    samples16 = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    if samples16.dtype == np.uint16 and samples16.ndim == 3:
        samples = samples16[:, :, [2, 1, 0, 3][: samples16.shape[2]]]
        return _pixels._reduce(_pixels._to_rgb8(samples, 65535), reduction)
    samples, max_value = _pixels._pil_pixels(Image.open(io.BytesIO(data)), "reference")
    return _pixels._reduce(_pixels._to_rgb8(samples, max_value), reduction)


@pytest.mark.parametrize("reduction", [1, 2, 4])
@pytest.mark.parametrize("name", sorted(png_variants()))
def test_png_strips_equal_whole_image_decoding(name, reduction, monkeypatch, tmp_path):
    monkeypatch.setattr(_pixels, "STRIP_BYTES", 200)  # many strips, including a short last one
    data = png_variants()[name]
    path = tmp_path / f"{name}.png"
    path.write_bytes(data)
    photo = load_photo(path, reduction=reduction, min_side_px=16)
    np.testing.assert_array_equal(photo.rgb, whole_image_reference(data, reduction))


def test_integer_compositing_is_exact():
    colour = np.arange(256, dtype=np.uint8).repeat(256)[:, None, None]
    alpha = np.tile(np.arange(256, dtype=np.uint8), 256)[:, None, None]
    exact = np.floor((colour.astype(np.float64) * alpha + 255.0 * (255 - alpha.astype(np.float64))) / 255 + 0.5)
    np.testing.assert_array_equal(_pixels._composite_over_white(colour, alpha, 255), exact.astype(np.uint8))
    c16, a16 = (np.array([[[65535]], [[1000]], [[40000]]], np.uint16), np.array([[[0]], [[65535]], [[32768]]], np.uint16))
    got = _pixels._composite_over_white(c16, a16, 65535)[:, 0, 0]
    want = np.floor((c16[:, 0, 0] * a16[:, 0, 0].astype(np.float64) + 65535.0 * (65535 - a16[:, 0, 0].astype(np.float64)))
                    * 255 / 65535**2 + 0.5)
    np.testing.assert_array_equal(got, want.astype(np.uint8))


# --- memory ------------------------------------------------------------------------------


def test_whole_image_decode_above_the_ceiling_is_refused_before_decoding(tmp_path, monkeypatch):
    path = tmp_path / "big.tiff"
    Image.fromarray(np.zeros((300, 400, 3), np.uint8)).save(path, "TIFF")
    monkeypatch.setattr(_limits, "MEMORY_CEILING_BYTES", 10_000_000)
    monkeypatch.setattr(Image.Image, "load", lambda self: pytest.fail("decoded above the ceiling"))
    with pytest.raises(PhotoTooLargeError, match="ceiling"):
        load_photo(path)


def test_png_decodes_in_strips_within_the_ceiling(tmp_path, monkeypatch):
    # A PNG's full-size samples never exist: 16-bit RGBA at 8 bytes/px would be 3.8 MB here.
    rgba16 = np.random.default_rng(6).integers(0, 65536, (600, 800, 4), dtype=np.uint16)
    path = tmp_path / "rgba16.png"
    cv2.imwrite(str(path), rgba16)
    monkeypatch.setattr(_decode, "_STRIP_WORKING_BYTES", 0)
    monkeypatch.setattr(_limits, "MEMORY_CEILING_BYTES", path.stat().st_size + 3 * 150 * 200)
    assert load_photo(path, reduction=4).rgb.shape == (150, 200, 3)


def test_out_of_memory_is_that_photos_error(tmp_path, monkeypatch):
    path = tmp_path / "p.png"
    Image.fromarray(np.zeros((80, 80, 3), np.uint8)).save(path)

    def exhausted(*args, **kwargs):
        raise MemoryError

    monkeypatch.setattr(_photo, "_decode_stored", exhausted)
    with pytest.raises(PhotoTooLargeError, match="memory") as info:
        load_photo(path)
    assert isinstance(info.value, LipsymError) and path.name in str(info.value)


# --- any readable image, decided by content ------------------------------------------------


def test_gif_named_png_loads_by_content(tmp_path):
    """Issue #14: GIF data in a .png file used to be refused, breaking a rest/smile pair."""
    rgb = np.zeros((96, 128, 3), np.uint8)
    rgb[:, 64:] = (200, 40, 40)
    rest, smile = tmp_path / "rest.jpg", tmp_path / "smile.png"
    Image.fromarray(rgb).save(rest, "JPEG")
    Image.fromarray(rgb).save(smile, "GIF")
    photos = [load_photo(rest), load_photo(smile)]
    assert [p.format for p in photos] == ["JPEG", "GIF"]
    np.testing.assert_array_equal(photos[1].rgb, rgb)
    assert photos[0].rgb.shape == photos[1].rgb.shape


@pytest.mark.parametrize("fmt", ["PPM", "QOI", "SGI", "PCX", "TGA", "ICO"])
def test_other_pillow_formats_load_whatever_the_name(tmp_path, fmt):
    rgb = np.random.default_rng(7).integers(0, 256, (96, 128, 3), dtype=np.uint8)
    path = tmp_path / "photo.jpg"  # the name lies on purpose
    try:
        Image.fromarray(rgb).save(path, fmt)
    except (OSError, KeyError):
        pytest.skip(f"Pillow cannot write {fmt} here")
    if fmt in ("TGA", "ICO"):
        # TGA has no signature and ICO claims TGA's first bytes; neither is
        # identified by content, so they are refused, with our error.
        with pytest.raises(LipsymError):
            load_photo(path)
        return
    photo = load_photo(path)
    assert photo.format == fmt
    np.testing.assert_array_equal(photo.rgb, rgb)


def test_truncated_other_format_is_refused(tmp_path):
    path = tmp_path / "cut.gif"
    Image.fromarray(np.random.default_rng(8).integers(0, 256, (96, 128, 3), dtype=np.uint8)).save(path, "GIF")
    path.write_bytes(path.read_bytes()[:400])
    with pytest.raises(TruncatedPhotoError):
        load_photo(path)


# --- fuzzing -------------------------------------------------------------------------------


@pytest.mark.slow
def test_fuzzed_photos_raise_only_lipsym_errors():
    spec = importlib.util.spec_from_file_location("fuzz_photos", REPO / "benchmarks" / "fuzz_photos.py")
    fuzz = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = fuzz  # dataclasses look their module up there
    spec.loader.exec_module(fuzz)
    summary = fuzz.run(seconds=10, seed=1)
    assert summary.cases > 100
    assert summary.crashes == [], summary.report()


@pytest.mark.slow
def test_damaged_face_photos_through_the_whole_analysis_raise_only_lipsym_errors():
    """benchmarks/fuzz_measured.py: damaged face photos, loaded and analysed, fail only with a LipsymError."""
    spec = importlib.util.spec_from_file_location("fuzz_measured", REPO / "benchmarks" / "fuzz_measured.py")
    fuzz = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = fuzz
    spec.loader.exec_module(fuzz)
    import collections

    result = fuzz.run(cases=300, seed=1)
    counts = sum(result["counts"].values(), start=collections.Counter())
    assert counts["cases"] == 300
    assert counts["loaded with other pixels"] > 0  # the analysis was reached
    assert result["crashes"] == [], result["crashes"][:5]


@pytest.mark.slow
def test_the_damaged_faces_measured_wrongly_stay_few():
    """benchmarks/fuzz_measured.py, seed 0, 3000 mutants (docs/photos.md "Garbage patches"): none measured
    and moved on the machine of 3 December 2026 (16 two sessions before; the last three were Cupid's-bow
    moves of 0.14-0.16 mm, within the recalibrated standard error). The largest of the 16 (JPEG 1700:
    +77 mm², 2907: +24 mm², HEIC 2758: 7.3 mm, 1237: 1.6 mm, progressive JPEG 206: 1.2 mm) and every
    GIF one are refused."""
    spec = importlib.util.spec_from_file_location("fuzz_measured", REPO / "benchmarks" / "fuzz_measured.py")
    fuzz = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = fuzz
    spec.loader.exec_module(fuzz)

    result = fuzz.run(cases=3000, seed=0)
    moved = {m["case"]: m for m in result["moved"]}
    largest = {1700, 2907, 2758, 1237, 206}
    assert not largest & set(moved), [moved[c] for c in largest & set(moved)]
    assert not [m for m in moved.values() if m["format"] == "gif"]
    assert all(m["move"] < 0.5 for m in moved.values()), list(moved.values())
    # Two of margin for another CPU's MediaPipe numerics (docs/accuracy.md).
    assert len(moved) <= 2, sorted((m["format"], m["case"], round(m["move"], 2)) for m in moved.values())
