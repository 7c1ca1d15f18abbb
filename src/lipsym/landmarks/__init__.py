"""The landmarks layer: MediaPipe Face Landmarker points in photo pixels.

The only part of lipsym that imports MediaPipe (Tasks API: options → task →
frozen result). :class:`Landmarker` runs the bundled model, verified by its
sha256 (:func:`load_model`), and returns :class:`FaceLandmarks`: 478 points
in photo pixels with the subject's sides, flip-averaged with the mirror image
by default, and the head pose. :func:`mirror_pairs` is the exact left/right
pairing of the 478 points, derived from the canonical mesh.
"""

from .._lazy import attach

__getattr__, __dir__, __all__ = attach(__name__, {
    "_detector": ["Landmarker", "FaceLandmarks", "FaceDetection", "HeadPose", "pose_from_matrix"],
    "_options": ["LandmarkerOptions"],
    "_default": ["default_landmarker"],
    "_model": ["EXPECTED_MODEL_SHA256", "ModelBundle", "load_model"],
    "_mesh": ["N_LANDMARKS", "mirror_pairs", "canonical_vertices_cm"],
})
