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

The outer borders of both lips are first moved by the symmetric shifts the
refinement found in the image (:class:`lipsym.refine.SizeBorders`), when
given: MediaPipe's mesh prior keeps the symmetric part of a lip's size near
an average lip, which the bilateral refinement cannot correct
(docs/accuracy.md, "Sensitivity to a symmetric growth"). Only these
measures use the shifts: the sided measures, and so every asymmetry, are
measured on the refined points alone.
"""

from __future__ import annotations

import numpy as np

from lipsym.measures._unmeasured import attempt
from lipsym.measures._values import ScalarMeasure, absolute
from lipsym.measures._vermilion import hemi_areas_px2, lip_polygon, lower_height_px, mid_hemilip_x, upper_height_px

#: Keys of the absolute measures, in registry (and output) order.
ABSOLUTE_KEYS = ("intercommissural_width", "upper_vermilion_height_midline", "lower_vermilion_height_midline",
                 "upper_vermilion_height_mid_mean", "lower_vermilion_height_mid_mean",
                 "upper_lower_vermilion_ratio", "philtrum_length", "upper_vermilion_area", "lower_vermilion_area")


def shifted_borders(outer_upper: np.ndarray, outer_lower: np.ndarray, labrale_superius: np.ndarray,
                    ch_r: np.ndarray, ch_l: np.ndarray, borders, ipd_px: float):
    """The outer contours and labrale superius moved by the symmetric border shifts.

    Parameters
    ----------
    outer_upper, outer_lower : ndarray, shape (n, 2)
        Dense contours, frame px.
    labrale_superius, ch_r, ch_l : ndarray, shape (2,)
        Frame px; labrale superius moves with the upper border at the midline.
    borders : SizeBorders
    ipd_px : float

    Returns
    -------
    tuple of ndarray
        The moved outer upper, outer lower (shape (n, 2)) and labrale
        superius (shape (2,)), frame px; the inputs are not changed.
    """
    half_width = 0.5 * (abs(float(ch_r[0])) + abs(float(ch_l[0])))
    moved = []
    for lip, contour in (("upper", outer_upper), ("lower", outer_lower)):
        c = np.array(contour, dtype=float)
        c[:, 1] += ipd_px * borders.shift_at(lip, c[:, 0] / half_width)
        moved.append(c)
    ls = np.array(labrale_superius, dtype=float)
    ls[1] += ipd_px * float(borders.shift_at("upper", np.array([0.0]))[0])
    return moved[0], moved[1], ls


def absolute_measures(outer_upper: np.ndarray, inner_upper: np.ndarray, outer_lower: np.ndarray,
                      inner_lower: np.ndarray, ch_r: np.ndarray, ch_l: np.ndarray, subnasale: np.ndarray,
                      labrale_superius: np.ndarray, scale, ipd_px: float,
                      unmeasured: dict[str, str] | None = None, size_borders=None) -> list[ScalarMeasure]:
    """Absolute lip measures from dense contours and points in frame px.

    Parameters
    ----------
    outer_upper, inner_upper, outer_lower, inner_lower : ndarray, shape (n, 2)
        Dense contours (subject right → left), frame px.
    ch_r, ch_l, subnasale, labrale_superius : ndarray, shape (2,)
        Cheilia, subnasale and labrale superius, frame px.
    scale : Scale
    ipd_px : float
    unmeasured : dict of str to str, optional
        When given, a height whose contour does not reach its x (a strongly
        turned head) is left without a value, with its key and reason added
        here (:func:`lipsym.measures._unmeasured.attempt`); otherwise
        :class:`~lipsym.errors.MeasurementError` propagates.
    size_borders : SizeBorders, optional
        Symmetric shifts of the outer borders (:class:`lipsym.refine.SizeBorders`),
        applied first (:func:`shifted_borders`); None measures the contours as given.

    Returns
    -------
    list of ScalarMeasure
        In registry order.
    """
    if size_borders is not None:
        outer_upper, outer_lower, labrale_superius = shifted_borders(
            outer_upper, outer_lower, labrale_superius, ch_r, ch_l, size_borders, ipd_px)
    x_r, x_l = mid_hemilip_x(ch_r), mid_hemilip_x(ch_l)

    def upper_mid():
        return upper_height_px(outer_upper, inner_upper, 0.0)

    def lower_mid():
        return lower_height_px(outer_lower, inner_lower, 0.0)

    def ratio():
        low = lower_mid()
        return upper_mid() / low if low > 0 else float("nan")

    def mean(height, outer, inner):
        return 0.5 * (height(outer, inner, x_r) + height(outer, inner, x_l))

    values = {
        "intercommissural_width": lambda: float(np.linalg.norm(ch_l - ch_r)),
        "upper_vermilion_height_midline": upper_mid,
        "lower_vermilion_height_midline": lower_mid,
        "upper_vermilion_height_mid_mean": lambda: mean(upper_height_px, outer_upper, inner_upper),
        "lower_vermilion_height_mid_mean": lambda: mean(lower_height_px, outer_lower, inner_lower),
        "upper_lower_vermilion_ratio": ratio,
        "philtrum_length": lambda: float(np.linalg.norm(labrale_superius - subnasale)),
        "upper_vermilion_area": lambda: sum(hemi_areas_px2(lip_polygon(outer_upper, inner_upper))),
        "lower_vermilion_area": lambda: sum(hemi_areas_px2(lip_polygon(outer_lower, inner_lower))),
    }
    return [attempt(key, lambda key=key, f=f: absolute(key, f(), scale, ipd_px), unmeasured)
            for key, f in values.items()]
