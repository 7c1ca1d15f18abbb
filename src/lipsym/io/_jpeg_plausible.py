"""Plausibility of a decoded JPEG: a brightness or colour step from one block on (issue #15).

A baseline JPEG codes each block's DC value (its mean) as the difference
from the previous block's, in scan order. A damaged byte that changes one
such difference and leaves a valid Huffman stream offsets that component
(Y, Cb or Cr) by the same constant in every block from there to the end of
the scan (or the next restart marker): decoders accept it silently
(benchmarks/fuzz_photos.py, docs/photos.md).

In the decoded image that offset is invisible inside the offset region;
what gives it away is its edge, a *staircase* of MCU boundaries: the left
edge of the first offset MCU, the top edges of the rest of its MCU row, and
the top edges of the next MCU row up to that MCU. Every one of those
boundaries steps by the same constant, across the full image width, while
a natural edge changes along its length and the boundaries of a photo saved
at low quality step by different amounts in different places.

Per MCU boundary row the check measures the signed step of Y, Cb and Cr
across the boundary minus the local gradient (:func:`boundary_steps`), for
every staircase the median step and the median absolute deviation from it
(:func:`step_start`), and refuses a photo where a staircase steps by a
large amount, consistently.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lipsym.errors import CorruptPhotoError

# RGB -> Y, Cb, Cr (JFIF, without the offsets): applied to steps, which are differences.
_RGB_TO_YCC = np.array([[0.299, 0.587, 0.114],
                        [-0.168736, -0.331264, 0.5],
                        [0.5, -0.418688, -0.081312]])

# The three staircase thresholds (see step_start) were chosen on every photo
# under /work/shared/data (London, 3DSK, invariance, portraits) and
# sample_images/ (132 files) and re-encodings of each in /tmp (JPEG q 15-95
# with 4:2:0 and 4:4:4 chroma, progressive q 85, cropped by 3 x 5 px, upscaled
# 1.5x, 320 px wide): 3036 files, 12144 decodes at reductions 1-8, none
# refused (docs/photos.md, 2 December 2026). Photos saved at q 15-25 band
# by about one DC quantisation step along whole boundaries of their smooth
# backgrounds (3DSK josef at q 15: 7.1 levels, quantisation step 7.1), hence
# STEP_QUANTA; the closest, 320-px-wide re-encodings at q 25, step by 5.0
# levels against a threshold of 6.4 (0.79 of it). The fuzz counts of
# benchmarks/fuzz_photos.py (q 90 corpus: STEP_MIN decides there) were in
# view (in-sample).

#: A staircase's median step must be above this (grey levels of Y, Cb or Cr) ...
STEP_MIN = 6.0
#: ... and the step must be this many times the median absolute deviation around it.
STEP_CONSISTENCY = 4.0
#: ... and this many of the file's DC quantisation steps.
STEP_QUANTA = 1.5
#: Or, for an offset that clips (its step then varies with what it
#: offsets, so its MAD is large): a median step this many times the
#: threshold ...
CLIPPED_STEP_FACTOR = 3.0
#: ... with this share of the staircase's steps beyond the threshold the
#: same way. Chosen on the intact JPEGs of the staircase thresholds above and
#: their re-encodings (none refused, 2 December 2026, fifth session; docs/photos.md)
#: with the face mutants of benchmarks/fuzz_measured.py seed 2 in view.
CLIPPED_SHARE = 0.9
#: The width is judged in at most this many column groups (cost).
MAX_GROUPS = 32
#: A column group reads at most this many MCUs (the first of its stretch):
#: less than half the pixels of a 6000-px-wide photo, and none of the photos
#: the thresholds were chosen on has more than 6 MCUs per group.
MAX_GROUP_MCUS = 6
#: Images with fewer MCU rows or column groups than this are not judged.
MIN_MCUS = 4
#: A quantisation table entry this many times off the median of its zigzag
#: neighbours (either way) ... Every table of the 130 JPEGs under
#: /work/shared/data and sample_images/, and Pillow's at q 5-100 (4:4:4 and
#: 4:2:0) and OpenCV's at q 30-100, is within 2.0 (2 December 2026, fifth
#: session; one damaged table of benchmarks/fuzz_measured.py: 16.9).
TABLE_SPIKE_RATIO = 4.0
#: ... and this many quantisation steps off it, is a damaged table.
TABLE_SPIKE_STEPS = 8


@dataclass(frozen=True)
class JpegGrid:
    """What the DC-step check needs from a JPEG's headers."""

    #: The MCU's height and width in full-size pixels (8 times the largest sampling factors).
    mcu_px: tuple[int, int]
    #: The largest DC quantisation step over the file's tables, in grey levels
    #: of the decoded component (the table's DC entry / 8): a DC difference
    #: changed by n offsets a component by n times a table's step.
    dc_step_levels: float
    #: Over the tables, the AC entry furthest (as a ratio) from the median of
    #: its zigzag neighbours among those more than TABLE_SPIKE_STEPS from it,
    #: as (entry, median); (1, 1.0) if none.
    table_spike: tuple[int, float] = (1, 1.0)


def jpeg_grid(data: bytes) -> JpegGrid | None:
    """The MCU size and DC quantisation step from the headers before the first scan, or None if not found."""
    pos, size = 2, len(data)
    dc_entries: list[int] = []
    spike = (1, 1.0)
    mcu_px = None
    while pos + 4 <= size:
        if data[pos] != 0xFF:
            return None
        marker = data[pos + 1]
        if marker == 0xFF:
            pos += 1
            continue
        if marker in (0xDA, 0xD9):
            break
        length = int.from_bytes(data[pos + 2 : pos + 4], "big")
        segment = data[pos + 4 : pos + 2 + length]
        if marker == 0xDB:  # DQT: one or more tables of 64 entries, 8- or 16-bit
            at = 0
            while at < len(segment):
                wide = segment[at] >> 4
                if at + 1 + (2 if wide else 1) > len(segment):
                    break
                n = 2 if wide else 1
                entries = [int.from_bytes(segment[at + 1 + n * i : at + 1 + n * (i + 1)], "big") for i in range(64)]
                dc_entries.append(entries[0])
                spike = max(spike, _table_spike(entries), key=lambda pair: _spike_ratio(*pair))
                at += 1 + 64 * n
        elif 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):  # SOFn
            count = segment[5] if len(segment) > 5 else 0
            factors = [segment[7 + 3 * c] for c in range(count) if 7 + 3 * c < len(segment)]
            if factors:
                mcu_px = (8 * max(f & 15 for f in factors), 8 * max(f >> 4 for f in factors))
        pos += 2 + length
    if mcu_px is None or not dc_entries or min(mcu_px) == 0:
        return None
    return JpegGrid(mcu_px, max(dc_entries) / 8, spike)


def _spike_ratio(entry: int, median: float) -> float:
    """How far ``entry`` is from ``median``, as a ratio (>= 1); infinite for the forbidden entry 0."""
    if entry == 0:
        return float("inf")
    return entry / max(median, 1.0) if entry >= median else max(median, 1.0) / entry


def _median(values: list[int]) -> float:
    ordered = sorted(values)
    half = len(ordered) // 2
    return float(ordered[half]) if len(ordered) % 2 else 0.5 * (ordered[half - 1] + ordered[half])


def _table_spike(entries: list[int]) -> tuple[int, float]:
    """The entry (zigzag order) furthest, as a ratio, from the median of the two entries on each side.

    Only entries more than :data:`TABLE_SPIKE_STEPS` from that median count:
    the small tables of quality 95 and above step between 1 and 2 (ratio 2).
    The DC entry (0) is judged against AC entries 1 and 2. An entry of 0,
    which the standard forbids (ITU-T T.81 B.2.4.1) and which decodes to a
    grey photo without that coefficient, is returned as (0, median).
    """
    worst = (1, 1.0)
    for i in range(len(entries)):
        around = [entries[j] for j in range(max(0, i - 2), min(len(entries), i + 3)) if j != i]
        # Four numbers at most: Python's median, not numpy's (a 64-entry loop, twice a photo).
        median = _median(around) if around else 1.0
        if entries[i] == 0:
            return 0, median
        if around and abs(entries[i] - median) > TABLE_SPIKE_STEPS:
            worst = max(worst, (entries[i], median), key=lambda pair: _spike_ratio(*pair))
    return worst


def check_quant_tables(grid: JpegGrid | None, shown: str) -> None:
    """Refuse a JPEG whose quantisation table holds one entry far from its neighbours.

    Encoders scale a smooth table, coarser with frequency (IJG's at every
    quality, OpenCV's, and every camera's and editor's among the shared
    photos): a changed byte in a DQT segment leaves one entry
    out of line, and every block of the photo then carries too much or too
    little of that one pattern (a halftone screen over the whole photo,
    benchmarks/fuzz_measured.py case 302). Refused when the entry is more than
    :data:`TABLE_SPIKE_RATIO` times (or less than 1 / that of) the median of
    the two entries on either side in zigzag order, and differs from it by
    more than :data:`TABLE_SPIKE_STEPS` quantisation steps (small tables
    of a photo saved at quality 95 and above step between 1 and 2).
    """
    if grid is None:
        return
    entry, median = grid.table_spike
    if _spike_ratio(entry, median) > TABLE_SPIKE_RATIO:
        what = ("which the JPEG standard forbids" if entry == 0
                else f"among neighbours of {median:g}, which decodes to a pattern over the whole photo")
        raise CorruptPhotoError(f"{shown} is corrupt (a quantisation table entry of {entry}, {what}: a damaged table)")


def boundary_steps(rgb: np.ndarray, mcu_h: int, mcu_w: int, groups: int) -> np.ndarray:
    """Signed step of Y, Cb, Cr across each MCU boundary row, per column group, minus the local gradient.

    Parameters
    ----------
    rgb : numpy.ndarray, shape (h, w, 3), uint8
        Decoded pixels in stored orientation.
    mcu_h, mcu_w : int
        The MCU's size in these pixels (at least 4 high).
    groups : int
        The width is split into this many stretches of whole MCUs (the MCUs
        left over at the right are not read); each group is the first
        :data:`MAX_GROUP_MCUS` MCUs of its stretch at most.

    Returns
    -------
    numpy.ndarray, shape (h // mcu_h - 1, groups, 3), float64
        For boundary rows 1, 2, ... (the top edge of MCU row j, pixel row
        ``b``): the mean over the group's columns of ``x[b+1] - x[b-2]`` (past
        libjpeg's chroma upsampling, which blurs a 4:2:0 step over rows b-1
        and b) minus 0.75 times the gradients ``x[b-2] - x[b-4]`` and
        ``x[b+3] - x[b+1]`` beside it (1.5 times their mean: the step spans 3 rows).
    """
    rows = rgb.shape[0] // mcu_h
    stretch_px = (rgb.shape[1] // mcu_w // groups) * mcu_w
    # Each group is its first MAX_GROUP_MCUS MCUs at most (cost, on photos wider than 6 x 32 MCUs).
    group_px = min(stretch_px, MAX_GROUP_MCUS * mcu_w)
    b = mcu_h * np.arange(1, rows)

    def row(offset: int) -> np.ndarray:
        stretches = rgb[b + offset, : groups * stretch_px].reshape(len(b), groups, 3 * stretch_px)
        return stretches[:, :, : 3 * group_px].astype(np.int16)

    above2, above, below, below2 = (row(offset) for offset in (-4, -2, 1, 3))
    # (below - above) - 0.75 ((above - above2) + (below2 - below)), times 4, per pixel and channel.
    step4 = 7 * (below - above) + 3 * (above2 - below2)
    # The group's mean per channel, as a product with a 0/1 matrix (BLAS; a sum over a middle axis is slower).
    channel_of = np.arange(3 * group_px) % 3
    pick = (channel_of[:, None] == np.arange(3)[None, :]).astype(np.float32) / (4 * group_px)
    step = step4.astype(np.float32) @ pick
    return step.astype(np.float64) @ _RGB_TO_YCC.T


def _stairs(steps: np.ndarray) -> np.ndarray:
    """The steps of every staircase, shape (rows - 1, groups, groups - 1, 3) (see :func:`staircase_scores`)."""
    groups = steps.shape[1]
    # Staircase k holds groups i != k: from row j+1 where i < k, from row j where i > k.
    others = np.array([[i for i in range(groups) if i != k] for k in range(groups)])  # (groups, groups - 1)
    from_next = others < np.arange(groups)[:, None]
    return np.where(from_next[None, :, :, None], steps[1:, others], steps[:-1, others])


def staircase_scores(steps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Median step and median absolute deviation of every staircase (boundary row j, starting column group k).

    The staircase starting at group k of boundary row j holds groups k+1..
    of row j and 0..k-1 of row j+1 (group k itself is partly offset).

    Returns
    -------
    (median, mad) : numpy.ndarray, each shape (rows - 1, groups, 3)
    """
    stair = _stairs(steps)
    median = np.median(stair, axis=2)
    mad = np.median(np.abs(stair - median[:, :, None, :]), axis=2)
    return median, mad


def step_start(steps: np.ndarray, threshold: float) -> tuple[int, int, int, float] | None:
    """The staircase that steps most consistently, as (boundary row, column group, component, step), else None.

    A staircase qualifies when the median step of one component over it is
    above ``threshold`` in size and above :data:`STEP_CONSISTENCY` times
    the median absolute deviation around it, or (an offset so large that
    the pixels clip at 0 or 255, and the step varies with what it offsets)
    above :data:`CLIPPED_STEP_FACTOR` times ``threshold`` with
    :data:`CLIPPED_SHARE` of its steps beyond ``threshold`` the same way.
    """
    rows, groups, _ = steps.shape
    if rows < 2:
        return None
    # A staircase's median exceeds the threshold only if more than half of its
    # groups-1 steps do, all of them in boundary rows j and j+1: only row
    # pairs with that many are scored (cheap; most photos have none).
    half = (groups - 1) // 2 + 1
    up, down = (steps > threshold).sum(axis=1), (steps < -threshold).sum(axis=1)
    pairs = np.flatnonzero(((up[:-1] + up[1:]) >= half).any(axis=1) | ((down[:-1] + down[1:]) >= half).any(axis=1))
    if len(pairs) == 0:
        return None
    chosen = np.concatenate([steps[pairs, None], steps[pairs + 1, None]], axis=1)  # (pairs, 2, groups, 3)
    stair = _stairs(chosen.reshape(-1, groups, 3))[0::2]  # staircases of row pair (j, j+1) only
    median = np.median(stair, axis=2)
    mad = np.median(np.abs(stair - median[:, :, None, :]), axis=2)
    same_way = np.mean(np.sign(median)[:, :, None, :] * stair > threshold, axis=2)
    hit = ((np.abs(median) > threshold) & (np.abs(median) > STEP_CONSISTENCY * mad)) | (
        (np.abs(median) > CLIPPED_STEP_FACTOR * threshold) & (same_way >= CLIPPED_SHARE))
    # A real staircase steps on both of its rows: the groups right of its start on row j AND the
    # groups left of it on row j + 1. A straight edge along one MCU boundary (a letterbox bar, a
    # photo pasted on a canvas, a backdrop's edge) steps on one row only and is not damage: the
    # app's 24 MP test canvas was refused before this (2 December 2026).
    for p, k, c in zip(*np.nonzero(hit)):
        on_row, on_next = chosen[p, 0, k + 1:, c], chosen[p, 1, :k, c]
        sign = np.sign(median[p, k, c])
        hit[p, k, c] = (len(on_row) > 0 and len(on_next) > 0
                        and sign * np.median(on_row) > threshold and sign * np.median(on_next) > threshold)
    if not hit.any():
        return None
    # A staircase beside the damaged one can qualify too (most of its steps
    # are the damaged one's): the likeliest start is the most consistent.
    score = np.where(hit, np.abs(median) / (mad + 1.0), -1.0)
    pair, group, component = np.unravel_index(np.argmax(score), score.shape)
    return int(pairs[pair]), int(group), int(component), float(median[pair, group, component])


def check_dc_steps(rgb: np.ndarray, grid: JpegGrid | None, shown: str, reduction: int = 1) -> None:
    """Refuse a decoded JPEG whose Y, Cb or Cr steps by one constant along a staircase of MCU boundaries.

    Parameters
    ----------
    rgb : numpy.ndarray, shape (h, w, 3), uint8
        Decoded pixels in stored orientation.
    grid : JpegGrid or None
        The file's MCU size and DC quantisation step (:func:`jpeg_grid`);
        None skips the check.
    shown : str
        The file as it goes into messages.
    reduction : int
        The decode's reduction (libjpeg's DCT scaling: the MCU is
        ``mcu_px / reduction`` px here). An MCU under 4 px high is not judged.

    Raises
    ------
    CorruptPhotoError
        With the decoded row where the step starts.
    """
    if grid is None:
        return
    mcu_h, mcu_w = grid.mcu_px[0] // reduction, grid.mcu_px[1] // reduction
    if mcu_h < 4 or mcu_w < 1:
        return
    rows, columns = rgb.shape[0] // mcu_h, rgb.shape[1] // mcu_w
    groups = min(MAX_GROUPS, columns)
    if rows < MIN_MCUS or groups < MIN_MCUS:
        return
    # A photo saved at low quality steps by one DC quantisation step along
    # smooth, banded backgrounds: the threshold stays above that.
    threshold = max(STEP_MIN, STEP_QUANTA * grid.dc_step_levels)
    found = step_start(boundary_steps(rgb, mcu_h, mcu_w, groups), threshold)
    if found is not None:
        row, _, component, step = found
        raise CorruptPhotoError(
            f"{shown} is corrupt (from decoded row {(row + 1) * mcu_h} of {rgb.shape[0]} on, its "
            f"{'Y Cb Cr'.split()[component]} is offset by {step:+.0f} levels across the full width, "
            "the mark of a damaged JPEG block value)"
        )
