"""Decode routes: OpenCV for JPEG and 16-bit colour PNG/TIFF, Pillow for the rest."""

from __future__ import annotations

import io

import cv2
import numpy as np

from lipsym.errors import LipsymError, TruncatedPhotoError
from lipsym.io._exif import _has_orientation_tag
from lipsym.io._files import _one_line
from lipsym.io._header import _Probe
from lipsym.io._jpeg import _decode_jpeg_cv2, _jpeg_is_complete
from lipsym.io._limits import _pil_bomb_guard
from lipsym.io._pixels import _pil_pixels, _reduce, _to_rgb8
from lipsym.io._png import _walk_png
from lipsym.io._tiff import _opencv_orients_16bit_tiff

def _check_complete(data: bytes, fmt: str, shown: str) -> None:
    """Refuse a JPEG or PNG whose data stops early (see the module notes)."""
    if fmt == "JPEG" and not _jpeg_is_complete(data):
        raise TruncatedPhotoError(f"{shown} is cut short or corrupt (its JPEG data has no end marker)")
    if fmt == "PNG" and not _walk_png(io.BytesIO(data)).complete:
        raise TruncatedPhotoError(f"{shown} is cut short or corrupt (its PNG chunks stop before IEND)")



def _decode_stored(data: bytes, probe: _Probe, reduction: int, shown: str) -> tuple[np.ndarray, int]:
    """Reduced RGB uint8 pixels, shape (h, w, 3), and the orientation still to apply to them."""
    if probe.route == "cv2-jpeg":
        return _decode_jpeg_cv2(data, probe, reduction, shown), probe.orientation_to_apply
    if probe.route == "cv2-16bit":
        full, orientation_left = _decode_16bit_cv2(data, probe, shown)
    else:
        full, orientation_left = _decode_pil(probe, shown)
    return _reduce(full, reduction), orientation_left



def _decode_16bit_cv2(data: bytes, probe: _Probe, shown: str) -> tuple[np.ndarray, int]:
    """Full-size RGB uint8 pixels of a 16-bit PNG/TIFF and the orientation still to apply."""
    # IMREAD_UNCHANGED keeps 16 bits and alpha and skips EXIF orientation,
    # but OpenCV's TIFF decoder may still apply the TIFF orientation tag.
    orientation_left = probe.orientation_to_apply
    if probe.header.format == "TIFF" and _opencv_orients_16bit_tiff(orientation_left):
        orientation_left = 1
    try:
        pixels = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    except cv2.error as exc:
        raise TruncatedPhotoError(f"{shown} could not be decoded ({_one_line(exc)})") from exc
    if pixels is None or pixels.dtype != np.uint16:
        raise TruncatedPhotoError(f"{shown} is corrupt (OpenCV could not decode its 16-bit data)")
    if pixels.ndim == 3 and pixels.shape[2] == 3:
        pixels = cv2.cvtColor(pixels, cv2.COLOR_BGR2RGB)
    elif pixels.ndim == 3 and pixels.shape[2] == 4:
        pixels = cv2.cvtColor(pixels, cv2.COLOR_BGRA2RGBA)
    return _to_rgb8(pixels, 65535), orientation_left



def _decode_pil(probe: _Probe, shown: str) -> tuple[np.ndarray, int]:
    """Full-size RGB uint8 pixels and the orientation still to apply to them."""
    image = probe.image
    try:
        tagged = _has_orientation_tag(image)
        with _pil_bomb_guard(shown, pixels=probe.header.pixels):
            image.load()
        # Pillow >= 11 rotates a TIFF while loading it and then drops the tag.
        oriented_by_pillow = tagged and not _has_orientation_tag(image)
        pixels, max_value = _pil_pixels(image, shown)
    except LipsymError:
        raise
    except MemoryError:
        raise
    except Exception as exc:
        # Decoders signal bad data with OSError, ValueError (libheif),
        # SyntaxError, zlib.error, EOFError...: all mean an unusable file.
        raise TruncatedPhotoError(f"{shown} is cut short or corrupt ({_one_line(exc)})") from exc
    return _to_rgb8(pixels, max_value), 1 if oriented_by_pillow else probe.orientation_to_apply
