"""The face layer: the facial frame, named anatomy, the mm scale and quality flags.

Works on landmark arrays in photo pixels (from :mod:`lipsym.landmarks`); knows
nothing of files or of MediaPipe. Sides are the subject's (:class:`lipsym.Side`).

- :func:`frame_from_landmarks` → :class:`FacialFrame` (x along the
  interpupillary line towards the subject's left, y up, origin at the pupil
  midpoint);
- :func:`anatomy_from_landmarks` → :class:`Anatomy` (cheilions, Cupid's bow
  peaks, labrales, stomion, lip contours);
- :func:`scale_from_iris` / :func:`scale_from_calibration` → :class:`Scale`;
- :func:`quality_flags` → :class:`QualityFlag` per problem found.
"""

from .._lazy import attach

__getattr__, __dir__, __all__ = attach(__name__, {
    "_frame": ["FacialFrame", "frame_from_landmarks", "MIDLINE_VERTICES"],
    "_anatomy": ["Anatomy", "LipContours", "anatomy_from_landmarks", "cupids_bow_peak", "POINT_NAMES"],
    "_scale": ["Calibration", "Scale", "scale_from_iris", "scale_from_calibration", "iris_diameters_px",
               "DEFAULT_IRIS_DIAMETER_MM", "PLAUSIBLE_IPD_MM", "PLAUSIBLE_IRIS_DIAMETER_MM", "scale_implausibility",
               "check_iris_diameter_mm"],
    "_quality": ["QualityFlag", "quality_flags", "eye_openness"],
})
