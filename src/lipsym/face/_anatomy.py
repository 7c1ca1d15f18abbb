"""Named anatomical points and lip contours from the 478 landmarks.

Index choices follow docs/reference.md §3 (checked against Google's
face_mesh_connections.py and the canonical face model). Every ``_right`` /
``_left`` name is the SUBJECT'S side.

Cupid's bow peaks (crista philtri) are not a fixed vertex: on each side the
peak is the highest point, in the facial frame, of a smooth curve through the
upper vermilion border between labrale superius (vertex 0) and vertex 39
(right) / 269 (left). The curve is a natural cubic spline through the outer
upper-lip vertices, parametrised by chord length; both the spline and the
search are symmetric under mirroring, so a mirrored photo yields the mirrored
peaks. On refined landmarks the peak is located on MediaPipe's own contour
(where along the border it lies) and placed on the refined contour there:
the refinement moves each side by half the registered asymmetry around
MediaPipe's symmetric part, so a large asymmetry could lower the other side's
bow below labrale superius, whose highest point then jumped to the midline
(a planted 3 mm lift of one peak recovered as 0.95 on average over 34 London
faces, 0.83 on the worst; 1.00 with the peak located on MediaPipe's contour).
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Mapping

import numpy as np
from lipsym.face._spline import NaturalCubicSpline, chord_length_spline

from lipsym.face._frame import PUPIL_LEFT, PUPIL_RIGHT, FacialFrame
from lipsym.sides import Side

# Lip contours, subject's right cheilion → left cheilion.
OUTER_UPPER = (61, 185, 40, 39, 37, 0, 267, 269, 270, 409, 291)
OUTER_LOWER = (61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291)
INNER_UPPER = (78, 191, 80, 81, 82, 13, 312, 311, 310, 415, 308)
INNER_LOWER = (78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308)

#: Fixed-vertex named points: name → MediaPipe index.
FIXED_POINTS: Mapping[str, int] = MappingProxyType({
    "pupil_right": PUPIL_RIGHT,
    "pupil_left": PUPIL_LEFT,
    "cheilion_right": 61,
    "cheilion_left": 291,
    "labrale_superius": 0,
    "labrale_inferius": 17,
    "subnasale": 2,
    "endocanthion_right": 133,
    "endocanthion_left": 362,
    "exocanthion_right": 33,
    "exocanthion_left": 263,
})
_STOMION = (13, 14)
# Where each side's Cupid's bow search stops, as a position in OUTER_UPPER.
_BOW_SEARCH_END = {Side.RIGHT: OUTER_UPPER.index(39), Side.LEFT: OUTER_UPPER.index(269)}
_LABRALE_SUPERIUS_POS = OUTER_UPPER.index(0)
_SPLINE_SAMPLES_PER_SEGMENT = 64

#: Names every analysis reports in ``points_px`` (the JSON contract).
POINT_NAMES = (
    "pupil_right", "pupil_left", "cheilion_right", "cheilion_left",
    "crista_philtri_right", "crista_philtri_left", "labrale_superius",
    "labrale_inferius", "stomion", "subnasale", "endocanthion_right",
    "endocanthion_left", "exocanthion_right", "exocanthion_left",
)


@dataclass(frozen=True)
class LipContours:
    """Lip contours in photo pixels, each ordered subject right → left.

    Attributes
    ----------
    outer_upper, outer_lower, inner_upper, inner_lower : ndarray, shape (11, 2)
        Vermilion border (outer) and lip-contact line (inner) points, px.
    """

    outer_upper: np.ndarray
    outer_lower: np.ndarray
    inner_upper: np.ndarray
    inner_lower: np.ndarray


@dataclass(frozen=True)
class Anatomy:
    """Named anatomical points of one face.

    Attributes
    ----------
    points_px : mapping of str to ndarray, shape (2,)
        Every name of :data:`POINT_NAMES`, photo pixels (x right, y down).
    contours : LipContours
    """

    points_px: Mapping[str, np.ndarray]
    contours: LipContours

    def point(self, name: str, side: Side | None = None) -> np.ndarray:
        """A named point, e.g. ``point("cheilion", Side.LEFT)``."""
        return self.points_px[f"{name}_{side.value}" if side else name]


def _frozen_xy(xy) -> np.ndarray:
    a = np.array(xy, dtype=np.float64)[..., :2]
    a.flags.writeable = False
    return a


def cupids_bow_peak(outer_upper_px: np.ndarray, frame: FacialFrame, side: Side,
                    reference_px: np.ndarray | None = None) -> np.ndarray:
    """Highest point of the upper vermilion border on one side.

    Parameters
    ----------
    outer_upper_px : ndarray, shape (11, 2)
        :data:`OUTER_UPPER` contour in photo pixels.
    frame : FacialFrame
        Defines "up".
    side : Side
    reference_px : ndarray, shape (11, 2), optional
        The same contour as another estimate (MediaPipe's, before
        refinement): the peak is located along the border on it, as a
        fraction of a segment between two vertices, and the point at that
        fraction of ``outer_upper_px``'s spline is returned. Default:
        ``outer_upper_px`` itself (its highest point).

    Returns
    -------
    ndarray, shape (2,)
        The peak in photo pixels; labrale superius when the border rises
        monotonically to the midline (no bow on that side).
    """
    border = _border_spline(frame.to_frame(outer_upper_px))
    reference = border if reference_px is None else _border_spline(frame.to_frame(reference_px))
    return frame.to_photo(_peak(border, reference, side))


def _border_spline(contour_frame_px: np.ndarray) -> tuple[np.ndarray, NaturalCubicSpline]:
    """Chord-length parameters of the contour's vertices, shape (11,), and its natural cubic spline."""
    return chord_length_spline(contour_frame_px)


def _peak(border: tuple[np.ndarray, NaturalCubicSpline], reference: tuple[np.ndarray, NaturalCubicSpline],
          side: Side) -> np.ndarray:
    """The bow peak of one side, frame px: on ``border``, where ``reference`` has its highest point.

    ``border`` and ``reference`` are :func:`_border_spline` results; see
    :func:`cupids_bow_peak`.
    """
    t_ref, spline_ref = reference
    lo, hi = sorted((_BOW_SEARCH_END[side], _LABRALE_SUPERIUS_POS))
    n = _SPLINE_SAMPLES_PER_SEGMENT * (hi - lo) + 1
    # Sample symmetrically from both ends so that the mirrored contour
    # (reversed order) sees the same parameter values.
    ts = 0.5 * (np.linspace(t_ref[lo], t_ref[hi], n) + np.linspace(t_ref[hi], t_ref[lo], n)[::-1])
    heights = spline_ref(ts)[:, 1]
    k = int(np.argmax(heights))
    t_peak = ts[k]
    if 0 < k < n - 1:  # parabolic refinement between samples
        y0, y1, y2 = heights[k - 1 : k + 2]
        denom = y0 - 2 * y1 + y2
        if denom < 0:
            t_peak = ts[k] + 0.5 * (y0 - y2) / denom * (ts[1] - ts[0])
    if reference is border:
        return spline_ref(t_peak)
    t, spline = border
    seg = int(np.clip(np.searchsorted(t_ref, t_peak, side="right") - 1, lo, hi - 1))
    frac = (t_peak - t_ref[seg]) / (t_ref[seg + 1] - t_ref[seg])
    return spline(t[seg] + frac * (t[seg + 1] - t[seg]))


def anatomy_from_landmarks(points_px: np.ndarray, frame: FacialFrame,
                           bow_reference_px: np.ndarray | None = None) -> Anatomy:
    """Named points and lip contours of a face.

    Parameters
    ----------
    points_px : ndarray, shape (478, 2 or 3)
        Landmarks in photo pixels, subject sides as MediaPipe numbers them
        (swap them first for a mirrored photo).
    frame : FacialFrame
    bow_reference_px : ndarray, shape (478, 2 or 3), optional
        MediaPipe's landmarks when ``points_px`` are refined ones: the Cupid's
        bow peaks are located along the border on MediaPipe's contour and
        take the refined border's position there (:func:`cupids_bow_peak`).

    Returns
    -------
    Anatomy
    """
    pts = np.asarray(points_px, dtype=np.float64)[:, :2]
    contours = LipContours(*(_frozen_xy(pts[list(idx)]) for idx in (OUTER_UPPER, OUTER_LOWER, INNER_UPPER, INNER_LOWER)))
    named = {name: _frozen_xy(pts[i]) for name, i in FIXED_POINTS.items()}
    border = _border_spline(frame.to_frame(contours.outer_upper))
    reference = border if bow_reference_px is None else _border_spline(
        frame.to_frame(np.asarray(bow_reference_px, np.float64)[list(OUTER_UPPER), :2]))
    named["stomion"] = _frozen_xy(0.5 * (pts[_STOMION[0]] + pts[_STOMION[1]]))
    for side in Side:
        named[f"crista_philtri_{side.value}"] = _frozen_xy(frame.to_photo(_peak(border, reference, side)))
    return Anatomy(points_px=MappingProxyType({n: named[n] for n in POINT_NAMES}), contours=contours)
