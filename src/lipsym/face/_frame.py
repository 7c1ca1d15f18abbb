"""The facial frame: interpupillary line, midline, and frame coordinates.

Conventions (docs/reference.md §2; Emotrics, Auto-eFACE and Dynaface
use the same frame):

- origin: the midpoint of the two pupils (iris centres);
- x axis: along the interpupillary line, positive towards the SUBJECT'S LEFT;
- y axis: the perpendicular through the origin (the facial midline),
  positive UP (towards the forehead).

Frame coordinates are in the photo's pixels (``_px``); conversion to mm is
the business of :mod:`lipsym.face`, applied to new values, never in place.
A soft-tissue midline fitted through MediaPipe's midline vertices is a second
opinion; the angle between it and the frame's midline is reported as a
quality signal.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from lipsym.errors import MeasurementError

#: MediaPipe vertices with x = 0 in the canonical face (forehead to chin).
MIDLINE_VERTICES = (10, 151, 9, 8, 168, 6, 197, 195, 5, 4, 1, 19, 94, 2, 164,
                    0, 11, 12, 13, 14, 15, 16, 17, 18, 200, 199, 175, 152)
PUPIL_RIGHT, PUPIL_LEFT = 468, 473
_STOMION_PAIR = (13, 14)


@dataclass(frozen=True)
class FacialFrame:
    """An orthonormal frame on the photo, anchored on the pupils.

    Attributes
    ----------
    origin_px : ndarray, shape (2,)
        Pupil midpoint, photo pixels (x right, y down).
    x_axis : ndarray, shape (2,)
        Unit vector (image coordinates) from the right pupil to the left pupil.
    y_axis : ndarray, shape (2,)
        Unit vector (image coordinates) perpendicular to ``x_axis``, pointing
        from the mouth towards the eyes.
    interpupillary_distance_px : float
    ipl_angle_deg : float
        Angle of the interpupillary line in the image, counter-clockwise as
        seen (positive when the subject's left pupil is higher in the image
        of a non-mirrored photo).
    soft_tissue_midline_angle_deg : float
        Signed angle from the frame's midline to a line fitted through the
        MediaPipe midline vertices, degrees; positive when the soft-tissue
        midline's lower end lies towards the subject's left.
    """

    origin_px: np.ndarray
    x_axis: np.ndarray
    y_axis: np.ndarray
    interpupillary_distance_px: float
    ipl_angle_deg: float
    soft_tissue_midline_angle_deg: float

    def to_frame(self, points_px: np.ndarray) -> np.ndarray:
        """Photo pixels → frame coordinates (px).

        Parameters
        ----------
        points_px : ndarray, shape (..., 2)

        Returns
        -------
        ndarray, shape (..., 2)
            (x, y): x positive towards the subject's left, y positive up.
        """
        d = np.asarray(points_px, dtype=np.float64)[..., :2] - self.origin_px
        return np.stack([d @ self.x_axis, d @ self.y_axis], axis=-1)

    def to_photo(self, frame_px: np.ndarray) -> np.ndarray:
        """Frame coordinates (px) → photo pixels; inverse of :meth:`to_frame`."""
        f = np.asarray(frame_px, dtype=np.float64)
        return self.origin_px + f[..., :1] * self.x_axis + f[..., 1:2] * self.y_axis


def frame_from_landmarks(points_px: np.ndarray) -> FacialFrame:
    """Build the facial frame from the 478 landmarks.

    Parameters
    ----------
    points_px : ndarray, shape (478, 2 or 3)
        Landmarks in photo pixels, subject sides as MediaPipe numbers them.

    Raises
    ------
    MeasurementError
        The pupils coincide (degenerate landmarks).
    """
    pts = np.asarray(points_px, dtype=np.float64)[:, :2]
    right, left = pts[PUPIL_RIGHT], pts[PUPIL_LEFT]
    ipd = float(np.linalg.norm(left - right))
    if not ipd > 0:
        raise MeasurementError("pupils coincide: cannot define the interpupillary line")
    x_axis = (left - right) / ipd
    y_axis = np.array([x_axis[1], -x_axis[0]])
    origin = 0.5 * (right + left)
    stomion = 0.5 * (pts[_STOMION_PAIR[0]] + pts[_STOMION_PAIR[1]])
    # The perpendicular's sign depends on whether the photo is mirrored;
    # anatomy decides it: "up" points from the mouth to the eyes.
    if np.dot(origin - stomion, y_axis) < 0:
        y_axis = -y_axis
    frame = FacialFrame(
        origin_px=origin,
        x_axis=x_axis,
        y_axis=y_axis,
        interpupillary_distance_px=ipd,
        ipl_angle_deg=math.degrees(math.atan2(-x_axis[1], x_axis[0])),
        soft_tissue_midline_angle_deg=0.0,
    )
    angle = _midline_angle_deg(frame.to_frame(pts[list(MIDLINE_VERTICES)]))
    return FacialFrame(**{**frame.__dict__, "soft_tissue_midline_angle_deg": angle})


def _midline_angle_deg(midline_frame_px: np.ndarray) -> float:
    """Signed angle between the frame's y axis and a total-least-squares line.

    Parameters
    ----------
    midline_frame_px : ndarray, shape (n, 2)
        Midline vertices in frame coordinates.
    """
    centred = midline_frame_px - midline_frame_px.mean(axis=0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    direction = vt[0]
    if direction[1] < 0:  # orient it upwards
        direction = -direction
    # Positive when the line leans so that its lower end is at +x (subject's left).
    return math.degrees(math.atan2(-direction[0], direction[1]))
