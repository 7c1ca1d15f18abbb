"""Decode routes, strictly and within the memory ceiling.

* JPEG (RGB/gray): OpenCV, reduced by libjpeg's DCT scaling, so only the
  reduced image is ever allocated.
* PNG (non-interlaced, any depth/colour type): our strip decoder
  (:mod:`lipsym.io._png`); the full-size image is never allocated.
* 16-bit colour TIFF (and 16-bit colour interlaced PNG): OpenCV, which keeps
  all 16 bits (Pillow keeps only the high byte), then converted strip by strip.
* Everything else: Pillow (and pillow-heif), then converted strip by strip.

Whole-image decoders are checked against
:data:`~lipsym.io._limits.MEMORY_CEILING_BYTES` from the header before they
run. Every decoder runs under :func:`~lipsym.io._strict.strict_decoding`,
a JPEG's pixels pass :func:`~lipsym.io._strict.check_plausible` and
:func:`~lipsym.io._jpeg_plausible.check_dc_steps` (a brightness or colour
step from one block on), and every format's but a strip-decoded PNG's pass
:func:`~lipsym.io._plausible.check_blocks_plausible` (codec garbage from a
block row on; gentler thresholds for a JPEG).
"""

from __future__ import annotations

import io

import cv2
import numpy as np

from lipsym.errors import CorruptPhotoError, LipsymError, TruncatedPhotoError
from lipsym.io._exif import _has_orientation_tag
from lipsym.io._files import _one_line
from lipsym.io._header import PhotoHeader, _Probe
from lipsym.io._jpeg import _decode_jpeg_cv2, _jpeg_is_complete
from lipsym.io._jpeg_plausible import check_dc_steps, check_quant_tables, jpeg_grid
from lipsym.io._limits import _pil_bomb_guard, check_memory
from lipsym.io._plausible import DEFAULT_RULE, JPEG_RULE, check_blocks_plausible, check_garbage_patches
from lipsym.io._pixels import ReducedCanvas, _pil_pixels, rows_per_strip
from lipsym.io._png import (
    PngLayout,
    bgr_to_rgb,
    check_inflated_size,
    filtered_strips,
    png_layout_and_data,
    samples_of,
    unfilter,
    _walk_png,
)
from lipsym.io._strict import check_plausible, strict_decoding
from lipsym.io._structure import check_structure
from lipsym.io._tiff import _opencv_orients_16bit_tiff

# Working memory of the strip decoders besides the output (a few strips of
# samples in their widest intermediate form), in bytes.
_STRIP_WORKING_BYTES = 200_000_000
# Extra bytes per pixel (per 8 bits of sample depth) that a whole-image
# decoder holds next to Pillow's image: libwebp's and libheif's own buffers.
# Measured (benchmarks/memory_peak.py): a 100 MP RGBA WebP peaks at 1.65 GB,
# ~16 bytes/px in all (Pillow's animation decoder keeps a canvas and a copy);
# a 67 MP HEIC at 0.54 GB.
_DECODER_BUFFER_BYTES_PER_PX = {"WEBP": 12, "HEIF": 4}

#: Formats whose decoded pixels skip :func:`check_blocks_plausible` (why: at the call).
BLOCK_CHECK_SKIPPED = frozenset({"PNG"})
#: Formats whose decoded pixels are judged by :func:`check_garbage_patches`.
PATCH_CHECKED = frozenset({"HEIF", "WEBP"})


def _check_complete(data: bytes, fmt: str, shown: str) -> None:
    """Refuse a JPEG or PNG whose data stops early, and a file whose own sizes disagree with its length.

    See the module notes, and :mod:`lipsym.io._structure` for BMP, WebP,
    HEIF and TIFF.
    """
    check_structure(data, fmt, shown)
    if fmt == "JPEG" and not _jpeg_is_complete(data):
        raise TruncatedPhotoError(f"{shown} is cut short or corrupt (its JPEG data has no end marker)")
    if fmt == "PNG" and not _walk_png(io.BytesIO(data)).complete:
        raise TruncatedPhotoError(f"{shown} is cut short or corrupt (its PNG chunks stop before IEND)")


def _decode_stored(data: bytes, probe: _Probe, reduction: int, shown: str) -> tuple[np.ndarray, int]:
    """Reduced RGB uint8 pixels, shape (h, w, 3), and the orientation still to apply to them.

    Raises
    ------
    CorruptPhotoError
        A decoder reported damaged data, or the pixels fail the plausibility check.
    PhotoTooLargeError
        Decoding would exceed the memory ceiling.
    """
    header = probe.header
    reduced_bytes = 3 * -(-probe.stored_width_px // reduction) * -(-probe.stored_height_px // reduction)
    # Applying an orientation other than 1 copies the output once more; the
    # file's bytes stay in memory throughout.
    output_bytes = reduced_bytes * (1 if probe.orientation_to_apply == 1 else 2) + len(data)
    layout = idat = None
    if header.format == "PNG":
        layout, idat = png_layout_and_data(data, shown)
        if not layout.interlaced:
            check_memory(output_bytes + _STRIP_WORKING_BYTES, shown, "PNG, strip by strip")
            # Exact row counting makes the plausibility check moot here.
            return _decode_png_strips(layout, idat, reduction, shown), probe.orientation_to_apply
    if probe.route == "cv2-jpeg":
        # OpenCV's JPEG decoder holds a second copy of its output (measured:
        # 1.51 GB peak for a 250-megapixel JPEG at full size).
        check_memory(output_bytes + reduced_bytes, shown, "JPEG")
        stored, orientation_left = _decode_jpeg_cv2(data, probe, reduction, shown), probe.orientation_to_apply
    else:
        if layout is not None:
            # Interlaced PNG: Pillow and OpenCV accept missing rows, so count them first.
            check_inflated_size(idat, layout, shown)
        if probe.route == "cv2-16bit":
            stored, orientation_left = _decode_16bit_cv2(data, probe, reduction, output_bytes, shown)
        else:
            stored, orientation_left = _decode_pil(probe, reduction, output_bytes, shown)
    if header.format == "JPEG":  # where libjpeg fills rows it had no data for
        check_plausible(stored, shown, reduction)
        # A changed DC difference: Y, Cb or Cr offset from one block to the end (docs/photos.md).
        grid = jpeg_grid(data)
        check_quant_tables(grid, shown)
        check_dc_steps(stored, grid, shown, reduction)
    # Not a PNG (CRC and Adler-32 on all its data, interlaced too). A JPEG with
    # gentler thresholds: a real photo saved at JPEG quality 30 or below can block
    # like garbage from a row on (invariance/zoom/30cm.jpg at q 15-25, 45cm.jpg at
    # q 30 under the default rule). HEIC and WebP: re-encodings down to q 10 / q 5
    # pass the default rule, and it catches their garbage (docs/photos.md).
    if header.format not in BLOCK_CHECK_SKIPPED:
        check_blocks_plausible(stored, shown, reduction, JPEG_RULE if header.format == "JPEG" else DEFAULT_RULE)
    # HEIC and WebP garbage that covers one side of the photo only (a JPEG's own blocking at low
    # quality makes such patches too; its damage has the DC checks above).
    if header.format in PATCH_CHECKED:
        check_garbage_patches(stored, shown, reduction)
    return stored, orientation_left


def _decode_png_strips(layout: PngLayout, idat: list[memoryview], reduction: int, shown: str) -> np.ndarray:
    """Stored-orientation reduced RGB of a non-interlaced PNG, decoded strip by strip."""
    canvas = ReducedCanvas(layout.height_px, layout.width_px, reduction)
    previous_row = bytes(layout.row_bytes)  # the PNG filters see zeros above the first row
    with strict_decoding(shown, "PNG"):
        for filtered in filtered_strips(idat, layout, rows_per_strip(layout.row_bytes, 1, reduction), shown):
            rows = unfilter(filtered, previous_row, layout, shown)
            previous_row = rows[-1].tobytes()
            canvas.add(samples_of(rows, layout), layout.max_value)
    return canvas.rgb


def _decode_16bit_cv2(data: bytes, probe: _Probe, reduction: int, output_bytes: int,
                      shown: str) -> tuple[np.ndarray, int]:
    """Reduced RGB uint8 pixels of a 16-bit colour TIFF/PNG and the orientation still to apply."""
    channels = 4 if "A" in probe.header.mode else 3
    check_memory(2 * channels * probe.header.pixels + output_bytes + _STRIP_WORKING_BYTES, shown,
                 f"16-bit {probe.header.format}, whole image")
    # IMREAD_UNCHANGED keeps 16 bits and alpha and skips EXIF orientation,
    # but OpenCV's TIFF decoder may still apply the TIFF orientation tag.
    orientation_left = probe.orientation_to_apply
    if probe.header.format == "TIFF" and _opencv_orients_16bit_tiff(orientation_left):
        orientation_left = 1
    try:
        with strict_decoding(shown, probe.header.format):
            pixels = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    except cv2.error as exc:
        raise CorruptPhotoError(f"{shown} could not be decoded ({_one_line(exc)})") from exc
    if pixels is None or pixels.dtype != np.uint16:
        raise CorruptPhotoError(f"{shown} is corrupt (OpenCV could not decode its 16-bit data)")
    height_px, width_px = pixels.shape[:2]
    canvas = ReducedCanvas(height_px, width_px, reduction)
    step = rows_per_strip(width_px, 2 * channels, reduction)
    for top in range(0, height_px, step):
        strip = pixels[top : top + step]
        if strip.ndim == 3:  # OpenCV's BGR(A) to RGB(A), a strip at a time
            strip = bgr_to_rgb(strip)
        canvas.add(strip, 65535)
    return canvas.rgb, orientation_left


def _pil_image_bytes(header: PhotoHeader, fmt: str) -> int:
    """Bytes Pillow (and the format's decoder) hold for the whole decoded image."""
    mode = header.mode
    per_px = 1 if mode in ("1", "L", "P") else 2 if mode.startswith("I;16") else 4
    return header.pixels * (per_px + _DECODER_BUFFER_BYTES_PER_PX.get(fmt, 0) * header.bit_depth // 8)


def _decode_pil(probe: _Probe, reduction: int, output_bytes: int, shown: str) -> tuple[np.ndarray, int]:
    """Reduced RGB uint8 pixels and the orientation still to apply to them."""
    image, fmt = probe.image, probe.header.format
    check_memory(_pil_image_bytes(probe.header, fmt) + output_bytes + _STRIP_WORKING_BYTES, shown,
                 f"{fmt}, whole image")
    try:
        tagged = _has_orientation_tag(image)
        with _pil_bomb_guard(shown, pixels=probe.header.pixels), strict_decoding(shown, fmt):
            image.load()
        # Pillow >= 11 rotates a TIFF while loading it and then drops the tag.
        oriented_by_pillow = tagged and not _has_orientation_tag(image)
        width_px, height_px = image.size
        canvas = ReducedCanvas(height_px, width_px, reduction)
        step = rows_per_strip(width_px, 4, reduction)
        for top in range(0, height_px, step):
            pixels, max_value = _pil_pixels(image.crop((0, top, width_px, min(height_px, top + step))), shown)
            canvas.add(pixels, max_value)
    except (LipsymError, MemoryError):
        raise
    except Exception as exc:
        # Decoders signal bad data with OSError, ValueError (libheif),
        # SyntaxError, zlib.error, EOFError...: all mean an unusable file.
        raise CorruptPhotoError(f"{shown} is cut short or corrupt ({_one_line(exc)})") from exc
    return canvas.rgb, 1 if oriented_by_pillow else probe.orientation_to_apply

