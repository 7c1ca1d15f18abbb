"""The mouth resampled once per face, for every lip pair's registration."""

from __future__ import annotations

import numpy as np

from lipsym.face._frame import FacialFrame
from lipsym.refine._bow import bow_room_px
from lipsym.refine._fissure import REACH_IPD
from lipsym.refine._grid import resample_features, samples, sampling_step_px, symmetric_grid
from lipsym.refine._pairs import LIP_PAIR_INDICES
from lipsym.refine._registration import PATCH_HALF_IPD, SEARCH_IPD, SymmetricGrid

#: Lip vertices on the midline (labrale superius and inferius, the stomion
#: pair): no pair to register, but the grid spans them.
MIDLINE_LIP_VERTICES = (0, 17, 13, 14)


def sample_mouth(rgb: np.ndarray, points_px: np.ndarray, frame: FacialFrame) -> SymmetricGrid:
    """The mouth's features on a midline-symmetric grid, with the lip pairs' patch and search sizes.

    Parameters
    ----------
    rgb : ndarray, shape (H, W, 3), uint8
    points_px : ndarray, shape (478, 2 or 3), float, photo px
        Landmarks in ``rgb``'s pixels.
    frame : FacialFrame
        The frame the pairs are registered in.

    Returns
    -------
    SymmetricGrid
        Patch half-size :data:`PATCH_HALF_IPD`, search :data:`SEARCH_IPD`.
    """
    ipd = frame.interpupillary_distance_px
    step = sampling_step_px(ipd)
    half = samples(PATCH_HALF_IPD, ipd, step, 4)
    search = samples(SEARCH_IPD, ipd, step, 2)
    # Room for a patch and its search around every lip landmark, and beyond the
    # corners also for the fissure search's reach, so that a corner patch fits
    # at the farthest fissure end (a smaller grid all round let such a patch
    # leave the grid, and that commissure fell back); the grid's cost grows
    # with its area. Above the lips, also room for the bow's first pass
    # (longer search, smoothed).
    patch_room = (half + search + 2) * step
    lips = frame.to_frame(points_px[list(LIP_PAIR_INDICES + MIDLINE_LIP_VERTICES), :2])
    u, v = symmetric_grid(lips, margin_px=patch_room, step_px=step, margin_x_px=patch_room + REACH_IPD * ipd,
                          margin_top_px=max(patch_room, bow_room_px(step, half, ipd)))
    return SymmetricGrid(resample_features(rgb, frame, u, v), u, v, step, half, search, ipd)
