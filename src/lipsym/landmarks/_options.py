"""Options of the landmarker, importable without MediaPipe.

A batch's parent process builds its configuration from these before it
starts the workers.
"""

from __future__ import annotations

from dataclasses import dataclass

from lipsym.landmarks._model import EXPECTED_MODEL_SHA256


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
