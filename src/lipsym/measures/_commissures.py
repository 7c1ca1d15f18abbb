"""Commissure (mouth-corner) measures.

Definitions and sources (docs/measures.md has figures; units, descriptions
and sign meanings are in :mod:`lipsym.measures._registry`):

- commissure height: frame y of each cheilion, i.e. its height relative to the
  interpupillary line (negative = below it). Emotrics' commissure height
  difference is the asymmetry of this quantity.
- commissure lateral distance: |frame x| of each cheilion, its horizontal
  distance from the facial midline.
- lip cant: angle of the cheilion-to-cheilion line against the
  interpupillary line; positive when the subject's left corner is higher.
- commissure excursion (CE): distance from the point where the midline
  crosses the outer lower-lip contour to each cheilion (Emotrics).
- smile angle: 90° + asin(y′ / CE), y′ = the cheilion's height above that
  lower-lip midline point (Emotrics; > 90° when the corner is above it).
- Facial Asymmetry Index: |d(en_R, ch_R) − d(en_L, ch_L)|, endocanthion to
  cheilion distances (Malm et al. 2018, as in Dynaface).
"""

from __future__ import annotations

import math

import numpy as np

from lipsym.measures._values import ScalarMeasure, SidedMeasure, scalar, sided, sided_angle


def commissure_measures(ch_r: np.ndarray, ch_l: np.ndarray, en_r: np.ndarray, en_l: np.ndarray,
                        lower_mid: np.ndarray, scale, ipd_px: float) -> list[SidedMeasure]:
    """Sided commissure measures from points in frame coordinates (px).

    Parameters
    ----------
    ch_r, ch_l : ndarray, shape (2,)
        Right and left cheilion, frame px (x towards the subject's left, y up).
    en_r, en_l : ndarray, shape (2,)
        Right and left endocanthion, frame px.
    lower_mid : ndarray, shape (2,)
        Midline point of the outer lower-lip contour, frame px.
    scale : Scale
    ipd_px : float

    Returns
    -------
    list of SidedMeasure
        The scalars that follow from them: :func:`commissure_scalars`.
    """
    out = [
        sided("commissure_height", ch_r[1], ch_l[1], scale, ipd_px),
        sided("commissure_lateral", -ch_r[0], ch_l[0], scale, ipd_px),
    ]
    ce_r = float(np.linalg.norm(ch_r - lower_mid))
    ce_l = float(np.linalg.norm(ch_l - lower_mid))
    out.append(sided("commissure_excursion", ce_r, ce_l, scale, ipd_px))
    angle_r = 90.0 + math.degrees(math.asin(np.clip((ch_r[1] - lower_mid[1]) / ce_r, -1, 1)))
    angle_l = 90.0 + math.degrees(math.asin(np.clip((ch_l[1] - lower_mid[1]) / ce_l, -1, 1)))
    out.append(sided_angle("smile_angle", angle_r, angle_l))
    d_r = float(np.linalg.norm(en_r - ch_r))
    d_l = float(np.linalg.norm(en_l - ch_l))
    out.append(sided("endocanthion_cheilion", d_r, d_l, scale, ipd_px))
    return out


def commissure_scalars(ch_r: np.ndarray, ch_l: np.ndarray, height: SidedMeasure, fai: SidedMeasure,
                       scale) -> list[ScalarMeasure]:
    """The lip cant and the Facial Asymmetry Index, from the sided measures they restate.

    Parameters
    ----------
    ch_r, ch_l : ndarray, shape (2,)
        Right and left cheilion, frame px.
    height, fai : SidedMeasure
        ``commissure_height`` and ``endocanthion_cheilion`` as finally
        reported: a standard error widened for weak image evidence
        (:func:`lipsym.measures._photo._widen_weak`) carries over.
    scale : Scale

    Returns
    -------
    list of ScalarMeasure
        ``lip_cant`` (deg) and ``facial_asymmetry_index`` (mm).
    """
    cant = math.degrees(math.atan2(ch_l[1] - ch_r[1], ch_l[0] - ch_r[0]))
    # The cant is the height asymmetry seen over the mouth's width: its
    # standard error is that of the height asymmetry over that width.
    width_mm = float(np.linalg.norm(ch_l - ch_r)) * scale.mm_per_px
    cant_se = math.degrees(height.standard_error / width_mm) if width_mm > 0 else 0.0
    return [scalar("lip_cant", cant, cant_se),
            scalar("facial_asymmetry_index", abs(fai.asymmetry), fai.standard_error)]
