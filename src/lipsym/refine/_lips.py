"""Bilateral refinement of the lip landmarks: the whole, pair by pair."""

from __future__ import annotations

from functools import partial

import numpy as np

from lipsym.face._frame import FacialFrame, frame_from_landmarks
from lipsym.refine._bow import first_pass_grid, refine_bow
from lipsym.refine._commissures import find_fissure_ends, place_on_fissure, refine_commissures
from lipsym.refine._evidence import measure_confidence
from lipsym.refine._hair import hair_score
from lipsym.refine._mouth import sample_mouth
from lipsym.refine._pairs import BOW_PAIR, COMMISSURES, LIP_PAIR_INDICES, LIP_PAIRS, refine_pair
from lipsym.refine._pupils import refine_pupils
from lipsym.refine._result import PairRefinement, Refinement
from lipsym.refine._size import search_size_borders


#: The lip landmarks reach at most this far from the pupils' midpoint in a
#: photo the two sides can be registered in, fraction of the IPD (the larger
#: of x and y; frontal London faces 1.1-1.4, landmarks turned by 60° 2.2-2.9,
#: by 70° 3.0-4.4, by 85° 8-30, by 90° 15-101). Beyond it the pupils nearly coincide (a
#: profile): the mouth grid's size grows with the square of this ratio, and a
#: landmark set turned by 89° asked for 100 M samples (several GB; one London face at
#: ±90° asked for 73 GB) where a frontal face needs 0.3 M.
MAX_LIP_EXTENT_IPD = 4.0


def refine_lips(rgb: np.ndarray, points_px: np.ndarray, frame: FacialFrame) -> Refinement:
    """Correct the asymmetric part of the pupils' and the lip landmarks' positions from the image.

    Parameters
    ----------
    rgb : ndarray, shape (H, W, 3), uint8
        The photo the landmarks are in (the landmarks' pixel grid).
    points_px : ndarray, shape (478, 2 or 3), float, photo px
        Flip-averaged landmarks in ``rgb``'s pixels, subject sides.
    frame : FacialFrame
        Built from the same landmarks and pixels.

    Returns
    -------
    Refinement
        Its points are measured in the frame :func:`lipsym.face.frame_from_landmarks`
        builds from them: the pupils are refined first (:func:`refine_pupils`),
        and the lips in the frame of the refined pupils.
    """
    lips = frame.to_frame(np.asarray(points_px)[list(LIP_PAIR_INDICES), :2])
    extent = float(np.max(np.abs(lips))) / frame.interpupillary_distance_px
    if not extent <= MAX_LIP_EXTENT_IPD:
        return _unrefined(points_px, f"head turned too far to register the two sides (the lips reach {extent:.1f} "
                                     f"IPD from the pupils' midpoint; limit {MAX_LIP_EXTENT_IPD:g})")
    pts, pupils = refine_pupils(rgb, points_px, frame)
    if pupils.used:
        frame = frame_from_landmarks(pts)
    mouth = sample_mouth(rgb, pts, frame)
    bow_first_pass = first_pass_grid(mouth, frame.to_frame(pts[list(BOW_PAIR), :2]))
    # The commissures are first moved along the lip line to the end of the
    # oral fissure, so that their registration measures the corner itself.
    ends = find_fissure_ends(mouth, pts, frame)
    fissure = place_on_fissure(ends, pts, frame)
    special = {COMMISSURES: partial(refine_commissures, frame=frame, fissure=fissure, mediapipe_px=points_px,
                                    fissure_ends=ends),
               BOW_PAIR: partial(refine_bow, first_pass=bow_first_pass, hair=hair_score(rgb, pts, frame))}
    # Every landmark in the frame, moved pair by pair in LIP_PAIRS' order: a
    # contour pair's normal runs through its neighbours as already refined.
    f_all = frame.to_frame(pts[:, :2])
    pairs = tuple(special.get(pair, refine_pair)(pair, f_all, mouth) for pair in LIP_PAIRS)
    moved = [i for p in pairs if p.used for i in (p.left, p.right)]
    if moved:
        pts[moved, :2] = frame.to_photo(f_all[moved])
    pts.flags.writeable = False
    # The symmetric part of the outer borders, for the size measures only (the
    # points keep MediaPipe's symmetric part: the sided measures do not move).
    size_borders = search_size_borders(mouth, f_all)
    used = [p.used for p in pairs]
    return Refinement(points_px=pts, pairs=pairs, fallback_fraction=1.0 - sum(used) / len(used),
                      commissure_used=used[LIP_PAIRS.index(COMMISSURES)], pupils=pupils,
                      measure_confidence=measure_confidence(pairs), size_borders=size_borders)


def _unrefined(points_px: np.ndarray, reason: str) -> Refinement:
    """A refinement that moved nothing: every pair keeps MediaPipe's positions, for ``reason``."""
    pts = np.array(points_px, dtype=np.float64)
    pts.flags.writeable = False
    pairs = tuple(PairRefinement(*pair, np.zeros(2), 0.0, False, reason) for pair in LIP_PAIRS)
    return Refinement(points_px=pts, pairs=pairs, fallback_fraction=1.0, commissure_used=False,
                      measure_confidence=measure_confidence(pairs))
