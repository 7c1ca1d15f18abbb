"""Samples to 8-bit RGB: modes, 16-bit scaling, alpha over white, block reduction."""

from __future__ import annotations

import cv2
import numpy as np
from PIL import Image

from lipsym.errors import NotAnImageError

# Pillow modes that numpy can take as they are, and the maximum sample value.
_DIRECT_MODES = {"RGB": 255, "RGBA": 255, "L": 255, "LA": 255}
_UINT16_MODES = ("I;16", "I;16L", "I;16B", "I;16N")
# Modes Pillow converts losslessly (or by its standard formula) to a direct mode.
_PIL_CONVERSIONS = {
    "1": "L",
    "CMYK": "RGB",
    "YCbCr": "RGB",
    "RGBX": "RGB",
    "RGBa": "RGBA",
    "La": "LA",
    "PA": "RGBA",
}


#: Target size of one strip of samples, in bytes: small next to the memory
#: ceiling, large enough that per-strip overhead does not show.
STRIP_BYTES = 8 << 20


def rows_per_strip(width_px: int, bytes_per_px: int, reduction: int) -> int:
    """Rows in a strip of about :data:`STRIP_BYTES`, a multiple of ``reduction`` (so blocks never straddle strips)."""
    rows = max(1, STRIP_BYTES // max(1, width_px * bytes_per_px))
    return max(reduction, rows // reduction * reduction)


class ReducedCanvas:
    """The reduced 8-bit RGB image, filled one strip of samples at a time.

    Each strip (a multiple of ``reduction`` rows, except the last) is
    converted, composited and block-averaged on its own, which gives exactly
    the pixels a whole-image :func:`_reduce` would: a block never straddles
    two strips, and edge replication only pads the last one.

    Parameters
    ----------
    height_px, width_px : int
        Size of the stored (full-resolution) image, in px.
    reduction : int
        1, 2, 4 or 8.
    """

    def __init__(self, height_px: int, width_px: int, reduction: int) -> None:
        self.reduction = reduction
        self.rgb = np.empty((-(-height_px // reduction), -(-width_px // reduction), 3), np.uint8)
        self._row = 0

    def add(self, samples: np.ndarray, max_value: int) -> None:
        """Append a strip: (n, w[, c]) gray/GA/RGB/RGBA samples in [0, max_value]."""
        small = _reduce(_to_rgb8(samples, max_value), self.reduction)
        self.rgb[self._row : self._row + small.shape[0]] = small
        self._row += small.shape[0]

    @property
    def complete(self) -> bool:
        return self._row == self.rgb.shape[0]


def _pil_pixels(image: Image.Image, shown: str) -> tuple[np.ndarray, int]:
    """Samples of a loaded Pillow image as (h, w[, c]) array and maximum sample value."""
    mode = image.mode
    if mode in _UINT16_MODES:
        return np.asarray(image).astype(np.uint16), 65535
    if mode == "P":
        # Palette transparency is only honoured through an RGBA conversion.
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
    elif mode in _PIL_CONVERSIONS:
        image = image.convert(_PIL_CONVERSIONS[mode])
    elif mode not in _DIRECT_MODES:
        raise NotAnImageError(f"{shown} uses colour mode {mode!r}, which lipsym does not read (expected 8/16-bit)")
    return np.asarray(image), 255


def _to_rgb8(pixels: np.ndarray, max_value: int) -> np.ndarray:
    """(h, w[, c]) gray/GA/RGB/RGBA samples in [0, max_value] -> (h, w, 3) uint8 RGB.

    Alpha is composited over white.
    """
    samples = pixels if pixels.ndim == 3 else pixels[:, :, None]
    if samples.shape[2] in (2, 4):
        colour, alpha = samples[:, :, :-1], samples[:, :, -1:]
        opaque = alpha.min() == max_value  # common for RGBA PNGs; skips the compositing
        rgb = _to_8bit(colour, max_value) if opaque else _composite_over_white(colour, alpha, max_value)
    else:
        rgb = _to_8bit(samples, max_value)
    if rgb.shape[2] == 1:
        rgb = cv2.cvtColor(rgb, cv2.COLOR_GRAY2RGB)
    return np.ascontiguousarray(rgb)


def _to_8bit(samples: np.ndarray, max_value: int) -> np.ndarray:
    if max_value == 255:
        return samples.astype(np.uint8, copy=False)
    # round(v * 255 / 65535) == round(v / 257), exactly, in integers.
    return ((samples.astype(np.uint32) + 128) // 257).astype(np.uint8)


def _composite_over_white(colour: np.ndarray, alpha: np.ndarray, max_value: int) -> np.ndarray:
    """``round((c * a + M * (M - a)) * 255 / M**2)``: exact, in integers, per strip.

    Integer arithmetic in the samples' own width (uint16 for 8-bit, uint64
    for 16-bit) instead of float32 at full size: the float version of this
    one line once needed 11.8 GB for a 250-megapixel 16-bit RGBA PNG.
    """
    if max_value == 255:
        c, a = colour.astype(np.uint16), alpha.astype(np.uint16)
        # c * a + 255 * (255 - a) + 127 <= 65152: no uint16 overflow.
        return ((c * a + np.uint16(255) * (np.uint16(255) - a) + np.uint16(127)) // np.uint16(255)).astype(np.uint8)
    c, a, m = colour.astype(np.uint64), alpha.astype(np.uint64), np.uint64(max_value)
    return (((c * a + m * (m - a)) * np.uint64(255) + m * m // np.uint64(2)) // (m * m)).astype(np.uint8)


def _reduce(rgb: np.ndarray, reduction: int) -> np.ndarray:
    """Block-average by ``reduction`` with the same geometry as libjpeg's DCT scaling.

    The image is padded to a multiple of ``reduction`` by edge replication, so
    output pixel ``x`` averages input pixels ``[r * x, r * x + r)`` and the
    output size is ``ceil(size / r)``, as for JPEG.
    """
    if reduction == 1:
        return rgb
    height_px, width_px = rgb.shape[:2]
    out_h, out_w = -(-height_px // reduction), -(-width_px // reduction)
    padded = cv2.copyMakeBorder(
        rgb, 0, out_h * reduction - height_px, 0, out_w * reduction - width_px, cv2.BORDER_REPLICATE
    )
    return cv2.resize(padded, (out_w, out_h), interpolation=cv2.INTER_AREA)
