"""Limits on what a photo may cost: pixels, shorter side, memory; argument checks."""

from __future__ import annotations

import contextlib
import warnings
from typing import Iterator

from PIL import Image

from lipsym.errors import ConfigurationError, PhotoTooLargeError, PhotoTooSmallError
from lipsym.io._files import _one_line

#: Largest accepted photo, in pixels of the declared (header) size. A 250 MP
#: photo is far beyond any clinical camera; larger headers are bombs or junk.
MAX_PIXELS = 250_000_000

#: Smallest accepted shorter side, in px: below this no lip landmark is usable.
MIN_SIDE_PX = 64

#: Decoding reductions OpenCV/libjpeg can do natively (DCT scaling).
REDUCTIONS = (1, 2, 4, 8)

#: Most memory that decoding one photo may take, in bytes (estimated from
#: the header, checked before any pixel is decoded; docs/photos.md). With
#: the interpreter and lipsym's imports (~0.2 GB) a process then stays under
#: 1.5 GB. JPEG and non-interlaced PNG decode within it at any size up to
#: :data:`MAX_PIXELS`; formats whose decoder needs the whole image at once
#: (TIFF, WebP, HEIF, BMP, GIF, interlaced PNG...) are refused above it.
MEMORY_CEILING_BYTES = 1_200_000_000


def check_memory(needed_bytes: int, shown: str, how: str) -> None:
    """Refuse, before decoding, a photo whose decode would need more than :data:`MEMORY_CEILING_BYTES`."""
    if needed_bytes > MEMORY_CEILING_BYTES:
        raise PhotoTooLargeError(
            f"{shown} would need about {needed_bytes / 1e9:.1f} GB of memory to decode ({how}), "
            f"above the ceiling of {MEMORY_CEILING_BYTES / 1e9:.1f} GB per photo"
        )


def _check_load_arguments(reduction: int, max_pixels: int, min_side_px: int) -> None:
    if reduction not in REDUCTIONS:
        raise ConfigurationError(f"reduction must be one of {REDUCTIONS}, got {reduction!r}")
    if max_pixels < 1:
        raise ConfigurationError(f"max_pixels must be positive, got {max_pixels!r}")
    if min_side_px < 1:
        raise ConfigurationError(f"min_side_px must be positive, got {min_side_px!r}")


def _check_declared_size(header, shown: str, max_pixels: int, min_side_px: int) -> None:
    width_px, height_px = header.width_px, header.height_px
    if header.pixels > max_pixels:
        raise PhotoTooLargeError(
            f"{shown} declares {width_px}x{height_px} px ({header.pixels / 1e6:.1f} megapixels), "
            f"above the limit of {max_pixels / 1e6:g} megapixels"
        )
    if min(width_px, height_px) < min_side_px:
        raise PhotoTooSmallError(
            f"{shown} is only {width_px}x{height_px} px; its shorter side must be at least {min_side_px} px"
        )


@contextlib.contextmanager
def _pil_bomb_guard(shown: str, *, pixels: int | None) -> Iterator[None]:
    """Turn Pillow's decompression-bomb error into ours; mute its warning.

    The warning is muted only for images above Pillow's own limit, which have
    already passed our ``max_pixels`` check (``catch_warnings`` touches
    process-wide state, so the common case avoids it).
    """
    try:
        pil_limit = Image.MAX_IMAGE_PIXELS
        if pixels is not None and pil_limit is not None and pixels > pil_limit:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", Image.DecompressionBombWarning)
                yield
        else:
            yield
    except Image.DecompressionBombError as exc:
        raise PhotoTooLargeError(
            f"{shown} exceeds Pillow's decompression-bomb limit ({_one_line(exc)})"
        ) from exc
