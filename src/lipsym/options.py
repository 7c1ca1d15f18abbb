"""Options of the analysis and of the landmarker, importable without either.

A batch's parent process builds its configuration from these before it
starts the workers; importing :mod:`lipsym.analysis` (OpenCV, the refinement,
the measures) there only delayed the first result.
"""

from __future__ import annotations

from dataclasses import dataclass

from .model import EXPECTED_MODEL_SHA256
from .scale import DEFAULT_IRIS_DIAMETER_MM, Calibration


@dataclass(frozen=True)
class LandmarkerOptions:
    """Options for :class:`Landmarker`.

    Attributes
    ----------
    model_path : str or None
        Model bundle path; None uses ``$LIPSYM_MODEL`` or the bundled model.
    expected_model_sha256 : str or None
        Digest the model must have; None accepts any (it is still reported).
    flip_average : bool
        Average the photo's landmarks with its mirror image's (see module doc).
    max_faces : int
        How many faces MediaPipe may return; more than one lets lipsym warn
        about (or refuse) group photos instead of picking a face at random.
    min_detection_confidence, min_presence_confidence : float
        MediaPipe thresholds in [0, 1].
    """

    model_path: str | None = None
    expected_model_sha256: str | None = EXPECTED_MODEL_SHA256
    flip_average: bool = True
    max_faces: int = 4
    min_detection_confidence: float = 0.5
    min_presence_confidence: float = 0.5


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
