"""Cupid's bow measures.

Each peak (crista philtri) is the highest point of the upper vermilion
border on its side (:func:`lipsym.face.cupids_bow_peak`), not a fixed
vertex. Measured per side: the peak's height above labrale superius (the
depth of the bow), its offset from the midline, and its height in the frame
(relative to the interpupillary line); and the bow width, peak to peak.
Peers do not measure the Cupid's bow; normative work finds vermilion height
at the paramedian peaks exceeds that at the midline (PubMed 34402316).
"""

from __future__ import annotations

import numpy as np

from lipsym.measures._values import ScalarMeasure, SidedMeasure, scalar, sided


def cupids_bow_measures(peak_r: np.ndarray, peak_l: np.ndarray, ls: np.ndarray, scale,
                        ipd_px: float) -> tuple[list[SidedMeasure], list[ScalarMeasure]]:
    """Cupid's bow measures from frame coordinates (px).

    Parameters
    ----------
    peak_r, peak_l : ndarray, shape (2,)
        Right and left Cupid's bow peaks, frame px.
    ls : ndarray, shape (2,)
        Labrale superius, frame px.
    scale : Scale
    ipd_px : float
    """
    out = [
        sided("bow_peak_height_above_labrale_superius", peak_r[1] - ls[1], peak_l[1] - ls[1], scale, ipd_px),
        sided("bow_peak_offset", -peak_r[0], peak_l[0], scale, ipd_px),
        sided("bow_peak_height", peak_r[1], peak_l[1], scale, ipd_px),
    ]
    width_mm = float(np.linalg.norm(peak_l - peak_r)) * scale.mm_per_px
    scalars = [scalar("bow_width", width_mm, width_mm * scale.relative_uncertainty)]
    return out, scalars
