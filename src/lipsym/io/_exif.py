"""EXIF orientation: reading the tag (tolerantly) and applying it to pixels."""

from __future__ import annotations

import warnings
from typing import IO

import cv2
import numpy as np
from PIL import Image, ImageFile

from lipsym.io._png import _walk_png

_EXIF_ORIENTATION_TAG = 0x0112


# Whether each upright axis (x, y) runs against the stored axis it comes from.
_REVERSED_AXES = {
    1: (False, False),
    2: (True, False),
    3: (True, True),
    4: (False, True),
    5: (False, False),
    6: (True, False),
    7: (True, True),
    8: (False, True),
}


def _orientation(image: ImageFile.ImageFile, fmt: str, fp: IO[bytes]) -> int:
    """EXIF orientation 1-8; 1 when absent or invalid (as most viewers do)."""
    try:
        with warnings.catch_warnings():
            # Pillow warns about malformed EXIF; here it only means "no rotation".
            warnings.simplefilter("ignore")
            value = _orientation_value(image, fmt, fp)
    except Exception:
        # Malformed EXIF is common in edited photos; it must not make the
        # photo unreadable, and an unreadable tag means "no rotation".
        return 1
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def _orientation_value(image: ImageFile.ImageFile, fmt: str, fp: IO[bytes]) -> object:
    if fmt == "HEIF":
        return image.info.get("original_orientation")
    if fmt == "PNG" and "exif" not in image.info:
        # Pillow would decode the whole image to look for an eXIf chunk
        # stored after the pixel data; walking the chunks is enough.
        return _orientation_from_exif_bytes(_walk_png(fp).exif)
    return image.getexif().get(_EXIF_ORIENTATION_TAG)


def _orientation_from_exif_bytes(exif: bytes | None) -> int | None:
    if not exif:
        return None
    parsed = Image.Exif()
    parsed.load(exif)
    return parsed.get(_EXIF_ORIENTATION_TAG)


def _has_orientation_tag(image: ImageFile.ImageFile) -> bool:
    tags = getattr(image, "tag_v2", None)
    return tags is not None and _EXIF_ORIENTATION_TAG in tags


def _apply_orientation(stored: np.ndarray, orientation: int) -> np.ndarray:
    """Pixels as displayed for an EXIF orientation tag (1-8); a new contiguous array."""
    if orientation == 1:
        return np.ascontiguousarray(stored)
    if orientation == 2:
        return cv2.flip(stored, 1)
    if orientation == 3:
        return cv2.rotate(stored, cv2.ROTATE_180)
    if orientation == 4:
        return cv2.flip(stored, 0)
    if orientation == 5:
        return cv2.transpose(stored)
    if orientation == 6:
        return cv2.rotate(stored, cv2.ROTATE_90_CLOCKWISE)
    if orientation == 7:
        return cv2.rotate(cv2.transpose(stored), cv2.ROTATE_180)
    return cv2.rotate(stored, cv2.ROTATE_90_COUNTERCLOCKWISE)
