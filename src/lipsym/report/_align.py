"""Putting photos on a common footing: the facial-frame view and registration.

Two geometric tools for the report figures:

- :func:`frame_view` maps a photo onto a canvas where the interpupillary
  line is horizontal, the pupil midpoint is at a fixed place and every photo
  has the same pixels per mm: the rest and smile photos of a visit are then
  directly comparable, and frame coordinates in mm (``points_frame_mm``)
  can be drawn on the canvas.
- :func:`register_stable` fits the similarity transform (rotation, uniform
  scale, translation; least squares, Umeyama 1991) that brings one photo's
  STABLE landmarks (eye corners, pupils, nasal bridge and nose, away from the
  lips a treatment changes) onto another's. The after photo of a
  before/after comparison is shown through it, so that what moves is the
  lips, not the camera.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from lipsym.analysis._result import PhotoAnalysis
from lipsym.errors import MeasurementError

#: MediaPipe landmarks that a lip treatment does not move: exocanthion and
#: endocanthion (33, 133, 362, 263), pupils (468, 473), nasal bridge and
#: dorsum (168, 6, 197, 195, 5) and pronasale (4).
STABLE_LANDMARKS = (33, 133, 362, 263, 468, 473, 168, 6, 197, 195, 5, 4)

#: Registration residual (rms, mm) above which the eyes and nose differ
#: between the photos (pose, expression). Measured on the London set: rest vs
#: smile of one person 0.5-1.4 mm; one face at other camera distances
#: 0.4-0.9 mm; other framings and head poses (invariance/lisa) 2.1-2.7 mm. It
#: does NOT tell faces apart (two different people: 0.55 mm).
HIGH_RESIDUAL_MM = 1.5


@dataclass(frozen=True)
class Similarity:
    """A 2D similarity (possibly with a reflection): ``dst = A @ src + t``.

    Attributes
    ----------
    matrix : ndarray, shape (2, 3)
        ``[A | t]`` (OpenCV's affine convention), source px → destination px.
    """

    matrix: np.ndarray

    def apply(self, points: np.ndarray) -> np.ndarray:
        """Map points, shape (..., 2) → (..., 2)."""
        p = np.asarray(points, dtype=np.float64)[..., :2]
        return p @ self.matrix[:, :2].T + self.matrix[:, 2]

    __call__ = apply

    def then(self, other: "Similarity") -> "Similarity":
        """``other ∘ self``: first this map, then ``other``."""
        a = other.matrix[:, :2] @ self.matrix[:, :2]
        t = other.matrix[:, :2] @ self.matrix[:, 2] + other.matrix[:, 2]
        return Similarity(np.hstack([a, t[:, None]]))

    @property
    def scale(self) -> float:
        """Uniform scale factor (destination px per source px)."""
        return float(math.sqrt(abs(np.linalg.det(self.matrix[:, :2]))))

    @property
    def rotation_deg(self) -> float:
        """Rotation angle, degrees (counter-clockwise in y-down image coordinates is negative)."""
        return math.degrees(math.atan2(self.matrix[1, 0], self.matrix[0, 0]))


@dataclass(frozen=True)
class FrameView:
    """A canvas aligned on the facial frame, at a fixed number of px per mm.

    Attributes
    ----------
    photo_to_view : Similarity
        Photo px → canvas px.
    px_per_mm : float
        Canvas pixels per millimetre.
    box_mm : (x_min, x_max, y_min, y_max)
        The canvas in frame mm (x towards the subject's left, y up).
    size_px : (width, height)
    """

    photo_to_view: Similarity
    px_per_mm: float
    box_mm: tuple[float, float, float, float]
    size_px: tuple[int, int]

    def mm_to_view(self, frame_mm: np.ndarray) -> np.ndarray:
        """Frame coordinates in mm (..., 2) → canvas px."""
        f = np.asarray(frame_mm, dtype=np.float64)
        x_min, _, _, y_max = self.box_mm
        return np.stack([(f[..., 0] - x_min) * self.px_per_mm, (y_max - f[..., 1]) * self.px_per_mm], axis=-1)


def frame_view(analysis: PhotoAnalysis, mm_per_px: float, box_mm: tuple[float, float, float, float],
               px_per_mm: float = 8.0) -> FrameView:
    """The canvas on which a photo's facial frame is upright at a given scale.

    Parameters
    ----------
    analysis : PhotoAnalysis
    mm_per_px : float
        The photo's scale (for the smile photo of a pair, the pair scale, so
        that both photos show the same mm per canvas pixel).
    box_mm : (x_min, x_max, y_min, y_max)
        Region to show, frame mm (x towards the subject's left, y up).
    px_per_mm : float

    Returns
    -------
    FrameView
        The subject's left is on the canvas right, as in an ordinary photo
        (a mirrored selfie is shown un-mirrored).
    """
    f = analysis.frame
    s = mm_per_px * px_per_mm
    x_min, x_max, y_min, y_max = box_mm
    # canvas = s * (frame x, −frame y) + offset; frame = R (p − origin).
    a = s * np.vstack([f.x_axis, -f.y_axis])
    t = np.array([-x_min * px_per_mm, y_max * px_per_mm]) - a @ f.origin_px
    size = (int(round((x_max - x_min) * px_per_mm)), int(round((y_max - y_min) * px_per_mm)))
    return FrameView(Similarity(np.hstack([a, t[:, None]])), px_per_mm, tuple(map(float, box_mm)), size)


def warp_to_view(rgb: np.ndarray, photo_to_view: Similarity, size_px: tuple[int, int]) -> np.ndarray:
    """Resample a photo onto a canvas (bilinear; outside the photo is white).

    Parameters
    ----------
    rgb : ndarray, shape (H, W, 3), uint8
    photo_to_view : Similarity
    size_px : (width, height)

    Returns
    -------
    ndarray, shape (height, width, 3), uint8
    """
    import cv2

    src, m = np.ascontiguousarray(rgb), photo_to_view.matrix
    k = int(1.0 / (1.5 * photo_to_view.scale)) if photo_to_view.scale > 0 else 1
    if k > 1:
        # Shrinking a large photo with bilinear sampling aliases; area-average it first.
        h, w = src.shape[:2]
        small = cv2.resize(src, (max(1, w // k), max(1, h // k)), interpolation=cv2.INTER_AREA)
        fx, fy = small.shape[1] / w, small.shape[0] / h
        # small px q = (p + 0.5) * f − 0.5  ⇒  p = (q + 0.5) / f − 0.5
        to_photo = Similarity(np.array([[1 / fx, 0, 0.5 / fx - 0.5], [0, 1 / fy, 0.5 / fy - 0.5]]))
        src, m = small, to_photo.then(photo_to_view).matrix
    return cv2.warpAffine(src, m, size_px, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                          borderValue=(255, 255, 255))


def fit_similarity(src: np.ndarray, dst: np.ndarray, *, allow_reflection: bool = False) -> Similarity:
    """Least-squares similarity mapping ``src`` onto ``dst`` (Umeyama 1991).

    Parameters
    ----------
    src, dst : ndarray, shape (n, 2)
        Corresponding points, n ≥ 2.
    allow_reflection : bool
        Allow a mirror image (one photo mirrored and the other not).

    Raises
    ------
    MeasurementError
        Fewer than 2 points, or the source points coincide.
    """
    src, dst = np.asarray(src, np.float64)[:, :2], np.asarray(dst, np.float64)[:, :2]
    if len(src) < 2 or src.shape != dst.shape:
        raise MeasurementError("registration needs at least two corresponding points")
    mu_s, mu_d = src.mean(axis=0), dst.mean(axis=0)
    xs, xd = src - mu_s, dst - mu_d
    var_s = float((xs ** 2).sum() / len(src))
    if not var_s > 0:
        raise MeasurementError("registration points coincide")
    cov = xd.T @ xs / len(src)
    u, d, vt = np.linalg.svd(cov)
    signs = np.ones(2)
    if np.linalg.det(u) * np.linalg.det(vt) < 0 and not allow_reflection:
        signs[-1] = -1.0
    r = u @ np.diag(signs) @ vt
    c = float((d * signs).sum() / var_s)
    a = c * r
    return Similarity(np.hstack([a, (mu_d - a @ mu_s)[:, None]]))


@dataclass(frozen=True)
class Registration:
    """The after photo registered onto the before photo.

    Attributes
    ----------
    after_to_before : Similarity
        After photo px → before photo px.
    landmarks : tuple of int
        MediaPipe indices used.
    rms_residual_px : float
        Root-mean-square distance of the registered landmarks, before px.
    rms_residual_mm : float
        The same in mm (before photo's scale); above :data:`HIGH_RESIDUAL_MM`
        the photos differ in pose or expression around the eyes and nose.
    """

    after_to_before: Similarity
    landmarks: tuple[int, ...]
    rms_residual_px: float
    rms_residual_mm: float


def register_stable(after: PhotoAnalysis, before: PhotoAnalysis,
                    landmarks: tuple[int, ...] = STABLE_LANDMARKS) -> Registration:
    """Register the after photo onto the before photo on stable landmarks.

    Parameters
    ----------
    after, before : PhotoAnalysis
        Two photos of the same face (landmarks with subject sides).
    landmarks : tuple of int
        MediaPipe indices away from the treated lips.

    Returns
    -------
    Registration
    """
    idx = list(landmarks)
    src, dst = after.landmarks.points_px[idx, :2], before.landmarks.points_px[idx, :2]
    sim = fit_similarity(src, dst, allow_reflection=after.mirrored != before.mirrored)
    rms = float(np.sqrt(((sim.apply(src) - dst) ** 2).sum(axis=1).mean()))
    return Registration(sim, tuple(landmarks), rms, rms * before.scale.mm_per_px)
