"""Tests of lipsym.io: formats, orientation, guards, reduced decoding.

Every image is generated in tmp_path; no binary test file is committed.
"""

from __future__ import annotations

import dataclasses
import io
import pathlib
import struct
import warnings
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image, ImageOps

from lipsym.errors import (
    ConfigurationError,
    NotAnImageError,
    PhotoError,
    PhotoNotFoundError,
    PhotoTooLargeError,
    PhotoTooSmallError,
    TruncatedPhotoError,
    UnreadablePhotoError,
)
from lipsym.io import _decode, _photo
from lipsym.io import (
    MAX_PIXELS,
    Photo,
    choose_reduction,
    load_photo,
    load_region,
    photo_from_array,
    read_header,
    read_photo_bytes,
)

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
BLOCK_PX = 16  # pattern blocks align with JPEG MCUs, so JPEG keeps them flat


# --- helpers --------------------------------------------------------------------


def pattern(width_px: int = 160, height_px: int = 96) -> np.ndarray:
    """An upright RGB test image with no symmetry: red grows rightwards, green downwards."""
    ys, xs = np.mgrid[0:height_px, 0:width_px]
    bx, by = xs // BLOCK_PX, ys // BLOCK_PX
    rgb = np.stack(
        [10 + 22 * bx, 20 + 35 * by, 100 + 40 * ((bx + 2 * by) % 4)], axis=-1
    )
    return np.clip(rgb, 0, 255).astype(np.uint8)


# What a viewer does to the stored pixels for each EXIF orientation (EXIF 2.32, 4.6.4).
DISPLAY = {
    1: lambda s: s,
    2: lambda s: s[:, ::-1],
    3: lambda s: s[::-1, ::-1],
    4: lambda s: s[::-1, :],
    5: lambda s: s.transpose(1, 0, 2),
    6: lambda s: np.rot90(s, -1),
    7: lambda s: np.rot90(s, 2).transpose(1, 0, 2),
    8: lambda s: np.rot90(s, 1),
}
# Inverse of DISPLAY: the pixels to store so that a viewer shows the upright image.
STORE = {**{o: DISPLAY[o] for o in (1, 2, 3, 4, 5, 7)}, 6: DISPLAY[8], 8: DISPLAY[6]}


def exif_bytes(orientation: int) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = orientation
    return exif.tobytes()


def save(path: Path, array: np.ndarray, fmt: str, **options) -> Path:
    Image.fromarray(array).save(path, fmt, **options)
    return path


def save_jpeg(path: Path, array: np.ndarray, orientation: int | None = None, **options) -> Path:
    options.setdefault("quality", 95)
    options.setdefault("subsampling", 0)  # 4:2:0 chroma would blur the pattern's block edges
    if orientation is not None:
        options["exif"] = exif_bytes(orientation)
    return save(path, array, "JPEG", **options)


def save_upright_with_orientation(path: Path, upright: np.ndarray, orientation: int, **options) -> Path:
    """A JPEG that a viewer shows as ``upright``, stored rotated/flipped per ``orientation``."""
    stored = np.ascontiguousarray(STORE[orientation](upright))
    return save_jpeg(path, stored, orientation=orientation, **options)


def png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def crafted_png(width_px: int, height_px: int) -> bytes:
    """A tiny PNG whose IHDR declares any size (its pixel data is nonsense)."""
    ihdr = struct.pack(">IIBBBBB", width_px, height_px, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", ihdr)
        + png_chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + png_chunk(b"IEND", b"")
    )


def assert_good_message(exc: BaseException, path: Path) -> None:
    message = str(exc)
    assert "\n" not in message and "\r" not in message, message
    assert path.name in message, message


def raises_photo_error(kind: type[PhotoError], path: Path, **kwargs) -> PhotoError:
    with pytest.raises(kind) as info:
        load_photo(path, **kwargs)
    assert_good_message(info.value, path)
    return info.value


def block_means_close(got: np.ndarray, want: np.ndarray, *, mean_tol: float, max_tol: int) -> None:
    assert got.shape == want.shape
    diff = np.abs(got.astype(np.int16) - want.astype(np.int16))
    assert diff.mean() <= mean_tol and diff.max() <= max_tol, (diff.mean(), diff.max())


def heif_available() -> bool:
    try:
        import pillow_heif

        pillow_heif.register_heif_opener()
        Image.new("RGB", (64, 64)).save(io.BytesIO(), "HEIF")
    except Exception:
        return False
    return True


needs_heif = pytest.mark.skipif(not heif_available(), reason="pillow-heif cannot encode HEIC here")


@pytest.fixture(autouse=True)
def no_block_plausibility(monkeypatch):
    """These tests follow flat 16-px blocks through every decoder and orientation.

    Blocks of flat colour that jump at every block boundary are exactly what
    the decoded-pixel checks refuse as codec garbage (lipsym.io._plausible:
    from a block row on, or as patches) or, in a JPEG, as a damaged DC value
    (lipsym.io._jpeg_plausible), so all three are switched off here; tests/test_photo_plausibility.py tests them.
    """
    monkeypatch.setattr(_decode, "check_blocks_plausible", lambda *args, **kwargs: None)
    monkeypatch.setattr(_decode, "check_dc_steps", lambda *args, **kwargs: None)
    monkeypatch.setattr(_decode, "check_garbage_patches", lambda *args, **kwargs: None)


@pytest.fixture
def upright() -> np.ndarray:
    return pattern()


# --- formats --------------------------------------------------------------------

LOSSLESS = {
    "PNG": {},
    "TIFF": {},
    "TIFF_DEFLATE": {"compression": "tiff_deflate"},
    "BMP": {},
    "WEBP": {"lossless": True},
}


@pytest.mark.parametrize("name", sorted(LOSSLESS))
def test_lossless_formats_round_trip_exactly(tmp_path, upright, name):
    fmt = name.split("_")[0]
    path = save(tmp_path / f"p.{fmt.lower()}", upright, fmt, **LOSSLESS[name])
    photo = load_photo(path)
    assert photo.format == fmt
    assert photo.source_mode == "RGB" and photo.bit_depth == 8
    np.testing.assert_array_equal(photo.rgb, upright)


def test_jpeg_round_trips_within_tolerance(tmp_path, upright):
    photo = load_photo(save_jpeg(tmp_path / "p.jpg", upright))
    assert (photo.format, photo.orientation, photo.reduction) == ("JPEG", 1, 1)
    block_means_close(photo.rgb, upright, mean_tol=2.0, max_tol=12)


def test_lossy_webp_round_trips_within_tolerance(tmp_path, upright):
    photo = load_photo(save(tmp_path / "p.webp", upright, "WEBP", quality=95))
    block_means_close(photo.rgb, upright, mean_tol=3.0, max_tol=60)


@needs_heif
def test_heic_round_trips_within_tolerance(tmp_path, upright):
    photo = load_photo(save(tmp_path / "p.heic", upright, "HEIF", quality=95))
    assert photo.format == "HEIF" and photo.bit_depth == 8
    block_means_close(photo.rgb, upright, mean_tol=4.0, max_tol=90)


@needs_heif
def test_heic_orientation_is_applied_once(tmp_path, upright):
    stored = np.ascontiguousarray(STORE[6](upright))
    path = save(tmp_path / "p.heic", stored, "HEIF", quality=95, exif=exif_bytes(6))
    header = read_header(path)
    assert (header.width_px, header.height_px, header.orientation) == (160, 96, 6)
    photo = load_photo(path)
    assert photo.orientation == 6
    block_means_close(photo.rgb, upright, mean_tol=4.0, max_tol=90)


def test_mpo_style_trailer_after_eoi_is_accepted(tmp_path, upright):
    path = save_jpeg(tmp_path / "p.jpg", upright)
    path.write_bytes(path.read_bytes() + b"SEFH" + bytes(range(256)) * 8 + b"\xff\xd8\xff\xe1junk")
    block_means_close(load_photo(path).rgb, upright, mean_tol=2.0, max_tol=12)


@pytest.mark.parametrize("options", [{"progressive": True}, {"restart_marker_blocks": 1}])
def test_jpeg_variants_load(tmp_path, upright, options):
    path = save_jpeg(tmp_path / "p.jpg", upright, **options)
    block_means_close(load_photo(path).rgb, upright, mean_tol=2.0, max_tol=12)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) * 2 // 3])
    raises_photo_error(TruncatedPhotoError, path)


def test_opencv_and_pillow_jpeg_decoders_agree(tmp_path):
    noisy = np.random.default_rng(1).integers(0, 256, (97, 131, 3), dtype=np.uint8)
    path = save_jpeg(tmp_path / "noise.jpg", noisy, quality=90)
    ours = load_photo(path).rgb
    pillow = np.asarray(Image.open(path).convert("RGB"))
    assert np.abs(ours.astype(int) - pillow).max() <= 2


# --- orientation ----------------------------------------------------------------


def test_display_table_matches_pillow_exif_transpose(tmp_path, upright):
    for orientation in range(1, 9):
        stored = np.ascontiguousarray(STORE[orientation](upright))
        np.testing.assert_array_equal(DISPLAY[orientation](stored), upright)
        image = Image.fromarray(stored)
        image.getexif()[0x0112] = orientation
        np.testing.assert_array_equal(np.asarray(ImageOps.exif_transpose(image)), upright)


@pytest.mark.parametrize("orientation", range(1, 9))
def test_jpeg_exif_orientation_is_applied(tmp_path, upright, orientation):
    path = save_upright_with_orientation(tmp_path / f"o{orientation}.jpg", upright, orientation)
    header = read_header(path)
    assert (header.width_px, header.height_px, header.orientation) == (160, 96, orientation)
    photo = load_photo(path)
    assert photo.orientation == orientation
    assert (photo.original_width_px, photo.original_height_px) == (160, 96)
    block_means_close(photo.rgb, upright, mean_tol=2.0, max_tol=12)
    half = load_photo(path, reduction=2)
    assert half.orientation == orientation and half.rgb.shape == (48, 80, 3)
    assert (half.original_width_px, half.original_height_px) == (160, 96)
    block_means_close(half.rgb, upright[::2, ::2], mean_tol=2.0, max_tol=16)


@pytest.mark.parametrize("orientation", [3, 6, 8])
def test_orientation_in_png_and_tiff(tmp_path, upright, orientation):
    stored = np.ascontiguousarray(STORE[orientation](upright))
    for fmt in ("PNG", "TIFF", "WEBP"):
        options = {"lossless": True} if fmt == "WEBP" else {}
        path = save(tmp_path / f"p.{fmt.lower()}", stored, fmt, exif=exif_bytes(orientation), **options)
        photo = load_photo(path)
        assert photo.orientation == orientation, fmt
        np.testing.assert_array_equal(photo.rgb, upright)


def test_png_exif_after_pixel_data_is_found_without_decoding(tmp_path, upright, monkeypatch):
    data = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(STORE[6](upright))).save(data, "PNG")
    body = data.getvalue()
    late = body[:-12] + png_chunk(b"eXIf", exif_bytes(6)[6:]) + body[-12:]  # before IEND
    path = tmp_path / "late.png"
    path.write_bytes(late)
    with monkeypatch.context() as patch:
        patch.setattr(Image.Image, "load", lambda self: pytest.fail("header read decoded pixels"))
        header = read_header(path)
    assert (header.width_px, header.height_px, header.orientation) == (160, 96, 6)
    np.testing.assert_array_equal(load_photo(path).rgb, upright)


def test_invalid_orientation_value_means_none(tmp_path, upright):
    path = save_jpeg(tmp_path / "bad.jpg", upright, orientation=9)
    photo = load_photo(path)
    assert photo.orientation == 1
    block_means_close(photo.rgb, upright, mean_tol=2.0, max_tol=12)


def test_corrupt_exif_means_no_orientation(tmp_path, upright):
    path = save_jpeg(tmp_path / "badexif.jpg", upright, orientation=6)
    data = bytearray(path.read_bytes())
    start = data.index(b"Exif\x00\x00") + 6
    data[start : start + 24] = b"\xab" * 24  # TIFF header and IFD become garbage
    path.write_bytes(bytes(data))
    photo = load_photo(path)
    assert photo.orientation == 1
    block_means_close(photo.rgb, upright, mean_tol=2.0, max_tol=12)


# --- modes ----------------------------------------------------------------------


def rounded_8bit(samples16: np.ndarray) -> np.ndarray:
    return np.round(samples16.astype(np.float64) * 255 / 65535).astype(np.uint8)


@pytest.mark.parametrize("ext", [".png", ".tiff"])
def test_16bit_colour_is_scaled_not_truncated(tmp_path, ext):
    rng = np.random.default_rng(2)
    rgb16 = rng.integers(0, 65536, (70, 90, 3), dtype=np.uint16)
    rgb16[0, :3] = [[128, 383, 65535], [129, 0, 65407], [32767, 32768, 257]]  # rounding edge cases
    path = tmp_path / f"c16{ext}"
    assert cv2.imwrite(str(path), rgb16[:, :, ::-1])
    photo = load_photo(path)
    assert photo.bit_depth == 16 and photo.source_mode == "RGB"
    np.testing.assert_array_equal(photo.rgb, rounded_8bit(rgb16))


@pytest.mark.parametrize("fmt", ["PNG", "TIFF"])
def test_16bit_grayscale(tmp_path, fmt):
    gray16 = np.random.default_rng(3).integers(0, 65536, (70, 90), dtype=np.uint16)
    photo = load_photo(save(tmp_path / f"g16.{fmt.lower()}", gray16, fmt))
    assert photo.bit_depth == 16 and photo.source_mode.startswith("I;16")
    expected = rounded_8bit(gray16)
    np.testing.assert_array_equal(photo.rgb, np.dstack([expected] * 3))


def test_16bit_rgba_is_composited_over_white(tmp_path):
    rgba16 = np.zeros((64, 64, 4), np.uint16)
    rgba16[..., 0] = 65535  # red
    rgba16[:, :32, 3] = 65535  # left opaque, right transparent
    path = tmp_path / "a16.png"
    assert cv2.imwrite(str(path), rgba16[..., [2, 1, 0, 3]])
    rgb = load_photo(path).rgb
    assert (rgb[:, :32] == [255, 0, 0]).all() and (rgb[:, 32:] == 255).all()


def tiff_16bit_rgb(rgb16: np.ndarray, orientation: int) -> bytes:
    """An uncompressed little-endian 16-bit RGB TIFF with an orientation tag."""
    height_px, width_px, _ = rgb16.shape
    pixels = rgb16.astype("<u2").tobytes()
    entries = [  # tag, type (3 SHORT, 4 LONG), count, value
        (256, 4, 1, width_px), (257, 4, 1, height_px), (258, 3, 3, None), (259, 3, 1, 1),
        (262, 3, 1, 2), (273, 4, 1, None), (274, 3, 1, orientation), (277, 3, 1, 3),
        (278, 4, 1, height_px), (279, 4, 1, len(pixels)), (284, 3, 1, 1),
    ]
    ifd_size = 2 + 12 * len(entries) + 4
    bits_at = 8 + ifd_size
    pixels_at = bits_at + 6
    ifd = struct.pack("<H", len(entries))
    for tag, kind, count, value in entries:
        value = {258: bits_at, 273: pixels_at}.get(tag, value)
        packed = struct.pack("<HI", value, 0)[:4] if kind == 3 and count == 1 else struct.pack("<I", value)
        ifd += struct.pack("<HHI", tag, kind, count) + packed
    ifd += struct.pack("<I", 0)
    return b"II*\x00" + struct.pack("<I", 8) + ifd + struct.pack("<HHH", 16, 16, 16) + pixels


@pytest.mark.parametrize("orientation", [1, 2, 6, 7])
def test_16bit_tiff_and_png_with_orientation(tmp_path, orientation):
    upright16 = (pattern(160, 96).astype(np.uint16) * 257 + 100).astype(np.uint16)
    stored16 = np.ascontiguousarray(STORE[orientation](upright16))
    tiff = tmp_path / "o.tiff"
    tiff.write_bytes(tiff_16bit_rgb(stored16, orientation))
    png = tmp_path / "o.png"
    assert cv2.imwrite(str(png), stored16[:, :, ::-1])
    body = png.read_bytes()
    png.write_bytes(body[:-12] + png_chunk(b"eXIf", exif_bytes(orientation)[6:]) + body[-12:])
    for path in (tiff, png):
        header = read_header(path)
        assert (header.width_px, header.height_px, header.orientation, header.bit_depth) == (
            160, 96, orientation, 16
        )
        photo = load_photo(path)
        np.testing.assert_array_equal(photo.rgb, rounded_8bit(upright16), err_msg=path.name)
        assert load_photo(path, reduction=2).rgb.shape == (48, 80, 3)


def test_grayscale_jpeg_and_png(tmp_path, upright):
    gray = upright[..., 1]
    np.testing.assert_array_equal(load_photo(save(tmp_path / "g.png", gray, "PNG")).rgb, np.dstack([gray] * 3))
    photo = load_photo(save_jpeg(tmp_path / "g.jpg", gray))
    assert photo.source_mode == "L"
    block_means_close(photo.rgb, np.dstack([gray] * 3), mean_tol=2.0, max_tol=12)


def test_rgba_is_composited_over_white(tmp_path, upright):
    alpha = np.full(upright.shape[:2], 255, np.uint8)
    alpha[:, :32] = 0
    alpha[:, 32:64] = 128
    photo = load_photo(save(tmp_path / "a.png", np.dstack([upright, alpha]), "PNG"))
    assert photo.source_mode == "RGBA"
    assert (photo.rgb[:, :32] == 255).all()
    half = np.round(upright[:, 32:64] * (128 / 255) + 255 * (127 / 255))
    assert np.abs(photo.rgb[:, 32:64] - half).max() <= 1
    np.testing.assert_array_equal(photo.rgb[:, 64:], upright[:, 64:])


def test_gray_alpha_png(tmp_path):
    la = np.zeros((64, 64, 2), np.uint8)
    la[..., 0] = 40
    la[:, 32:, 1] = 255
    photo = load_photo(save(tmp_path / "la.png", la, "PNG"))
    assert (photo.rgb[:, :32] == 255).all() and (photo.rgb[:, 32:] == 40).all()


def test_palette_png_with_and_without_transparency(tmp_path, upright):
    palette_image = Image.fromarray(upright).quantize(colors=64)
    palette_image.save(tmp_path / "p.png")
    photo = load_photo(tmp_path / "p.png")
    assert photo.source_mode == "P"
    np.testing.assert_array_equal(photo.rgb, np.asarray(palette_image.convert("RGB")))
    transparent_index = palette_image.getpixel((0, 0))
    palette_image.save(tmp_path / "t.png", transparency=transparent_index)
    rgb = load_photo(tmp_path / "t.png").rgb
    assert (rgb[:BLOCK_PX, :BLOCK_PX] == 255).all()


def test_cmyk_jpeg(tmp_path, upright):
    path = tmp_path / "cmyk.jpg"
    Image.fromarray(upright).convert("CMYK").save(path, "JPEG", quality=95)
    photo = load_photo(path, reduction=2)
    assert photo.source_mode == "CMYK" and photo.rgb.shape == (48, 80, 3)
    block_means_close(load_photo(path).rgb, upright, mean_tol=2.0, max_tol=12)


def test_bilevel_png(tmp_path):
    bits = np.zeros((64, 64), bool)
    bits[:, 32:] = True
    rgb = load_photo(save(tmp_path / "b.png", bits, "PNG")).rgb
    assert (rgb[:, :32] == 0).all() and (rgb[:, 32:] == 255).all()


# --- guards ---------------------------------------------------------------------


def half_of(path: Path) -> Path:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


NOISE = np.random.default_rng(4).integers(0, 256, (120, 160, 3), dtype=np.uint8)


@pytest.mark.parametrize(
    ("fmt", "options"),
    [("JPEG", {}), ("PNG", {}), ("TIFF", {}), ("WEBP", {}), ("BMP", {})],
)
def test_truncated_files(tmp_path, fmt, options):
    path = half_of(save(tmp_path / f"cut.{fmt.lower()}", NOISE, fmt, **options))
    raises_photo_error(TruncatedPhotoError, path)


@needs_heif
def test_truncated_heic(tmp_path):
    raises_photo_error(TruncatedPhotoError, half_of(save(tmp_path / "cut.heic", NOISE, "HEIF")))


def test_truncated_jpeg_padded_with_zeros(tmp_path):
    path = save_jpeg(tmp_path / "pad.jpg", NOISE)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2] + bytes(len(data) - len(data) // 2))
    raises_photo_error(TruncatedPhotoError, path)


def test_jpeg_cut_inside_header(tmp_path):
    path = save_jpeg(tmp_path / "head.jpg", NOISE, orientation=6)
    path.write_bytes(path.read_bytes()[:60])
    raises_photo_error(TruncatedPhotoError, path)


def test_png_without_iend_is_truncated(tmp_path):
    path = save(tmp_path / "noend.png", NOISE, "PNG")
    path.write_bytes(path.read_bytes()[:-12])
    raises_photo_error(TruncatedPhotoError, path)


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("notes.jpg", b"This is a text file, renamed.\nSecond line.\n"),
        ("empty.jpg", b""),
        ("random.png", bytes(np.random.default_rng(5).integers(0, 256, 4096, dtype=np.uint8))),
        ("movie.heic", b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + bytes(64)),
    ],
)
def test_non_images(tmp_path, name, content):
    path = tmp_path / name
    path.write_bytes(content)
    raises_photo_error(NotAnImageError, path)
    with pytest.raises(NotAnImageError):
        read_header(path)


def test_format_whose_plugin_runs_a_program_is_refused(tmp_path, upright):
    # EPS would go to Ghostscript; GIF and the other Pillow formats are accepted (test_photo_integrity).
    raises_photo_error(NotAnImageError, save(tmp_path / "page.png", upright, "EPS"))


def test_missing_file_and_directory(tmp_path):
    raises_photo_error(PhotoNotFoundError, tmp_path / "nope.jpg")
    folder = tmp_path / "folder.jpg"
    folder.mkdir()
    raises_photo_error(PhotoNotFoundError, folder)
    with pytest.raises(PhotoNotFoundError):
        read_header(folder)


def test_unreadable_file(tmp_path, upright, monkeypatch):
    path = save_jpeg(tmp_path / "locked.jpg", upright)

    def refuse(self, *args, **kwargs):
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(pathlib.Path, "open", refuse)
    raises_photo_error(UnreadablePhotoError, path)
    with pytest.raises(UnreadablePhotoError):
        read_header(path)


def test_file_name_with_newline_stays_on_one_line(tmp_path):
    path = tmp_path / "bad\nname.jpg"
    path.write_bytes(b"hello")
    with pytest.raises(NotAnImageError) as info:
        load_photo(path)
    assert "\n" not in str(info.value) and "name.jpg" in str(info.value)


def test_too_small(tmp_path):
    raises_photo_error(PhotoTooSmallError, save(tmp_path / "tiny.png", pattern(20, 20), "PNG"))
    raises_photo_error(PhotoTooSmallError, save(tmp_path / "thin.jpg", pattern(640, 48), "JPEG"))
    assert load_photo(tmp_path / "tiny.png", min_side_px=16).rgb.shape == (20, 20, 3)


def test_max_pixels_keyword(tmp_path, upright):
    path = save_jpeg(tmp_path / "p.jpg", upright)
    raises_photo_error(PhotoTooLargeError, path, max_pixels=160 * 96 - 1)
    assert load_photo(path, max_pixels=160 * 96).rgb.shape == (96, 160, 3)


def test_huge_png_header_is_refused_before_decoding(tmp_path, monkeypatch):
    path = tmp_path / "bomb.png"
    path.write_bytes(crafted_png(30000, 30000))
    header = read_header(path)
    assert (header.width_px, header.height_px) == (30000, 30000)
    monkeypatch.setattr(_photo, "_decode_stored", lambda *a, **k: pytest.fail("decoded a bomb"))
    error = raises_photo_error(PhotoTooLargeError, path)
    assert str(MAX_PIXELS // 1_000_000) in str(error)


def test_huge_jpeg_header_is_refused_before_decoding(tmp_path, upright, monkeypatch):
    data = bytearray(save_jpeg(tmp_path / "small.jpg", upright).read_bytes())
    sof = data.index(b"\xff\xc0")
    data[sof + 5 : sof + 9] = struct.pack(">HH", 60000, 60000)
    path = tmp_path / "bomb.jpg"
    path.write_bytes(bytes(data))
    monkeypatch.setattr(cv2, "imdecode", lambda *a, **k: pytest.fail("decoded a bomb"))
    raises_photo_error(PhotoTooLargeError, path)


def test_pillow_bomb_limit_becomes_our_error(tmp_path, monkeypatch):
    tiff = save(tmp_path / "p.tiff", pattern(100, 100), "TIFF")
    png = save(tmp_path / "p.png", pattern(100, 100), "PNG")
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    raises_photo_error(PhotoTooLargeError, tiff)  # Pillow's error at TIFF decode, translated
    assert load_photo(png).rgb.shape == (100, 100, 3)  # our limit, not Pillow's, governs
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 6000)  # between Pillow's warning and error
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert load_photo(tiff).rgb.shape == (100, 100, 3)


def test_bad_arguments():
    with pytest.raises(ConfigurationError):
        load_photo("whatever.jpg", reduction=3)
    with pytest.raises(ConfigurationError):
        load_photo("whatever.jpg", max_pixels=0)


# --- resolution and coordinates ---------------------------------------------------


def dot_image(width_px: int, height_px: int, dots_px: list[tuple[int, int]]) -> np.ndarray:
    image = np.zeros((height_px, width_px, 3), np.uint8)
    for x_px, y_px in dots_px:
        image[max(y_px - 2, 0) : y_px + 3, max(x_px - 2, 0) : x_px + 3] = 255
    return image


def bright_centroid(rgb: np.ndarray) -> np.ndarray:
    weight = rgb.astype(np.float64).sum(axis=2)
    ys, xs = np.mgrid[0 : rgb.shape[0], 0 : rgb.shape[1]]
    return np.array([(weight * xs).sum(), (weight * ys).sum()]) / weight.sum()


def centroid_near(rgb: np.ndarray, xy: np.ndarray, radius_px: int = 4) -> np.ndarray:
    x0, y0 = (int(round(v)) - radius_px for v in xy)
    x0, y0 = max(x0, 0), max(y0, 0)
    window = rgb[y0 : y0 + 2 * radius_px + 1, x0 : x0 + 2 * radius_px + 1]
    return bright_centroid(window) + [x0, y0]


ODD_W_PX, ODD_H_PX = 1001, 777
# Away from the borders, where edge replication would pull the centroid.
DOTS_PX = [(500, 300), (993, 769), (993, 8), (8, 769), (8, 8)]


def save_dots(path: Path, orientation: int) -> Path:
    """Dots at DOTS_PX in the upright photo, stored rotated/flipped with an orientation tag."""
    stored = np.ascontiguousarray(STORE[orientation](dot_image(ODD_W_PX, ODD_H_PX, DOTS_PX)))
    fmt = {".jpg": "JPEG", ".png": "PNG", ".tiff": "TIFF"}[path.suffix]
    options = {"quality": 100, "subsampling": 0} if fmt == "JPEG" else {}
    return save(path, stored, fmt, exif=exif_bytes(orientation), **options)


@pytest.mark.parametrize("ext", [".jpg", ".png", ".tiff"])
@pytest.mark.parametrize("orientation", range(1, 9))
def test_dots_map_back_to_their_original_pixels(tmp_path, ext, orientation):
    path = save_dots(tmp_path / f"dots{ext}", orientation)
    for reduction in (2, 4):
        photo = load_photo(path, reduction=reduction)
        assert (photo.original_width_px, photo.original_height_px) == (ODD_W_PX, ODD_H_PX)
        assert photo.rgb.shape == (-(-ODD_H_PX // reduction), -(-ODD_W_PX // reduction), 3)
        for dot in DOTS_PX:
            found = photo.to_original_px(centroid_near(photo.rgb, photo.from_original_px(dot)))
            np.testing.assert_allclose(found, dot, atol=0.5, err_msg=f"r={reduction} dot={dot}")


def test_grid_offset_for_reversed_odd_axis(tmp_path):
    photo = load_photo(save_dots(tmp_path / "d6.jpg", 6), reduction=2)
    assert photo.grid_offset_px == (1, 0)  # 2 * 501 - 1001 on the reversed x axis
    assert load_photo(save_dots(tmp_path / "d1.jpg", 1), reduction=2).grid_offset_px == (0, 0)


def test_coordinate_round_trip_and_conventions(tmp_path):
    photo = load_photo(save(tmp_path / "odd.png", pattern(1001, 777), "PNG"), reduction=2)
    assert photo.scale_to_original == (2.0, 2.0)
    points = np.random.default_rng(6).uniform(-1, 600, (5, 7, 2))
    np.testing.assert_allclose(photo.from_original_px(photo.to_original_px(points)), points)
    # decoded pixel 0 averages original pixels 0 and 1: its centre is at 0.5
    np.testing.assert_allclose(photo.to_original_px([0.0, 0.0]), [0.5, 0.5])
    full = photo_from_array(pattern())
    np.testing.assert_allclose(full.to_original_px(points), points)
    with pytest.raises(ConfigurationError):
        photo.to_original_px(np.zeros((4, 3)))


@pytest.mark.parametrize("reduction", [4, 8])
def test_reduced_decoding_sizes(tmp_path, reduction):
    path = save_jpeg(tmp_path / "p.jpg", pattern(1001, 777))
    photo = load_photo(path, reduction=reduction)
    assert photo.rgb.shape == (-(-777 // reduction), -(-1001 // reduction), 3)
    assert photo.reduction == reduction


def test_choose_reduction():
    assert choose_reduction(6000, 4000) == 2
    assert choose_reduction(4000, 6000) == 2
    assert choose_reduction(1350, 1350) == 1
    assert choose_reduction(16000, 12000) == 8
    assert choose_reduction(6000, 4000, face_width_px=1700) == 2
    assert choose_reduction(6000, 4000, face_width_px=3300) == 4
    assert choose_reduction(6000, 4000, face_width_px=500) == 1
    assert choose_reduction(6000, 4000, face_width_px=9000) == 8
    with pytest.raises(ConfigurationError):
        choose_reduction(0, 100)
    with pytest.raises(ConfigurationError):
        choose_reduction(100, 100, face_width_px=-3)


# --- Photo, arrays, regions --------------------------------------------------------


def test_photo_is_read_only(tmp_path, upright):
    photo = load_photo(save(tmp_path / "p.png", upright, "PNG"))
    assert not photo.rgb.flags.writeable and photo.rgb.flags.c_contiguous
    assert photo.rgb.dtype == np.uint8 and photo.path == tmp_path / "p.png"
    with pytest.raises(ValueError):
        photo.rgb[0, 0] = 0
    with pytest.raises(dataclasses.FrozenInstanceError):
        photo.reduction = 2  # type: ignore[misc]


def test_photo_from_array(upright):
    source = upright.copy()
    photo = photo_from_array(source)
    source[:] = 0
    np.testing.assert_array_equal(photo.rgb, upright)
    assert (photo.reduction, photo.orientation, photo.path, photo.format) == (1, 1, None, "ARRAY")
    assert not photo.rgb.flags.writeable
    gray = photo_from_array(upright[..., 0])
    assert gray.rgb.shape == (96, 160, 3) and gray.source_mode == "L"
    for bad in (upright.astype(np.float32), upright[..., :2], np.zeros((0, 5, 3), np.uint8)):
        with pytest.raises(ConfigurationError):
            photo_from_array(bad)


def test_photo_constructor_freezes_a_writable_array(upright):
    photo = Photo(None, upright, 160, 96, 1, 1, "ARRAY", "RGB", 8)
    assert not photo.rgb.flags.writeable and upright.flags.writeable


def test_load_region_respects_orientation(tmp_path, upright):
    path = save_upright_with_orientation(tmp_path / "r.jpg", upright, 8)
    region = load_region(path, (20, 10, 70, 50))
    assert region.shape == (40, 50, 3) and region.flags.writeable
    np.testing.assert_array_equal(region, load_photo(path).rgb[10:50, 20:70])
    block_means_close(region, upright[10:50, 20:70], mean_tol=2.0, max_tol=12)
    assert load_region(path, (150.5, 90, 400, 400)).shape == (6, 10, 3)  # clipped, widened
    with pytest.raises(ConfigurationError):
        load_region(path, (200, 0, 300, 50))


def test_read_header_does_not_decode(tmp_path, upright, monkeypatch):
    path = save_upright_with_orientation(tmp_path / "h.jpg", upright, 6)
    monkeypatch.setattr(cv2, "imdecode", lambda *a, **k: pytest.fail("decoded pixels"))
    monkeypatch.setattr(Image.Image, "load", lambda self: pytest.fail("decoded pixels"))
    header = read_header(path)
    assert (header.width_px, header.height_px) == (160, 96)
    assert (header.orientation, header.format, header.mode, header.bit_depth) == (6, "JPEG", "RGB", 8)


def test_bytes_read_once_give_the_same_photo(tmp_path, upright):
    """A batch hashes a file's bytes and decodes the same bytes: no second read, same result."""
    path = save_upright_with_orientation(tmp_path / "b.jpg", upright, 6)
    data = read_photo_bytes(path)
    assert data == path.read_bytes()
    assert read_header(path, data=data) == read_header(path)
    for reduction in (1, 2):
        from_file, from_bytes = load_photo(path, reduction=reduction), load_photo(path, reduction=reduction, data=data)
        np.testing.assert_array_equal(from_bytes.rgb, from_file.rgb)
        assert from_bytes.path == path and from_bytes.orientation == 6
    with pytest.raises(PhotoTooLargeError):
        load_photo(path, data=data, max_pixels=1)
    with pytest.raises(PhotoNotFoundError):
        read_photo_bytes(tmp_path / "missing.jpg")


# --- real photographs ----------------------------------------------------------------


@pytest.mark.skipif(not SHARED_DATA.is_dir(), reason=f"shared data folder absent: {SHARED_DATA}")
@pytest.mark.parametrize("relative", ["london_dev/neutral/001_03.jpg", "portraits/pyfeat_multi_face.jpg"])
def test_shared_photos_load(relative):
    path = SHARED_DATA / relative
    if not path.is_file():
        pytest.skip(f"{path} is absent")
    header = read_header(path)
    photo = load_photo(path, reduction=choose_reduction(header.width_px, header.height_px))
    assert (photo.original_width_px, photo.original_height_px) == (header.width_px, header.height_px)
    assert photo.rgb.ndim == 3 and photo.rgb.std() > 5
    if relative.startswith("london_dev"):
        assert (header.width_px, header.height_px) == (1350, 1350) and photo.reduction == 1
