"""Options of the analysis, importable without OpenCV or MediaPipe.

A batch's parent process builds its configuration from these before it
starts the workers; importing :mod:`lipsym.analysis` (OpenCV, the refinement,
the measures) there only delayed the first result.
"""

from __future__ import annotations

from dataclasses import dataclass

from lipsym.face._scale import DEFAULT_IRIS_DIAMETER_MM, Calibration


@dataclass(frozen=True)
class AnalysisOptions:
    """How a photo is analysed.

    Attributes
    ----------
    mirrored : bool
        The photo is mirrored (front-camera selfie): the subject's right is on
        the image right. Sides are swapped so that ``Side`` stays the subject's.
    iris_diameter_mm : float
        Assumed horizontal visible iris diameter when no calibration is given.
    calibration : Calibration or None
        The user's scale; replaces the iris scale.
    allow_multiple_faces : bool
        Analyse the largest of several faces (with a warning) instead of failing.
    refine : bool
        Correct the asymmetric part of the lip landmarks from the image
        (:mod:`lipsym.refine`); False keeps MediaPipe's (flip-averaged) points.
    """

    mirrored: bool = False
    iris_diameter_mm: float = DEFAULT_IRIS_DIAMETER_MM
    calibration: Calibration | None = None
    allow_multiple_faces: bool = True
    refine: bool = True
