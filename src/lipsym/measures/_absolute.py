"""Absolute lip measures: how large the lips are, not how asymmetric.

What a clinician follows after a filler treatment (the swelling going down,
volume and height settling over two weeks). All in the facial frame (x
towards the subject's left, y up; :class:`lipsym.face.FacialFrame`), from
the refined anatomy, in mm:

- intercommissural width: cheilion to cheilion (Euclidean);
- vermilion height at the midline: upper (outer above inner contour) and
  lower (inner above outer contour), where the lip contours cross the facial
  midline x = 0, along the frame's y. The contour crossings rather than the
  labrale / stomion points are used so that parted lips give each lip its
  own inner border (the stomion is the mean of the two);
- vermilion height at mid-hemilip, the mean of the sides (the sides
  themselves are the right / left of the sided ``*_vermilion_height_mid``);
- upper:lower ratio: of the midline heights (dimensionless);
- philtrum length: subnasale (MediaPipe 2, docs/reference.md §3) to labrale
  superius (Euclidean);
- vermilion areas: each lip's hemi-areas summed (the sides are the sided
  ``*_hemi_vermilion_area``).

Each carries a standard error from :func:`lipsym.measures._values.absolute`.
"""

from __future__ import annotations

import numpy as np

from lipsym.measures._values import ScalarMeasure, absolute
from lipsym.measures._vermilion import hemi_areas_px2, lip_polygon, lower_height_px, mid_hemilip_x, upper_height_px

#: Keys of the absolute measures, in registry (and output) order.
ABSOLUTE_KEYS = ("intercommissural_width", "upper_vermilion_height_midline", "lower_vermilion_height_midline",
                 "upper_vermilion_height_mid_mean", "lower_vermilion_height_mid_mean",
                 "upper_lower_vermilion_ratio", "philtrum_length", "upper_vermilion_area", "lower_vermilion_area")


def absolute_measures(outer_upper: np.ndarray, inner_upper: np.ndarray, outer_lower: np.ndarray,
                      inner_lower: np.ndarray, ch_r: np.ndarray, ch_l: np.ndarray, subnasale: np.ndarray,
                      labrale_superius: np.ndarray, scale, ipd_px: float) -> list[ScalarMeasure]:
    """Absolute lip measures from dense contours and points in frame px.

    Parameters
    ----------
    outer_upper, inner_upper, outer_lower, inner_lower : ndarray, shape (n, 2)
        Dense contours (subject right → left), frame px.
    ch_r, ch_l, subnasale, labrale_superius : ndarray, shape (2,)
        Cheilia, subnasale and labrale superius, frame px.
    scale : Scale
    ipd_px : float

    Returns
    -------
    list of ScalarMeasure
        In registry order.
    """
    upper_mid = upper_height_px(outer_upper, inner_upper, 0.0)
    lower_mid = lower_height_px(outer_lower, inner_lower, 0.0)
    x_r, x_l = mid_hemilip_x(ch_r), mid_hemilip_x(ch_l)
    upper_mean = 0.5 * (upper_height_px(outer_upper, inner_upper, x_r) + upper_height_px(outer_upper, inner_upper, x_l))
    lower_mean = 0.5 * (lower_height_px(outer_lower, inner_lower, x_r) + lower_height_px(outer_lower, inner_lower, x_l))
    ratio = upper_mid / lower_mid if lower_mid > 0 else float("nan")
    return [
        absolute("intercommissural_width", float(np.linalg.norm(ch_l - ch_r)), scale, ipd_px),
        absolute("upper_vermilion_height_midline", upper_mid, scale, ipd_px),
        absolute("lower_vermilion_height_midline", lower_mid, scale, ipd_px),
        absolute("upper_vermilion_height_mid_mean", upper_mean, scale, ipd_px),
        absolute("lower_vermilion_height_mid_mean", lower_mean, scale, ipd_px),
        absolute("upper_lower_vermilion_ratio", ratio, scale, ipd_px),
        absolute("philtrum_length", float(np.linalg.norm(labrale_superius - subnasale)), scale, ipd_px),
        absolute("upper_vermilion_area", sum(hemi_areas_px2(lip_polygon(outer_upper, inner_upper))), scale, ipd_px),
        absolute("lower_vermilion_area", sum(hemi_areas_px2(lip_polygon(outer_lower, inner_lower))), scale, ipd_px),
    ]
