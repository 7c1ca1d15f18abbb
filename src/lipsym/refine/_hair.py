"""Facial hair over the upper lip's skin, which the Cupid's bow registration cannot see through.

A moustache or dense stubble covers the skin just above the vermilion border
with dark, fine texture. The bow's mirrored patches then register hair
against hair, and the border the annotators see under it is not what they
align: on the development sets' bearded faces lipsym's bow asymmetry was
1.6-2.5 times as far from the manual points as answering zero, with its
correlation peak as sharp as on a clear border, so the sharpness limit
(:data:`lipsym.refine._evidence.BOW_MIN_SHARPNESS`) did not catch it
(docs/accuracy.md, "Facial hair over the Cupid's bow").

The score compares the skin band between the upper lip's border and the nose
with the cheeks beside the mouth, at the same height: how much darker it is
(luminance, grey levels) times how much more fine texture it has (SD of the
luminance minus its blur at 0.6 % IPD, band over cheeks). Both factors are
needed: a philtrum in shadow is darker but smooth, fine skin texture is not
dark. The samples lie on a grid symmetric about the midline, and the band's
outline is symmetrised, so a mirrored photo gives the same score.
"""

from __future__ import annotations

import numpy as np

from lipsym.face._anatomy import OUTER_UPPER
from lipsym.face._frame import FacialFrame
from lipsym.refine._evidence import ramp
from lipsym.refine._grid import mirror_exact_blur, resample_features, sampling_step_px

_SUBNASALE = 2
_CORNERS = (61, 291)
#: The band: from this far above the upper lip's outer border to this far below subnasale (IPD), within
#: this fraction of the half mouth width of the midline.
BAND_FROM_BORDER_IPD, BAND_TO_NOSE_IPD, BAND_HALF_WIDTH = 0.015, 0.02, 0.8
#: The cheeks: beside the mouth corners, from this far out to this far out (IPD), and from subnasale down
#: by this much (IPD).
CHEEK_FROM_CORNER_IPD, CHEEK_TO_CORNER_IPD, CHEEK_HEIGHT_IPD = 0.07, 0.17, 0.10
#: The texture is what a Gaussian blur of this SD (IPD) removes: a hair's width at these resolutions.
TEXTURE_BLUR_IPD = 0.006
#: Below this interpupillary distance (px) the score fades, and below 3/4 of it there is none: the band is
#: then under ~15 px tall, and JPEG ringing at the lip and nostril edges reads as texture. London's 34
#: neutral photos downscaled and saved at JPEG q75: at IPD ~161 px no face without a beard reached the
#: ramp (36), at ~98 px one of 30 (045, 48), at ~78 px six, at ~59 px eleven; the three dense beards
#: stayed at 68-136 throughout. (The mouth grid's own limit, ``_grid.MIN_IPD_SAMPLES``, is the same
#: 160: below it the grid samples between pixels.)
MIN_IPD_PX = 160.0


def hair_score(rgb: np.ndarray, points_px: np.ndarray, frame: FacialFrame) -> float:
    """How much the skin above the upper lip looks like facial hair (0 for skin like the cheeks').

    Parameters
    ----------
    rgb : ndarray, shape (H, W, 3), uint8
    points_px : ndarray, shape (478, 2 or 3), float, photo px
        Flip-averaged landmarks in ``rgb``'s pixels.
    frame : FacialFrame

    Returns
    -------
    float
        (cheek − band median luminance, grey levels, at least 0) × (band / cheek texture SD),
        faded to 0 as the interpupillary distance falls from :data:`MIN_IPD_PX` to 3/4 of it
        (too few pixels to tell hair from compression). On the development photos, faces
        without a beard scored 6-38 (stubble included) and dense beards 73-127
        (docs/accuracy.md, "Facial hair over the Cupid's bow").

    Examples
    --------
    >>> import numpy as np
    >>> from lipsym.face import frame_from_landmarks
    >>> from lipsym.face._anatomy import OUTER_UPPER
    >>> from lipsym.refine._hair import hair_score
    >>> pts = np.zeros((478, 2))
    >>> pts[468], pts[473] = (300.0, 200.0), (500.0, 200.0)   # pupils, IPD 200 px
    >>> pts[list(OUTER_UPPER)] = np.c_[np.linspace(330, 470, 11), np.full(11, 440.0)]
    >>> pts[2], pts[13], pts[14] = (400.0, 370.0), (400.0, 456.0), (400.0, 458.0)
    >>> skin = np.full((700, 800, 3), 180, np.uint8)
    >>> hair_score(skin, pts, frame_from_landmarks(pts))      # uniform skin: no darker band
    0.0
    """
    pts = frame.to_frame(np.asarray(points_px, dtype=np.float64)[:, :2])
    ipd = frame.interpupillary_distance_px
    resolved = ramp(ipd, 0.75 * MIN_IPD_PX, MIN_IPD_PX)
    if resolved == 0.0:
        return 0.0
    step = sampling_step_px(ipd)
    border = pts[list(OUTER_UPPER)]
    half_width = 0.5 * (pts[_CORNERS[1], 0] - pts[_CORNERS[0], 0])
    nose_y = pts[_SUBNASALE, 1]
    reach = half_width + CHEEK_TO_CORNER_IPD * ipd
    n = int(np.ceil(reach / step))
    u = step * np.arange(-n, n + 1, dtype=np.float64)
    low = float(border[:, 1].min()) - step
    m = int(np.ceil((nose_y - low) / step))
    v = nose_y - step * np.arange(0, m + 1, dtype=np.float64)
    lum = resample_features(rgb, frame, u, v)[..., 0]
    sigma = TEXTURE_BLUR_IPD * ipd / step
    texture = lum - mirror_exact_blur(lum, sigma)
    # The band's lower edge follows the border, symmetrised so that a mirrored photo gives the same mask.
    order = np.argsort(border[:, 0])
    edge = np.interp(np.abs(u), border[order, 0], border[order, 1])
    edge = 0.5 * (edge + np.interp(-np.abs(u), border[order, 0], border[order, 1]))
    uu, vv = np.meshgrid(u, v)
    band = ((np.abs(uu) <= BAND_HALF_WIDTH * half_width) & (vv >= edge[None, :] + BAND_FROM_BORDER_IPD * ipd)
            & (vv <= nose_y - BAND_TO_NOSE_IPD * ipd))
    cheeks = ((np.abs(uu) >= half_width + CHEEK_FROM_CORNER_IPD * ipd) & (np.abs(uu) <= reach)
              & (vv >= nose_y - CHEEK_HEIGHT_IPD * ipd))
    if band.sum() < 4 or cheeks.sum() < 4:
        return 0.0
    darker = max(0.0, float(np.median(lum[cheeks]) - np.median(lum[band])))
    cheek_texture = float(np.std(texture[cheeks]))
    if not cheek_texture > 0.0:
        return 0.0
    return resolved * darker * float(np.std(texture[band])) / cheek_texture
