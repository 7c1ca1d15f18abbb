"""The Cupid's bow pair: a wide, smoothed first pass, then the border at the peak itself.

Its first (contour) registration differs from the other pairs' in two ways,
and after it the pair is registered a second time, at the corrected
positions, with a window narrow along the border: half-width
:data:`BOW_HALF_X_IPD` (a quarter or less of the peak's distance from the
midline), full patch height, and a search of :data:`BOW_SEARCH_IPD` across
the lip for what the first pass left.

Why the second pass: the border's asymmetry is zero at the midline (both
sides share labrale superius) and largest at the peak; the contour patch
(half-size 0.055 IPD) spans from near the midline to beyond the peak, so it
returns an average of the asymmetry over the bow, a face-dependent fraction
of it. The narrow window measures the border at the peak's own column; the
wide first pass keeps the capture robust (a narrow window as the only pass:
0.76-0.80 of a planted lift at 1-2 mm, SD 0.20-0.57 mm).

The first pass searches :data:`BOW_WIDE_SEARCH_IPD` across the lip (≈ 5 mm,
the others 0.05 IPD ≈ 3 mm): flip-averaged MediaPipe recovers nothing of a
bow lift (London, simulator: 0.01), so a 3 mm asymmetry is all residual, and
with the others' search it ended on the search border (19 of 34 faces fell
back at 3 mm; 1 with this one). And it registers the features smoothed by a
Gaussian of SD :data:`BOW_BLUR_IPD` (≈ 0.3 mm, a London pixel): a large
asymmetry deforms one side's patch against the other's, and fine texture
(stubble, lip lines) then decorrelates first; the weakest face's correlation
at 3 mm went from 0.60 (below MIN_PEAK_CORRELATION: it fell back) to 0.68,
the others' by 0.01-0.10 (median 0.02), with the same agreement with the
manual points (bow height asymmetry r 0.707, slope 1.00).

For this pair only, a second correlation maximum across the lip fades the
correction only when it is a distinct match (the scores dip by
AMBIGUITY_MARGIN between it and the best): the outer upper border has no
second border of the same polarity within reach, so a near-equal maximum
there is a ripple of a flat peak, and fading on it switched the correction
on and off (repeatability SD of the bow peak asymmetry 0.136 mm with the
plain rule, 0.050 with this one). The other contours keep the plain rule,
which the lower vermilion of a smile needs (tests/test_visit_acceptance.py).

With these, and the peak located along the border on MediaPipe's contour
(:func:`lipsym.face.cupids_bow_peak`), a planted 0.5-3 mm lift of one peak
is recovered as 0.99-1.00 (34 faces, SD ≤ 0.13 mm; docs/accuracy.md).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from lipsym.refine._evidence import BOW_LIMITS, WEAK_BOW_WEIGHT, bow_weight, hair_weight, judge, judge_hair, weaker
from lipsym.refine._grid import mirror_exact_blur, samples
from lipsym.refine._pairs import CORNER_PAIRS, LandmarkPair, normal_component, pair_in_frame, refine_pair, shifted
from lipsym.refine._registration import CONTOUR_SEARCH_X_PX, SymmetricGrid
from lipsym.refine._result import NO_EVIDENCE, PairRefinement

#: Half-width of the second pass's window along the border, fraction of IPD.
BOW_HALF_X_IPD = 0.02
#: The second pass's search across the lip, fraction of IPD.
BOW_SEARCH_IPD = 0.03
#: The first pass's search across the lip, fraction of IPD.
BOW_WIDE_SEARCH_IPD = 0.08
#: SD of the first pass's smoothing, fraction of IPD.
BOW_BLUR_IPD = 0.005
#: The second pass takes a soft maximum along the border (correlation score
#: units; :func:`lipsym.refine._registration.register_patch`'s ``soft_along``).
#: Why: its narrow window on the bow's tilted flank gives a ridge of scores,
#: and where the ridge is flat its best column jumped from one end of the
#: ±2-sample search along the border to the other, the row with it. The
#: crop of London 094 that benchmarks/fuzz_measured.py mutates read −0.004
#: or −0.17 mm under benign re-processing (SD 0.089 mm, against an SE of
#: 0.05). With 0.005: SD 0.044 mm; London's pooled re-processing SD 0.0462
#: → 0.0445 mm; bow agreement London r 0.719 → 0.729, MAE 0.495 → 0.492,
#: 3DSK 0.681 → 0.677, 0.456 → 0.458 (% IPD, limits 0.507 / 0.462);
#: planted lifts unchanged within 0.01 (docs/accuracy.md). 0.002: SD 0.059;
#: 0.01: 0.038 with London MAE 0.500. Registering the height only at the
#: landmarks' columns (SD 0.036) or searching ±1 / 0 samples raised London's
#: MAE past its limit (0.546 / 0.514 / 0.524). Chosen on that crop and the
#: London set, checked on 3DSK.
BOW_ALONG_SOFTNESS = 0.005


def bow_room_px(step_px: float, half: int, ipd_px: float) -> float:
    """How far beyond the pair the mouth grid must reach for the first pass, frame px.

    Parameters
    ----------
    step_px : float
        Frame px between grid samples.
    half : int
        Patch half-size, samples.
    ipd_px : float
        Interpupillary distance, frame px.
    """
    return _bow_reach(step_px, half, ipd_px)[1] + samples(BOW_WIDE_SEARCH_IPD, ipd_px, step_px, 2) * step_px


def first_pass_grid(grid: SymmetricGrid, bow_frame_px: np.ndarray) -> SymmetricGrid:
    """The smoothed grid of the first pass (see :data:`BOW_BLUR_IPD`), cut from the mouth grid around the pair.

    Parameters
    ----------
    grid : SymmetricGrid
        The mouth (:func:`._mouth.sample_mouth`).
    bow_frame_px : ndarray, shape (2, 2), float, frame px
        The pair's two points.

    Returns
    -------
    SymmetricGrid
        With the wide search (:data:`BOW_WIDE_SEARCH_IPD`). Only the samples
        the pair's patches and search can reach are smoothed; the cut reaches
        beyond them by the kernel's reach, so its edges do not change them,
        and it is symmetric about the midline.
    """
    step, half, ipd = grid.step, grid.half, grid.ipd_px
    search = samples(BOW_WIDE_SEARCH_IPD, ipd, step, 2)
    sigma, reach = _bow_reach(step, half, ipd)
    half_w = float(np.max(np.abs(bow_frame_px[:, 0]))) + reach + CONTOUR_SEARCH_X_PX * step
    top = float(np.max(bow_frame_px[:, 1])) + reach + search * step
    bottom = float(np.min(bow_frame_px[:, 1])) - reach - search * step
    cols = np.flatnonzero(np.abs(grid.u) <= half_w)
    rows = np.flatnonzero((grid.v <= top) & (grid.v >= bottom))
    cut = grid.feats[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
    return SymmetricGrid(mirror_exact_blur(cut, sigma), grid.u[cols[0]:cols[-1] + 1], grid.v[rows[0]:rows[-1] + 1],
                         step, half, search, ipd)


def refine_bow(pair: LandmarkPair, points_frame_px: np.ndarray, grid: SymmetricGrid, *,
               first_pass: SymmetricGrid, hair: float = 0.0) -> PairRefinement:
    """Register the Cupid's bow pair in two passes and move it.

    Parameters
    ----------
    pair : LandmarkPair
        :data:`lipsym.refine.BOW_PAIR`.
    points_frame_px : ndarray, shape (478, 2), float, frame px
        All landmarks; the pair's two rows are moved in place when the first
        pass is used.
    grid : SymmetricGrid
        The mouth, for the second pass.
    first_pass : SymmetricGrid
        :func:`first_pass_grid`.
    hair : float
        :func:`lipsym.refine._hair.hair_score` of the photo: above
        :data:`lipsym.refine._evidence.BOW_MAX_HAIR_SCORE` the bow's evidence
        is weak, and its weight fades as for a flat peak.

    Returns
    -------
    PairRefinement
        The residual of both passes (the second's only when it is sound too).
    """
    f_l, f_r = pair_in_frame(points_frame_px, pair)
    first = refine_pair(pair, points_frame_px, first_pass, distinct_only=True)
    if not first.used:
        return replace(first, evidence=judge_hair(judge(first.evidence or NO_EVIDENCE, BOW_LIMITS), hair))
    # What the first pass left, measured at its (still mirror-consistent)
    # positions with the narrow window.
    step, ipd = grid.step, grid.ipd_px
    more, _, reason, second = grid.register(points_frame_px[pair.left], points_frame_px[pair.right],
                                            pair in CORNER_PAIRS, half_x=samples(BOW_HALF_X_IPD, ipd, step, 1),
                                            search_y=samples(BOW_SEARCH_IPD, ipd, step, 2), distinct_only=True,
                                            soft_along=BOW_ALONG_SOFTNESS)
    residual = first.residual_frame_px
    if reason:
        second = replace(second, strong=False, reason=f"second pass: {reason}")
    else:
        residual = residual + normal_component(more, points_frame_px, pair)
    evidence = judge_hair(judge(weaker(first.evidence, second), BOW_LIMITS), hair)
    # A flat or ambiguous peak: the border was not found reliably on both
    # sides (see lipsym.refine._evidence); hair above the border: the
    # patches register hair, not the border. The weight is continuous in
    # the sharpness and in the hair score, so that a bow at a limit does not jump.
    weight = WEAK_BOW_WEIGHT if reason else min(bow_weight(evidence.sharpness), hair_weight(hair))
    residual = weight * residual
    points_frame_px[pair.left], points_frame_px[pair.right] = shifted(f_l, f_r, residual)
    return replace(first, residual_frame_px=residual, evidence=evidence, weight=weight)


def _bow_reach(step_px: float, half: int, ipd_px: float) -> tuple[float, float]:
    """Smoothing SD of the first pass (samples), and how far its grid must reach beyond a patch centre
    (frame px, without the search): the patch, two samples of rounding, and the smoothing kernel's reach."""
    sigma = BOW_BLUR_IPD * ipd_px / step_px
    return sigma, (half + 2 + int(np.ceil(4.0 * sigma)) + 1) * step_px
