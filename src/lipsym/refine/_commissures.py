"""The commissures: moved to the end of the oral fissure, then registered.

Manual annotators put the mouth corner where the oral fissure ends
(:mod:`._fissure`). The fissure's end fixes how far out each corner lies;
the registration that follows measures the corner's height asymmetry at the
corner itself, and the two fissure ends give the pair's mean height. The
height asymmetry is registered from the other start too (MediaPipe's
corners, or the fissure ends when they were not trusted): a corner whose
height depends on the start is weak evidence (:data:`START_DISAGREEMENT_IPD`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Mapping

import numpy as np

from lipsym.face._frame import FacialFrame
from lipsym.refine._evidence import ramp
from lipsym.refine._fissure import fissure_end
from lipsym.refine._pairs import COMMISSURES, INNER_CORNERS, LandmarkPair, pair_in_frame, shifted
from lipsym.refine._registration import SymmetricGrid
from lipsym.refine._result import Evidence, PairRefinement
from lipsym.sides import Side

#: Gain on the commissure pair's registered residual (not on MediaPipe's
#: part nor on the fissure's lateral placement). Flip-averaged MediaPipe
#: recovers 0.50 of a planted commissure lift (20 faces, 1-3 mm), and with
#: the weighted registration the total was 0.95: the registration sees 0.9 of
#: the residual it should, the rest being the plant's fade over the weighted
#: patch. With the gain: sensitivity 0.99-1.02 and manual slope 1.00
#: (docs/accuracy.md). The other pairs are not scaled (not validated).
CORNER_GAIN = 1.0 / 0.9
_MIRROR_X = np.array([-1.0, 1.0])
#: Fissure ends are not trusted (MediaPipe's corners are registered instead)
#: when one lies this much further out of MediaPipe's corner than the other,
#: fraction of IPD: a fissure followed along a skin crease on one side. Why
#: a test of its own: the 2-D registration used to reject such ends (they do
#: not register as mirror images), but the height registration
#: (:meth:`SymmetricGrid.register_height`) does not look along the lip line.
#: Chosen on both validation sets (London 34 + 3DSK 50 neutral faces, so
#: in-sample): the one crease (London 038: 3.5 % IPD, its height asymmetry
#: read −1.4 against 2.2 % IPD manual) lies above every other face (at most
#: 2.6 % IPD, 3DSK male_slavomir; 90th percentile 1.5 %).
MAX_FISSURE_LATERAL_ASYMMETRY_IPD = 0.03
#: The commissures' registered height asymmetry is judged by where it was
#: started from: registered from the fissure ends and from MediaPipe's
#: corners, a corner that is found should give the same height asymmetry
#: (the registration searches ±0.05 IPD across the lip line). Above this
#: disagreement, fraction of IPD, the result depends on which corner the
#: fissure decision picked: the pair is weak evidence, and its registered
#: correction fades out (to MediaPipe's height at
#: :data:`START_DISAGREEMENT_FULL_IPD`), linearly so that the height is
#: continuous in the photo. Why: London 038 read +0.75 or −0.64 mm
#: depending on whether a ×1.05 rescale put its crease just inside
#: :data:`MAX_FISSURE_LATERAL_ASYMMETRY_IPD` (94 % of the pooled variance of
#: the commissure height under re-processing; docs/accuracy.md "Standard
#: errors"). Chosen on London (34 neutral, 34 smiling) and 3DSK (50
#: neutral), so in-sample: 038 disagrees by 2.3-2.7 % IPD as it is and under
#: each of its six re-processings (benchmarks/_perturb.py), every other photo by at
#: most 0.81 % IPD (London smiling 131).
START_DISAGREEMENT_IPD = 0.01
#: ... and the correction is gone at this disagreement, fraction of IPD.
START_DISAGREEMENT_FULL_IPD = 0.015


@dataclass(frozen=True)
class FissureCorners:
    """The commissures placed at the ends of the oral fissure.

    Attributes
    ----------
    points_px : mapping of Side to ndarray, shape (2,), float, photo px
        Each cheilion, moved along the lip line to its fissure end.
    height_frame_px : float
        Mean frame height (y up) of the two fissure ends, frame px.
    """

    points_px: Mapping[Side, np.ndarray]
    height_frame_px: float


def find_fissure_ends(grid: SymmetricGrid, points_px: np.ndarray, frame: FacialFrame) -> FissureCorners | None:
    """Where the oral fissure ends on each side, without moving anything (:func:`place_on_fissure` decides).

    Parameters
    ----------
    grid : SymmetricGrid
        The mouth (:func:`._mouth.sample_mouth`); its luminance is searched.
    points_px : ndarray, shape (478, 2 or 3), float64, photo px
        Landmarks in the grid's photo.
    frame : FacialFrame

    Returns
    -------
    FissureCorners or None
        None when either side's fissure cannot be followed.
    """
    found = _commissures_from_fissure(grid.feats[..., 0], grid.u, grid.v, points_px, frame)
    if found is None:
        return None
    right_px, left_px, height = found
    return FissureCorners({Side.RIGHT: right_px, Side.LEFT: left_px}, height)


def place_on_fissure(ends: FissureCorners | None, points_px: np.ndarray, frame: FacialFrame) -> FissureCorners | None:
    """Move the cheilia of ``points_px`` (in place) to the ends of the oral fissure.

    Parameters
    ----------
    ends : FissureCorners or None
        :func:`find_fissure_ends`.
    points_px : ndarray, shape (478, 2 or 3), float64, photo px
        Landmarks in the grid's photo; the commissure rows are overwritten
        when the ends are trusted.
    frame : FacialFrame

    Returns
    -------
    FissureCorners or None
        ``ends``, or None (``points_px`` unchanged) when there are none, or
        when one end lies much further out of MediaPipe's corner than the
        other (:data:`MAX_FISSURE_LATERAL_ASYMMETRY_IPD`).
    """
    if ends is None:
        return None
    right_px, left_px = ends.points_px[Side.RIGHT], ends.points_px[Side.LEFT]
    # How far each end lies outward of MediaPipe's corner, frame px (the
    # right one mirrored): a mirror-symmetric test.
    out = [float(frame.to_frame(new)[0] - frame.to_frame(points_px[COMMISSURES.on(side), :2])[0]) * sign
           for new, side, sign in ((left_px, Side.LEFT, 1.0), (right_px, Side.RIGHT, -1.0))]
    if abs(out[0] - out[1]) > MAX_FISSURE_LATERAL_ASYMMETRY_IPD * frame.interpupillary_distance_px:
        return None
    points_px[COMMISSURES.right, :2], points_px[COMMISSURES.left, :2] = right_px, left_px
    return ends


def _commissures_from_fissure(lum: np.ndarray, u: np.ndarray, v: np.ndarray, points_px: np.ndarray,
                              frame: FacialFrame) -> tuple[np.ndarray, np.ndarray, float] | None:
    """Both cheilia moved along the lip line to the end of the oral fissure; None if either side fails.

    Returns the right and left cheilion in photo px, and the mean frame
    height (px, y up) of the two fissure ends.

    The fissure's end (:func:`lipsym.refine.fissure_end`) fixes how far out
    each corner lies; its height stays that of ``points_px``, and the
    registration that follows measures it at the corner itself. On the
    London set (34 neutral faces) this cuts the median cheilion error against
    the manual points from 1.49 to 1.16 % IPD and the repeatability SD of the
    commissure height asymmetry from 0.105 to 0.041 mm, against the fissure's
    own height (0.23 mm). The right side is the left-side search on the
    left-right reversed image (``u`` is symmetric), so a mirrored photo gives
    the mirrored result.
    """
    ipd = frame.interpupillary_distance_px
    ends, heights = {}, []
    for side in (Side.LEFT, Side.RIGHT):
        image, m = (lum, np.ones(2)) if side is Side.LEFT else (lum[:, ::-1], _MIRROR_X)
        f_outer = frame.to_frame(points_px[COMMISSURES.on(side), :2]) * m
        f_inner = frame.to_frame(points_px[INNER_CORNERS.on(side), :2]) * m
        end, _ = fissure_end(image, u, v, f_outer, f_inner, ipd)
        if end is None:
            return None
        ends[side] = np.array([end[0], f_outer[1]]) * m
        heights.append(float(end[1]))
    return frame.to_photo(ends[Side.RIGHT]), frame.to_photo(ends[Side.LEFT]), 0.5 * (heights[0] + heights[1])


def refine_commissures(pair: LandmarkPair, points_frame_px: np.ndarray, grid: SymmetricGrid, *,
                       frame: FacialFrame, fissure: FissureCorners | None,
                       mediapipe_px: np.ndarray, fissure_ends: FissureCorners | None = None) -> PairRefinement:
    """Register the commissure pair's height (:meth:`SymmetricGrid.register_height`, with :data:`CORNER_GAIN`) and move it.

    Only the height is registered: the lateral positions are the fissure
    ends' (or MediaPipe's without them).

    Parameters
    ----------
    pair : LandmarkPair
        :data:`lipsym.refine.COMMISSURES`.
    points_frame_px : ndarray, shape (478, 2), float, frame px
        All landmarks, the commissures at ``fissure`` when given; the pair's
        two rows are moved in place when the registration is used.
    grid : SymmetricGrid
        The mouth.
    frame : FacialFrame
    fissure : FissureCorners or None
        From :func:`place_on_fissure`.
    mediapipe_px : ndarray, shape (478, 2 or 3), float, photo px
        MediaPipe's landmarks, before any refinement.
    fissure_ends : FissureCorners or None
        :func:`find_fissure_ends`, trusted or not: the other start the
        height asymmetry is checked from (:data:`START_DISAGREEMENT_IPD`).

    Returns
    -------
    PairRefinement
        With the fissure, its residual is the total correction from
        MediaPipe's corners (for the record); ``used`` stays the
        registration's: without it the height is MediaPipe's. Its evidence
        is weak when the two starts disagree.
    """
    f_l, f_r = pair_in_frame(points_frame_px, pair)
    residual, peak, reason, evidence = grid.register_height(f_l, f_r)
    # The other start the result is judged from (_judge_start): MediaPipe's
    # corners after the fissure ends, the fissure ends after MediaPipe's
    # corners; none when the fissure ends could not be registered.
    mediapipe_start = (frame.to_frame(mediapipe_px[pair.left, :2]), frame.to_frame(mediapipe_px[pair.right, :2]))
    other = (mediapipe_start if fissure is not None else None if fissure_ends is None else
             (frame.to_frame(fissure_ends.points_px[Side.LEFT]), frame.to_frame(fissure_ends.points_px[Side.RIGHT])))
    if reason and fissure is not None:
        # Fissure ends that do not register as mirror images of each other (a
        # crease followed on one side only) are not trusted: the corners
        # MediaPipe found are registered instead.
        f_l, f_r = mediapipe_start
        retry = grid.register_height(f_l, f_r)
        if not retry[2]:
            (residual, peak, reason, evidence), fissure, other = retry, None, None
    if reason:
        if fissure is None:
            return PairRefinement(*pair, np.zeros(2), peak, False, reason, evidence=evidence)
        return PairRefinement(*pair, _total_correction(pair, frame, fissure.points_px, mediapipe_px), peak, False,
                              reason, "fissure", evidence)
    residual = CORNER_GAIN * residual
    fade, evidence = _judge_start(f_l, f_r, residual, other, grid, frame.interpupillary_distance_px, evidence)
    residual = (1.0 - fade) * residual
    new_l, new_r = shifted(f_l, f_r, residual)
    if fissure is None:
        points_frame_px[pair.left], points_frame_px[pair.right] = new_l, new_r
        return PairRefinement(*pair, residual, peak, True, evidence=evidence, weight=1.0 - fade)
    new_l, new_r = _symmetric_height(new_l, new_r, fissure.height_frame_px)
    points_frame_px[pair.left], points_frame_px[pair.right] = new_l, new_r
    placed_px = {Side.LEFT: frame.to_photo(new_l), Side.RIGHT: frame.to_photo(new_r)}
    return PairRefinement(*pair, _total_correction(pair, frame, placed_px, mediapipe_px), peak, True, "",
                          "registration+fissure", evidence, weight=1.0 - fade)


def _judge_start(f_l: np.ndarray, f_r: np.ndarray, residual: np.ndarray,
                 other: tuple[np.ndarray, np.ndarray] | None, grid: SymmetricGrid, ipd_px: float,
                 evidence: Evidence) -> tuple[float, Evidence]:
    """How much of the registered correction to fade out, and the evidence judged by the other start.

    ``f_l``, ``f_r`` (frame px) are where the registration started and
    ``residual`` its result (with :data:`CORNER_GAIN`); ``other`` the other
    start (frame px) or None. The height asymmetry each start leads to is
    its landmarks' own plus its registered residual; when the other start
    cannot be registered there is nothing to compare, and the result stands.
    """
    if other is None:
        return 0.0, evidence
    o_l, o_r = other
    alt, _, reason, _ = grid.register_height(o_l, o_r)
    if reason:
        return 0.0, evidence
    apart = abs((f_l[1] - f_r[1] + residual[1]) - (o_l[1] - o_r[1] + CORNER_GAIN * alt[1])) / ipd_px
    if apart <= START_DISAGREEMENT_IPD:
        return 0.0, evidence
    why = (f"the corners' height depends on where the fissure is taken to end ({100 * apart:.1f} % IPD "
           f"between the fissure ends and MediaPipe's corners)")
    return ramp(apart, START_DISAGREEMENT_IPD, START_DISAGREEMENT_FULL_IPD), replace(evidence, strong=False, reason=why)


def _symmetric_height(left: np.ndarray, right: np.ndarray, height: float) -> tuple[np.ndarray, np.ndarray]:
    """Move both points of a pair (frame px) by one vertical shift, so that their mean height is ``height``.

    The registration measures the commissures' asymmetry and keeps
    MediaPipe's mean height; the two fissure ends measure the mean height
    better (London, 34 neutral faces: vertical error SD 0.52 against 0.75 %
    IPD of the manual cheilia), but each alone repeats poorly (SD of the
    height asymmetry 0.23 mm against 0.05 mm registered). Both points move
    together, so every left − right asymmetry is unchanged and a mirrored
    photo still gives the mirrored result.
    """
    shift = np.array([0.0, height - 0.5 * (left[1] + right[1])])
    return left + shift, right + shift


def _total_correction(pair: LandmarkPair, frame: FacialFrame, placed_px: Mapping[Side, np.ndarray],
                      mediapipe_px: np.ndarray) -> np.ndarray:
    """The pair's asymmetric correction from MediaPipe's points to ``placed_px``, frame px, shape (2,).

    The left point's displacement minus the mirror image of the right one's
    (the residual ``s`` of a pair moved by registration alone).
    """
    moved = {side: frame.to_frame(placed_px[side]) - frame.to_frame(mediapipe_px[pair.on(side), :2]) for side in Side}
    return moved[Side.LEFT] - moved[Side.RIGHT] * _MIRROR_X
