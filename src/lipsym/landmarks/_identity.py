"""Face identity descriptor: dlib's face-recognition network on a landmark-aligned chip.

The same-person check (:mod:`lipsym.comparison._same_person`) needs to tell
two people apart; the geometry of MediaPipe's mesh carries too little
identity for that (docs/accuracy.md "Same-person check"). This module runs
dlib's ResNet face-recognition model (``dlib_face_recognition_resnet_model_v1``,
Davis King, released into the public domain; trained so that one person's
faces lie within a Euclidean distance of 0.6) on the photo's pixels and
returns its 128-number descriptor.

- The model file comes from the installed ``face_recognition_models``
  package (MIT; the model files public domain) and is checked against
  :data:`EXPECTED_MODEL_SHA256`; dlib itself from ``dlib-bin`` (Boost).
  Nothing is downloaded.
- No second face detector: the face chip is aligned on five of lipsym's own
  MediaPipe landmarks (eye corners and the base of the nose), the five points
  dlib's own 5-point shape predictor marks, in the same order.
- dlib is imported lazily, on the first descriptor: ``import lipsym`` stays
  light. When dlib or the model package is absent, :func:`face_descriptor`
  returns None and the same-person check falls back to geometry (with a
  warning), never a crash.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
from pathlib import Path

import numpy as np

#: Name of the model, stored with every descriptor (a descriptor of another
#: model is not comparable).
IDENTITY_MODEL = "dlib_face_recognition_resnet_model_v1"
#: sha256 of ``dlib_face_recognition_resnet_model_v1.dat`` in face_recognition_models 0.3.0.
EXPECTED_MODEL_SHA256 = "55533b28a95800a551ba546ba62fe69625c7e95a7061c338adffead08719da30"
#: Length of a descriptor.
DESCRIPTOR_SIZE = 128
#: MediaPipe landmarks in the order of dlib's 5-point shape: the image-right
#: eye's outer and inner corner, the image-left eye's outer and inner corner,
#: the base of the nose. Image sides: use the landmarks as detected (before a
#: ``mirrored`` option swaps their labels).
DLIB5_FROM_MEDIAPIPE: tuple[int, ...] = (263, 362, 33, 133, 2)
#: dlib's defaults for its 150 px chip (face_recognition_model_v1).
_PADDING = 0.25


class IdentityUnavailable(RuntimeError):
    """dlib or the model package is not installed, or the model file is not the expected one."""


@functools.lru_cache(maxsize=1)
def _model():
    """The loaded dlib network, verified; raises :class:`IdentityUnavailable`."""
    # find_spec does not run face_recognition_models/__init__.py, which
    # imports pkg_resources (absent from recent setuptools).
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise IdentityUnavailable("the face_recognition_models package is not installed")
    path = Path(list(spec.submodule_search_locations)[0]) / "models" / f"{IDENTITY_MODEL}.dat"
    try:
        content = path.read_bytes()
    except OSError as exc:
        raise IdentityUnavailable(f"{path}: {exc.strerror or exc}") from None
    if hashlib.sha256(content).hexdigest() != EXPECTED_MODEL_SHA256:
        raise IdentityUnavailable(f"{path} is not the expected {IDENTITY_MODEL} (sha256 differs)")
    try:
        import dlib
    except ImportError:
        raise IdentityUnavailable("dlib is not installed (pip install dlib-bin)") from None
    return dlib, dlib.face_recognition_model_v1(str(path))


def identity_available() -> bool:
    """Whether :func:`face_descriptor` can run (dlib and the verified model are installed)."""
    try:
        _model()
    except IdentityUnavailable:
        return False
    return True


def unavailable_reason() -> str | None:
    """Why descriptors cannot be computed, or None when they can."""
    try:
        _model()
    except IdentityUnavailable as exc:
        return str(exc)
    return None


def face_descriptor(rgb: np.ndarray, points_px: np.ndarray) -> np.ndarray | None:
    """The 128-number identity descriptor of the face at ``points_px``.

    Parameters
    ----------
    rgb : ndarray, shape (height, width, 3), uint8
        The photo's pixels, RGB.
    points_px : ndarray, shape (478, 2 or 3)
        MediaPipe landmarks in ``rgb``'s pixels, image sides as detected.

    Returns
    -------
    ndarray, shape (128,), float64, read-only, or None
        Unit-free; two photos of one person lie about 0.1-0.45 apart
        (Euclidean), two people 0.46-1.1 (docs/accuracy.md). None when dlib
        or the model is unavailable (:func:`unavailable_reason`).
    """
    try:
        dlib, net = _model()
    except IdentityUnavailable:
        return None
    p = np.asarray(points_px, dtype=np.float64)[list(DLIB5_FROM_MEDIAPIPE), :2]
    if not np.isfinite(p).all():
        return None
    # The chip is placed by the five points alone; the rectangle only has to hold them.
    (x0, y0), (x1, y1) = np.floor(p.min(axis=0)), np.ceil(p.max(axis=0))
    rect = dlib.rectangle(int(x0), int(y0), int(x1), int(y1))
    shape = dlib.full_object_detection(rect, [dlib.point(int(round(x)), int(round(y))) for x, y in p])
    image = np.ascontiguousarray(rgb, dtype=np.uint8)
    out = np.array(net.compute_face_descriptor(image, shape, 0, _PADDING), dtype=np.float64)
    out.flags.writeable = False
    return out
