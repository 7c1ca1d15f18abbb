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
most. Decoded garbage changes abruptly at every boundary. Per block the check
measures that *boundary excess*: the absolute difference across its top
and left boundaries minus the same inside it, in grey levels summed over
R, G and B (:func:`block_excess`), and per strip of ``block_px`` rows the
mean over its blocks (:func:`strip_excess`). A photo is refused when, from some strip on to the last,
the median excess is high and well above that of the strips before
it (:func:`garbage_start`).

Damage that stays inside the blocks' statistics passes: a changed JPEG DC
value (a colour step from one block on, then a valid image; see
:mod:`lipsym.io._jpeg_plausible`), an LZW or
prefix-code change that shifts or recolours pixels (GIF, TIFF LZW, WebP
lossless), garbage that is smooth inside large blocks, a garbled tile of a
tiled HEIC whose other tiles are intact. Garbage on one side of a HEIC or
WebP is judged by its dense patches of misfitting blocks instead
(:func:`garbage_patch_share`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lipsym.errors import CorruptPhotoError

# The three thresholds below (the default rule; a JPEG's is JPEG_RULE) are
# grey levels of boundary excess (R+G+B; see strip_excess). Chosen on: every photo under /work/shared/data (London,
# 3DSK, invariance, portraits) and sample_images/ (132 files), JPEG q 30 and
# 45 of 27 of them, and re-encodings of 22 (JPEG q 60-95, progressive, WebP
# q 50/80 and lossless, HEIC q 50/80, PNG, 320 px wide, added noise, shifted
# grid, upscaled): 524 files, 2096 decodes at reductions 1-8, none refused.
# The closest are the JPEG q 30 re-encodings (1.4 grey levels inside the
# rule); at q 20-25 one photo of 27 is refused (docs/photos.md). The fuzz
# counts of benchmarks/fuzz_photos.py were in view (in-sample).

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
#: A block's excess counts at most this much (either sign) in its strip's
#: mean. Chosen on the fuzz corpus: a grey image whose noise wraps around
#: 255 (png-gray) scored 52 uncapped in one column; capped, none of the
#: intact corpus is closer than 6 to the thresholds.
BLOCK_EXCESS_CAP = 150.0

#: Photos with more block rows than this are judged on every n-th block
#: row, at most this many (cost; every photo the thresholds were chosen on
#: has at most 225 block rows, so all of its rows were judged).
MAX_STRIPS_JUDGED = 256
#: Images with fewer strips than this are not judged (a thumbnail has too few blocks).
MIN_IMAGE_STRIPS = 8


@dataclass(frozen=True)
class GarbageRule:
    """The three thresholds of :func:`garbage_start`, grey levels of boundary excess (R+G+B)."""

    excess: float
    step: float
    excess_from_top: float
    #: Judge every n-th block row, at most this many (cost).
    max_strips: int = MAX_STRIPS_JUDGED


#: The rule for every format judged except JPEG.
DEFAULT_RULE = GarbageRule(GARBAGE_EXCESS, GARBAGE_STEP, GARBAGE_EXCESS_FROM_TOP)
#: JPEG's, gentler: a real photo saved at JPEG q 15-30 blocks strongly where
#: it is smooth, and more at its smooth bottom than above. Chosen on every
#: shared photo and sample image re-encoded at JPEG q 15-95 (4:2:0 and
#: 4:4:4), progressive, cropped, upscaled and 320 px wide (/tmp probe of
#: 2 December 2026, docs/photos.md; 3034 JPEGs, 6068 decodes at reductions 1
#: and 2, none refused): the closest, invariance/zoom/30cm.jpg at q 15, is at
#: 0.69 of these thresholds (0.75 judging every block row, where its median
#: excess is 54 over its last block rows, 36 above the rows before; the
#: thresholds are 1.2 times the lowest of that shape it passed, 60/40/80).
#: At most 64 block rows are judged: a JPEG decodes several times faster than
#: a WebP or HEIC, and judging up to 256 rows cost 19-39 % of a 6000 x 4000
#: JPEG load (benchmarks/plausibility_cost.py, 2 December 2026).
JPEG_RULE = GarbageRule(72.0, 48.0, 96.0, 64)


def block_excess(rgb: np.ndarray, block_px: int, stride: int = 1) -> np.ndarray:
    """Boundary excess of each block, grey levels summed over R, G, B.

    Parameters
    ----------
    rgb : numpy.ndarray, shape (h, w, 3), uint8
        Decoded pixels in stored orientation (the codec's grid starts at the
        top-left corner).
    block_px : int
        The block grid's period in these pixels (8 at full size; 8 / r at
        reduction r).
    stride : int
        Use block rows 1, 1 + stride, 1 + 2 stride, ... only.

    Returns
    -------
    numpy.ndarray, shape (len(range(1, h // block_px, stride)), w // block_px - 1), float32
        For block rows 1, 2, ... and block columns 1, 2, ... (the first has
        no boundary above or to its left): ``|row 0 - row -1|`` across the
        boundary above the block minus ``|row q - row q-1|`` inside it
        (``q = block_px // 2 - 1``, a pair inside even a 4-px sub-block),
        on the block's columns ``q - 1`` and ``q``; plus the same for
        columns, on its rows ``q - 1`` and ``q``. A quarter of the pixels
        are read (two pixel pairs of each kind per block: the median over
        many blocks and strips does the averaging).
    """
    b = block_px
    strips, columns = rgb.shape[0] // b, rgb.shape[1] // b
    if strips < 2 or columns < 2:
        return np.zeros((0, 0), np.float32)
    q = max(1, b // 2 - 1)
    # Of block rows 1.. only rows -1 (the last of the block above), 0, q - 1
    # and q, and of those only columns 0, b - 1, q - 1 and q of each block:
    # a quarter of the pixels, as (block row, 4 rows, block column, 4 columns, RGB).
    block_rows = np.arange(1, strips, stride)
    row_index = (b * block_rows[:, None] + np.array([-1, 0, q - 1, q])).ravel()
    picked = rgb[row_index, : columns * b].reshape(len(block_rows), 4, columns, 3 * b)  # RGB bytes of each block row

    def sample(rows: slice, blocks: slice, column: int, count: int = 1) -> np.ndarray:
        # Columns column..column+count-1 of each block (a contiguous run of bytes), as int16.
        return picked[:, rows, blocks, 3 * column : 3 * (column + count)].astype(np.int16)

    # Rows: across the boundary above the block (0 vs -1) minus inside (q vs q - 1), on columns q - 1 and q.
    pairs = sample(slice(None), slice(None), q - 1, 2)
    vertical = np.abs(pairs[:, 1] - pairs[:, 0]) - np.abs(pairs[:, 3] - pairs[:, 2])
    # Columns: across the boundary left of the block (its column 0 vs the
    # previous block's b - 1) minus inside (q vs q - 1), on rows q - 1 and q.
    horizontal = (np.abs(sample(slice(2, 4), slice(1, None), 0) - sample(slice(2, 4), slice(None, -1), b - 1))
                  - np.abs(pairs[:, 2:, 1:, 3:] - pairs[:, 2:, 1:, :3]))
    horizontal = horizontal[:, 0] + horizontal[:, 1]
    # Sums over the short last axis as integer products: several times faster than .sum(axis=-1).
    excess = vertical[:, 1:] @ np.ones(6, np.int16) + horizontal @ np.ones(3, np.int16)
    # Per pixel pair (two of each kind per block), summed over channels.
    return excess.astype(np.float32) / 2


def strip_excess(rgb: np.ndarray, block_px: int, stride: int = 1) -> np.ndarray:
    """Boundary excess per strip of ``block_px`` rows: the mean of :func:`block_excess` over its blocks, each capped.

    Returns
    -------
    numpy.ndarray, shape (len(range(1, h // block_px, stride)),), float64
        One value per block row 1, 1 + stride, ...; each block counts at
        most :data:`BLOCK_EXCESS_CAP` either way.
    """
    blocks = block_excess(rgb, block_px, stride)
    if blocks.size == 0:
        return np.zeros(0)
    # One block cannot carry a strip: a single extreme column (a wrapped
    # value, a sharp grid-aligned edge) would otherwise decide alone.
    np.clip(blocks, -BLOCK_EXCESS_CAP, BLOCK_EXCESS_CAP, out=blocks)
    return blocks.mean(axis=1, dtype=np.float64)


def garbage_start(excess: np.ndarray, rule: GarbageRule = DEFAULT_RULE) -> int | None:
    """Index ``k`` into ``excess`` from which on the pixels look like codec garbage, else None.

    ``k`` qualifies when the median of ``excess[k:]`` (at least
    :data:`MIN_STRIPS` strips) is above ``rule.excess`` (:data:`GARBAGE_EXCESS`
    by default) and above the median of ``excess[:k]`` (at least
    :data:`MIN_STRIPS` strips) by more than ``rule.step``
    (:data:`GARBAGE_STEP`). If any does, the index returned is the likeliest
    start of the garbage (see below). Failing that, 0 or 1 qualifies when the
    median of ``excess[k:]`` alone is above ``rule.excess_from_top``
    (:data:`GARBAGE_EXCESS_FROM_TOP`; garbage from the top).
    """
    qualifying = [k for k in range(MIN_STRIPS, len(excess) - MIN_STRIPS + 1)
                  if (below := float(np.median(excess[k:]))) > rule.excess
                  and below - float(np.median(excess[:k])) > rule.step]
    if qualifying:
        # The tail's median qualifies before the garbage starts (once most of
        # the tail is garbage): the start is where the share of strips above
        # rule.excess changes most, between the strips before and after.
        high = excess > rule.excess
        tail_high = np.cumsum(high[::-1])[::-1] / np.arange(len(high), 0, -1)
        head_high = np.concatenate([[0.0], np.cumsum(high)[:-1] / np.arange(1, len(high))])
        candidates = np.arange(MIN_STRIPS, len(excess) - MIN_STRIPS + 1)
        return int(candidates[np.argmax((tail_high - head_high)[candidates])])
    for k in range(min(MIN_STRIPS, len(excess) - MIN_STRIPS + 1)):
        if float(np.median(excess[k:])) > rule.excess_from_top:
            return k
    return None


#: A block whose boundary excess is above this (grey levels, R+G+B) is a *misfit* ...
PATCH_BLOCK_EXCESS = 30.0
#: ... and a window of PATCH_WINDOW x PATCH_WINDOW blocks with at least PATCH_DENSITY of them
#: misfits is a garbage patch.
PATCH_WINDOW = 4
PATCH_DENSITY = 0.75
#: Largest share of the windows of a HEIC or WebP that may be garbage patches, and the fewest
#: windows that refuse (a small image has few windows: 6 of a 512 x 512 photo at WebP q 50 were
#: 0.17 %). Chosen on (docs/photos.md "Garbage patches"): the 132 photos under shared/data and
#: sample_images/, each re-encoded as HEIC q 50 / 80 and WebP q 50 / 80 / lossless and decoded
#: at reductions 1 and 2 (1320 decodes: at most 0.069 % and 25 windows, 3DSK male_kristian as
#: WebP q 80, beside that 512 x 512 photo), against the face mutants of
#: benchmarks/fuzz_measured.py seeds 0-2 whose HEVC or WebP garbage covers one side of the photo
#: (0.29-3.8 %, 28-370 windows at reduction 1; 0.19-0.82 % at reduction 2; in-sample).
MAX_PATCH_SHARE = 0.0015
MIN_PATCH_WINDOWS = 12


def garbage_patch_share(rgb: np.ndarray, block_px: int = 8) -> tuple[float, int]:
    """Share of the windows of blocks in which most blocks' boundaries do not fit.

    :func:`garbage_start` looks for garbage across whole strips, from one on to
    the end. A damaged HEVC stream (as if coded in wavefront rows, each row
    of coding units restarting its arithmetic coder) or a damaged WebP can
    leave garbage on one side only: most of each strip is intact and its median
    stays low. Here each window of :data:`PATCH_WINDOW` x
    :data:`PATCH_WINDOW` blocks counts when at least :data:`PATCH_DENSITY`
    of its blocks have a boundary excess (:func:`block_excess`) above
    :data:`PATCH_BLOCK_EXCESS`. A photograph's edges fall anywhere, so even
    its sharpest texture rarely makes a dense window.

    Parameters
    ----------
    rgb : numpy.ndarray, shape (h, w, 3), uint8
        Decoded pixels in stored orientation.
    block_px : int
        The block grid's period in these pixels.

    Returns
    -------
    share : float
        0-1; 0 for an image smaller than one window.
    windows : int
        How many windows were judged.

    Examples
    --------
    >>> import numpy as np
    >>> flat = np.full((256, 256, 3), 128, np.uint8)
    >>> garbage_patch_share(flat)
    (0.0, 784)
    >>> blocks = np.random.default_rng(0).integers(0, 256, (8, 8, 3), dtype=np.uint8)
    >>> flat[:64, :64] = np.kron(blocks, np.ones((8, 8, 1), np.uint8))  # a garbled corner
    >>> share, windows = garbage_patch_share(flat)
    >>> round(share, 3), round(share * windows)
    (0.042, 33)
    """
    excess = block_excess(rgb, block_px)
    n = PATCH_WINDOW
    if excess.shape[0] < n or excess.shape[1] < n:
        return 0.0, 0
    misfit = (excess > PATCH_BLOCK_EXCESS).astype(np.int32)
    # The misfits in each n x n window of blocks (valid windows only), from a summed-area table.
    table = np.pad(misfit.cumsum(axis=0).cumsum(axis=1), ((1, 0), (1, 0)))
    counts = table[n:, n:] - table[:-n, n:] - table[n:, :-n] + table[:-n, :-n]
    return float(np.mean(counts >= PATCH_DENSITY * n * n)), counts.size


def check_garbage_patches(rgb: np.ndarray, shown: str, reduction: int = 1) -> None:
    """Refuse a decoded HEIC or WebP with patches of codec garbage (:func:`garbage_patch_share`).

    Parameters as in :func:`check_blocks_plausible`. Judged at reductions 1 and 2 (a grid
    of 8 and 4 px), where the limits were chosen.

    Raises
    ------
    CorruptPhotoError
    """
    if reduction > 2:
        return
    share, windows = garbage_patch_share(rgb, 8 // reduction)
    if share > MAX_PATCH_SHARE and share * windows >= MIN_PATCH_WINDOWS:
        raise CorruptPhotoError(
            f"{shown} is corrupt ({share:.1%} of it is patches of {8 // reduction}-px blocks that do not "
            f"fit together (limit {MAX_PATCH_SHARE:.2%}), the garbage a damaged compressed stream decodes to)")


def check_blocks_plausible(rgb: np.ndarray, shown: str, reduction: int = 1, rule: GarbageRule = DEFAULT_RULE) -> None:
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
    rule : GarbageRule
        The thresholds (:data:`JPEG_RULE` for a JPEG).

    Raises
    ------
    CorruptPhotoError
        With the strip where the garbage starts.
    """
    block_px = 8 // reduction
    if block_px < 4:
        return
    # A large photo is judged on every stride-th block row (the garbage
    # covers all of them from its start on): half the cost at 24 megapixels.
    stride = max(1, -(-(rgb.shape[0] // block_px) // rule.max_strips))
    excess = strip_excess(rgb, block_px, stride)
    if len(excess) + 1 < MIN_IMAGE_STRIPS:
        return
    start = garbage_start(excess, rule)
    if start is not None:
        raise CorruptPhotoError(
            f"{shown} is corrupt (from decoded row {(1 + start * stride) * block_px} of {rgb.shape[0]} on, its "
            f"{block_px}-px blocks no longer fit together: a median {float(np.median(excess[start:])):.0f} grey "
            "levels of edge at their boundaries, the garbage a damaged compressed stream decodes to)"
        )
