"""Quality flags: when a photo is outside the limits for reliable measurement.

A flagged photo is still measured (the numbers can be useful), but the flag
travels with every result so that nothing out of limits is reported silently.
Thresholds are module constants, documented in docs/quality.md with the
figures that chose them (London set, 34 people, neutral and smiling).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lipsym.face._frame import FacialFrame
from lipsym.landmarks._detector import FaceLandmarks
from lipsym.sides import Side

#: |yaw| above this: a head turned by 5° shifts the lip midline by about
#: sin(5°) × 15 mm ≈ 1.3 mm relative to the commissures, which sit ~15 mm
#: deeper; that is a clinically relevant lateral error. London neutral
#: photos: |yaw| ≤ 4.1°.
MAX_ABS_YAW_DEG = 5.0
#: |pitch| above this: vertical distances shrink and lip shape changes with
#: the viewing angle. London photos: |pitch| ≤ 12.4°.
MAX_ABS_PITCH_DEG = 15.0
#: |roll| above this: the frame corrects in-plane tilt exactly, but a
#: strongly tilted head is a sign of a non-standard photo.
MAX_ABS_ROLL_DEG = 15.0
#: Face narrower than this (distance between face-oval landmarks 234 and 454,
#: original pixels): MediaPipe's lip points shift by 0.25-2.3 % of the
#: interpupillary distance on faces under ~400 px (docs/reference.md §7);
#: London faces measure 404-522 px on this scale, so the flag is set a little
#: below, where the shift is certain rather than marginal.
MIN_FACE_WIDTH_PX = 350.0
#: Eyelid aperture / eye width below this: the iris (scale) and the pupils
#: (frame) are not measurable. Open eyes on the London set: 0.21-0.42.
MIN_EYE_OPENNESS = 0.12
#: Gap between the inner-lip midpoints (13, 14) above this fraction of the
#: interpupillary distance (≈ 1.2 mm): lips visibly parted. London neutral
#: photos with lips labelled closed: gap ≤ 1.4 %.
MAX_REST_LIP_GAP_IPD = 0.02
#: Angle between the pupil-based midline and the soft-tissue midline above
#: this: the face itself or the landmarks are skewed. London: ≤ 2.1°.
MAX_MIDLINE_ANGLE_DEG = 4.0
#: Median distance between the photo's and the mirror's landmarks above this
#: fraction of the IPD: MediaPipe is unsure of this face (London: ≤ 1.8 %).
MAX_FLIP_DISAGREEMENT_IPD = 0.03

#: Each eye's landmarks: upper and lower lid midpoints, outer and inner corners.
_EYE_LIDS = {Side.RIGHT: (159, 145, 33, 133), Side.LEFT: (386, 374, 263, 362)}


@dataclass(frozen=True)
class QualityFlag:
    """One reason a photo is outside the limits for reliable measurement.

    Attributes
    ----------
    code : str
        Stable machine-readable name (e.g. ``"head_turned"``).
    value : float
        The measured quantity.
    limit : float
        The threshold it crossed.
    unit : str
    message : str
        One line for people.
    """

    code: str
    value: float
    limit: float
    unit: str
    message: str


def eye_openness(points_px: np.ndarray) -> dict[Side, float]:
    """Eyelid aperture over eye width, per subject side.

    Parameters
    ----------
    points_px : ndarray, shape (478, 2 or 3), float, photo px
        Landmarks, subject sides.

    Returns
    -------
    dict of Side to float
        Lid-to-lid distance over corner-to-corner distance (dimensionless).
    """
    pts = np.asarray(points_px, dtype=np.float64)[:, :2]
    out = {}
    for side, (upper, lower, outer, inner) in _EYE_LIDS.items():
        out[side] = float(np.linalg.norm(pts[upper] - pts[lower]) / np.linalg.norm(pts[outer] - pts[inner]))
    return out


def quality_flags(landmarks: FaceLandmarks, frame: FacialFrame, *, expression: str = "rest") -> tuple[QualityFlag, ...]:
    """Every quality flag that applies to one analysed face.

    Parameters
    ----------
    landmarks : FaceLandmarks
    frame : FacialFrame
    expression : {"rest", "smile", "other"}
        Parted lips are flagged only at rest (a smile may show teeth).

    Returns
    -------
    tuple of QualityFlag
        Empty when the photo is within every limit.
    """
    pts = landmarks.points_px
    ipd = frame.interpupillary_distance_px
    pose = landmarks.pose
    flags = []

    def check(code, value, limit, unit, message, above=True):
        if (value > limit) if above else (value < limit):
            flags.append(QualityFlag(code, float(value), float(limit), unit, message))

    check("head_turned", abs(pose.yaw_deg), MAX_ABS_YAW_DEG, "deg",
          f"head turned {pose.yaw_deg:+.1f}° (limit ±{MAX_ABS_YAW_DEG:g}°): lateral measures are biased")
    check("head_pitched", abs(pose.pitch_deg), MAX_ABS_PITCH_DEG, "deg",
          f"head pitched {pose.pitch_deg:+.1f}° (limit ±{MAX_ABS_PITCH_DEG:g}°): vertical measures are foreshortened")
    check("head_tilted", abs(pose.roll_deg), MAX_ABS_ROLL_DEG, "deg",
          f"head tilted {pose.roll_deg:+.1f}° in the image plane (limit ±{MAX_ABS_ROLL_DEG:g}°)")
    face_width = float(np.linalg.norm(pts[234, :2] - pts[454, :2]))
    check("face_too_small", face_width, MIN_FACE_WIDTH_PX, "px",
          f"face {face_width:.0f} px wide (minimum {MIN_FACE_WIDTH_PX:g} px): landmarks are less precise", above=False)
    openness = min(eye_openness(pts).values())
    check("eyes_closed", openness, MIN_EYE_OPENNESS, "ratio",
          f"eye aperture {openness:.2f} of eye width (minimum {MIN_EYE_OPENNESS:g}): iris and pupils not measurable",
          above=False)
    if expression == "rest":
        gap = float(np.linalg.norm(pts[13, :2] - pts[14, :2]) / ipd)
        check("lips_parted", gap, MAX_REST_LIP_GAP_IPD, "fraction_of_ipd",
              f"lips parted at rest ({100 * gap:.1f} % of IPD, limit {100 * MAX_REST_LIP_GAP_IPD:g} %)")
    check("midline_skewed", abs(frame.soft_tissue_midline_angle_deg), MAX_MIDLINE_ANGLE_DEG, "deg",
          f"soft-tissue midline {frame.soft_tissue_midline_angle_deg:+.1f}° from the pupil midline "
          f"(limit ±{MAX_MIDLINE_ANGLE_DEG:g}°)")
    if landmarks.flip_disagreement_px is not None:
        dis = float(np.median(landmarks.flip_disagreement_px) / ipd)
        check("landmarks_unstable", dis, MAX_FLIP_DISAGREEMENT_IPD, "fraction_of_ipd",
              f"photo and mirror landmarks disagree by {100 * dis:.1f} % of IPD (limit {100 * MAX_FLIP_DISAGREEMENT_IPD:g} %)")
    return tuple(flags)
