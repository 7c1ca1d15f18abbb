"""Plausibility of decoded pixels: codec garbage from one block row to the end (issue #15).

The second line of defence, after the decoders' own complaints
(:mod:`lipsym.io._strict`) and the container checks
(:mod:`lipsym.io._structure`): damage that every decoder accepts. VP8 (WebP
lossy) and HEVC (HEIC) code their data arithmetically, and a baseline JPEG
may stay a valid Huffman stream, so a changed byte decodes silently to other
pixels *from there to the end of the data*: blocks of saturated colour,
checkerboards and stripes, each block unrelated to its neighbours
(benchmarks/fuzz_photos.py, issue #15 in docs/photos.md).

What gives that garbage away is the codec's block grid. In a photograph an
edge falls anywhere, so the change between two neighbouring pixels is as
large across a block boundary (every ``block_px``-th row or column) as
inside a block: a lossy encoder's own blocking adds a few grey levels at
most. Decoded garbage changes abruptly at every boundary. Per strip of
``block_px`` rows the check measures that *boundary excess*: the mean
absolute difference across the strip's block boundaries (its top row and
its block columns) minus the same inside the blocks, in grey levels summed
over R, G and B. A photo is refused when, from some strip on to the last,
the median excess is high and well above that of the strips before
it (:func:`garbage_start`).

Damage that stays inside the blocks' statistics passes: a changed JPEG DC
value (a colour step from one block on, then a valid image), an LZW or
prefix-code change that shifts or recolours pixels (GIF, TIFF LZW, WebP
lossless), a garbled tile of a tiled HEIC whose other tiles are intact.
"""

from __future__ import annotations

import numpy as np

from lipsym.errors import CorruptPhotoError

# The three thresholds below are grey levels of boundary excess (R+G+B; see
# strip_excess). Chosen on: every photo under /work/shared/data and
# sample_images/ (132 files) at reductions 1 and 2, and re-encodings of a
# subset of them (JPEG q 30-95, progressive, WebP q 50/80 and lossless, HEIC
# q 50-80, PNG, 320 px wide, added noise, shifted grid, upscaled): 423 files,
# 846 decodes, none refused. The hardest intact cases are JPEG q 30 (median
# excess from a strip on up to 24, rising by up to 13 over the strips above
# it) and q 60 (16.5); an intact photo's whole-image median stays below 16.
# Damaged mutants of benchmarks/fuzz_photos.py score 20-80 (in-sample: the
# thresholds were chosen with their counts in view; docs/photos.md).

#: Refuse when, from some strip to the last, the median excess is above this ...
GARBAGE_EXCESS = 20.0
#: ... and above the median of the strips before it by more than this (a
#: photo saved at low JPEG quality is blocky throughout, not from a row on).
GARBAGE_STEP = 15.0
#: Garbage from the top (fewer than MIN_STRIPS strips above it to compare
#: with) needs this median excess on its own.
GARBAGE_EXCESS_FROM_TOP = 40.0
#: A run of strips (at the bottom) and a reference above it hold at least
#: this many strips: one strip of chance edges is not evidence.
MIN_STRIPS = 2
#: Images with fewer strips than this are not judged (a thumbnail has too few blocks).
MIN_IMAGE_STRIPS = 8


def strip_excess(rgb: np.ndarray, block_px: int) -> np.ndarray:
    """Boundary excess of each strip of ``block_px`` rows, grey levels summed over R, G, B.

    Parameters
    ----------
    rgb : numpy.ndarray, shape (h, w, 3), uint8
        Decoded pixels in stored orientation (the codec's grid starts at the
        top-left corner).
    block_px : int
        The block grid's period in these pixels (8 at full size; 8 / r at
        reduction r).

    Returns
    -------
    numpy.ndarray, shape (h // block_px - 1,), float64
        For strips 1, 2, ... (strip 0 has no boundary above it): mean
        ``|row 0 - row -1|`` (the boundary above the strip) minus mean
        ``|row q - row q - 1|`` inside it (``q = block_px // 2 - 1``, a row
        pair inside even a 4-px sub-block), plus the same for columns
        within the strip.
    """
    b = block_px
    strips = rgb.shape[0] // b
    width_px = rgb.shape[1] // b * b
    if strips < 2 or width_px < 2 * b:
        return np.zeros(0)
    q = max(1, b // 2 - 1)
    image = rgb[: strips * b, :width_px]

    def mean_abs_diff(a: np.ndarray, c: np.ndarray, axis: tuple[int, ...]) -> np.ndarray:
        return np.abs(a.astype(np.int16) - c).mean(axis=axis)

    # Rows: across the boundary above strip s (s >= 1), and inside strip s.
    v_boundary = mean_abs_diff(image[b::b], image[b - 1 : -1 : b], (1, 2))
    v_inside = mean_abs_diff(image[b + q :: b], image[b + q - 1 :: b], (1, 2))
    # Columns: per strip, across block columns and inside them.
    by_strip = image[b:].reshape(strips - 1, b, width_px, 3)
    h_boundary = mean_abs_diff(by_strip[:, :, b::b], by_strip[:, :, b - 1 : -1 : b], (1, 2, 3))
    h_inside = mean_abs_diff(by_strip[:, :, q::b], by_strip[:, :, q - 1 :: b], (1, 2, 3))
    return 3.0 * ((v_boundary - v_inside) + (h_boundary - h_inside))


def garbage_start(excess: np.ndarray) -> int | None:
    """First strip index ``k`` of ``excess`` from which on the pixels look like codec garbage, else None.

    ``k`` qualifies when the median of ``excess[k:]`` (at least
    :data:`MIN_STRIPS` strips) is above :data:`GARBAGE_EXCESS` and above the
    median of ``excess[:k]`` by more than :data:`GARBAGE_STEP`; when fewer
    than :data:`MIN_STRIPS` strips lie above ``k``, above
    :data:`GARBAGE_EXCESS_FROM_TOP` instead.
    """
    for k in range(len(excess) - MIN_STRIPS + 1):
        below = float(np.median(excess[k:]))
        if k < MIN_STRIPS:
            if below > GARBAGE_EXCESS_FROM_TOP:
                return k
        elif below > GARBAGE_EXCESS and below - float(np.median(excess[:k])) > GARBAGE_STEP:
            return k
    return None


def check_blocks_plausible(rgb: np.ndarray, shown: str, reduction: int = 1) -> None:
    """Refuse decoded pixels that turn into codec garbage from one block row to the end.

    Parameters
    ----------
    rgb : numpy.ndarray, shape (h, w, 3), uint8
        Decoded pixels in stored orientation.
    shown : str
        The file as it goes into messages.
    reduction : int
        The decode's reduction: the 8-px block grid is ``8 / reduction`` px
        here. At reduction 4 or 8 the grid is 2 px or less and the check is
        skipped (nothing inside a block to compare with).

    Raises
    ------
    CorruptPhotoError
        With the strip where the garbage starts.
    """
    block_px = 8 // reduction
    if block_px < 4:
        return
    excess = strip_excess(rgb, block_px)
    if len(excess) + 1 < MIN_IMAGE_STRIPS:
        return
    start = garbage_start(excess)
    if start is not None:
        row_px = (start + 1) * block_px  # excess[k] is strip k + 1
        raise CorruptPhotoError(
            f"{shown} is corrupt (from decoded row {row_px} of {rgb.shape[0]} on, its {block_px}-px blocks "
            f"no longer fit together: a median {float(np.median(excess[start:])):.0f} grey levels of edge at "
            "their boundaries, the garbage a damaged compressed stream decodes to)"
        )
