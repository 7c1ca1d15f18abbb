"""Vermilion measures: heights per side and hemi-vermilion areas.

- Vermilion height at mid-hemilip: vertical distance (frame y) between the
  outer (vermilion border) and inner (lip contact) contour, taken halfway
  between the midline and the cheilion of that side (Emotrics); upper and
  lower lip separately.
- Vermilion height at the Cupid's bow peak: the same at the peak's x.
- Hemi-vermilion areas: the area between outer and inner contour of each lip,
  split at the facial midline (Emotrics+ / Dynaface use the polygons; the
  ends are closed by straight segments from cheilion to inner mouth corner).
"""

from __future__ import annotations

import numpy as np

from lipsym.measures._contours import clip_half_plane, height_at, polygon_area_px2
from lipsym.measures._unmeasured import attempt
from lipsym.measures._values import SidedMeasure, sided


def upper_height_px(outer_upper: np.ndarray, inner_upper: np.ndarray, x_px: float) -> float:
    """Upper vermilion height (frame y, outer above inner) at frame x, px."""
    return height_at(outer_upper, x_px) - height_at(inner_upper, x_px)


def lower_height_px(outer_lower: np.ndarray, inner_lower: np.ndarray, x_px: float) -> float:
    """Lower vermilion height (frame y, inner above outer) at frame x, px."""
    return height_at(inner_lower, x_px) - height_at(outer_lower, x_px)


def mid_hemilip_x(cheilion: np.ndarray) -> float:
    """Frame x halfway between the midline and a cheilion, px."""
    return 0.5 * float(cheilion[0])


def lip_polygon(outer: np.ndarray, inner: np.ndarray) -> np.ndarray:
    """Closed vermilion polygon of one lip: its outer contour, then its inner contour back."""
    return np.vstack([outer, inner[::-1]])


def hemi_areas_px2(polygon_px: np.ndarray) -> tuple[float, float]:
    """Areas of a lip polygon on the subject's right (x ≤ 0) and left (x ≥ 0) of the midline, px²."""
    return (polygon_area_px2(clip_half_plane(polygon_px, keep_negative_x=True)),
            polygon_area_px2(clip_half_plane(polygon_px, keep_negative_x=False)))


def vermilion_measures(outer_upper: np.ndarray, inner_upper: np.ndarray, outer_lower: np.ndarray,
                       inner_lower: np.ndarray, ch_r: np.ndarray, ch_l: np.ndarray, peak_r: np.ndarray,
                       peak_l: np.ndarray, scale, ipd_px: float,
                       unmeasured: dict[str, str] | None = None) -> list[SidedMeasure]:
    """Vermilion heights and areas from dense contours in frame px.

    Parameters
    ----------
    outer_upper, inner_upper, outer_lower, inner_lower : ndarray, shape (n, 2)
        Dense contours (subject right → left), frame px.
    ch_r, ch_l, peak_r, peak_l : ndarray, shape (2,)
        Cheilia and Cupid's bow peaks, frame px.
    scale : Scale
    ipd_px : float
    unmeasured : dict of str to str, optional
        When given, a height whose contour does not reach its x (a strongly
        turned head) is left without a value and its key and reason are
        added here (:func:`lipsym.measures._unmeasured.attempt`); otherwise
        :class:`~lipsym.errors.MeasurementError` propagates.
    """
    def upper_h(x):
        return upper_height_px(outer_upper, inner_upper, x)

    def lower_h(x):
        return lower_height_px(outer_lower, inner_lower, x)

    mid_r, mid_l = mid_hemilip_x(ch_r), mid_hemilip_x(ch_l)
    heights = (("upper_vermilion_height_mid", upper_h, mid_r, mid_l),
               ("lower_vermilion_height_mid", lower_h, mid_r, mid_l),
               ("upper_vermilion_height_peak", upper_h, peak_r[0], peak_l[0]),
               ("lower_vermilion_height_peak", lower_h, peak_r[0], peak_l[0]))
    out = [attempt(key, lambda h=h, r=r, l=l, key=key: sided(key, h(r), h(l), scale, ipd_px), unmeasured)
           for key, h, r, l in heights]
    upper_poly, lower_poly = lip_polygon(outer_upper, inner_upper), lip_polygon(outer_lower, inner_lower)
    for key, poly in (("upper_hemi_vermilion_area", upper_poly), ("lower_hemi_vermilion_area", lower_poly)):
        out.append(sided(key, *hemi_areas_px2(poly), scale, ipd_px))
    return out
