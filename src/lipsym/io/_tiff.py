"""TIFF: whether this OpenCV applies a 16-bit TIFF's orientation tag itself."""

from __future__ import annotations

import functools
import struct

import cv2
import numpy as np

from lipsym.io._exif import _apply_orientation

@functools.lru_cache(maxsize=None)
def _opencv_orients_16bit_tiff(orientation: int) -> bool:
    """Whether this OpenCV applies a 16-bit TIFF's orientation tag itself.

    OpenCV's TIFF decoder has treated the tag differently across versions
    (ignored, vertical flips only, all eight values), whatever the IMREAD
    flags, so it is asked once per value with a 3 x 2 px probe image.
    """
    if orientation == 1:
        return False
    stored = (np.arange(18, dtype=np.uint16) * 1000).reshape(2, 3, 3)
    decoded = cv2.imdecode(np.frombuffer(_tiff_16bit_rgb(stored, orientation), np.uint8), cv2.IMREAD_UNCHANGED)
    if decoded is None or decoded.ndim != 3:
        return False
    return np.array_equal(decoded[:, :, ::-1], _apply_orientation(stored, orientation))


def _tiff_16bit_rgb(rgb16: np.ndarray, orientation: int) -> bytes:
    """An uncompressed little-endian 16-bit RGB TIFF (in memory) with an orientation tag."""
    height_px, width_px, _ = rgb16.shape
    pixels = rgb16.astype("<u2").tobytes()
    bits_at = 8 + 2 + 12 * 11 + 4
    pixels_at = bits_at + 6
    entries = [  # (tag, type: 3 = SHORT / 4 = LONG, count, value or offset)
        (256, 4, 1, width_px), (257, 4, 1, height_px), (258, 3, 3, bits_at), (259, 3, 1, 1),
        (262, 3, 1, 2), (273, 4, 1, pixels_at), (274, 3, 1, orientation), (277, 3, 1, 3),
        (278, 4, 1, height_px), (279, 4, 1, len(pixels)), (284, 3, 1, 1),
    ]  # fmt: skip
    ifd = struct.pack("<H", len(entries))
    for tag, kind, count, value in entries:
        field = struct.pack("<HH", value, 0) if kind == 3 and count == 1 else struct.pack("<I", value)
        ifd += struct.pack("<HHI", tag, kind, count) + field
    header = b"II*\x00" + struct.pack("<I", 8)
    return header + ifd + struct.pack("<I", 0) + struct.pack("<HHH", 16, 16, 16) + pixels
