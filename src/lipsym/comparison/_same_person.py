"""Same-person check: do two compared photos plausibly show the same face?

A before/after comparison or a rest/smile pair of two different people gives
a "change" that is only the difference between two faces.

**What decides: the identity descriptors.** Every analysis carries the
128-number descriptor of dlib's face-recognition network, computed on a face
chip aligned on lipsym's own landmarks (:mod:`lipsym.landmarks._identity`;
stored in the analysis document as ``identity_descriptor``). Two photos are
one person when their descriptors lie within 0.6 (Euclidean): the radius the
network was trained to keep one identity within, not fitted on lipsym's
photos. On the development photos (``benchmarks/same_person.py``,
docs/accuracy.md "Same-person check") it refuses 98.8 % of London rest,
99.3 % of London smile and 99.0 % of 3DSK different-person pairs and passes
every same-person pair (rest against own smile up to 0.45, the real
re-photographs lisa and zoom up to 0.36, mirrored photos, simulated
re-captures and faces 150-300 px wide).

**Fallback: face geometry**, when a photo has no descriptor (dlib or its
model not installed: one warning; a document written before the field). It
compares points that an expression barely moves - eye corners, pupils,
brows, the nose, the forehead and the upper face outline; never the lips,
cheeks, chin or eyelids (:data:`STABLE_POINTS`):

1. each face's points are centred, scaled to unit size and rotated
   (orthogonal Procrustes, reflection allowed) onto a template face, so the
   camera distance, the photo's size and the head's roll do not count;
2. the difference of the two aligned shapes is measured in units of how much
   the shape of ONE person varies between captures: a Mahalanobis distance
   with the within-person covariance of the development photos (its 20
   largest axes and one variance for the rest; :mod:`lipsym.comparison._same_person_model`);
3. a photo may be the mirror image of the other (a front-camera selfie, with
   or without ``mirrored``): the smaller distance of the two readings counts.

Its calibration: the within-person covariance is estimated, each source
weighing the same, on London rest against smile of the same face, on
simulated re-captures of the London and 3DSK development photos (image
rotation, scale, perspective tilt, gamma, JPEG) and on simulated head turns
of their landmarks (±10° yaw and pitch); the threshold is the largest
distance of a held-out same-person pair in a 5-fold cross-validation by
face, the real re-photographs (lisa, zoom; never fitted) included. Geometry
alone refuses only about 87-92 % of London and 79-87 % of 3DSK
different-person pairs: MediaPipe's mesh carries little identity.
Iris-scaled dimensions were tried and did not separate people better.
"""

from __future__ import annotations

import functools
import warnings
from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np

from lipsym.analysis._result import PhotoAnalysis
from lipsym.errors import DifferentPersonError, MeasurementError
from lipsym.landmarks._identity import DESCRIPTOR_SIZE, IDENTITY_MODEL
from lipsym.landmarks._mesh import mirror_pairs

#: MediaPipe vertices whose geometry identifies a face and barely moves with
#: expression; closed under the left/right mirror pairing.
STABLE_POINTS: tuple[int, ...] = (
    # midline: forehead, glabella, nasion, nose bridge and tip, subnasale
    10, 151, 9, 8, 168, 6, 197, 195, 5, 4, 1, 19, 94, 2,
    # pupils and eye corners (no eyelids: a smile narrows the eyes)
    468, 473, 33, 133, 263, 362,
    # brows, upper and lower edge
    70, 63, 105, 66, 107, 46, 53, 52, 65, 55,
    300, 293, 334, 296, 336, 276, 283, 282, 295, 285,
    # nose wings and sides
    98, 64, 48, 129, 219, 102, 49, 327, 294, 278, 358, 439, 331, 279,
    # upper face outline, forehead to the tragus level
    109, 67, 103, 54, 21, 162, 127, 234, 338, 297, 332, 284, 251, 389, 356, 454,
)

#: Key of the optional ``stable_points_px`` field of a stored analysis
#: (lipsym.formats._json.photo_to_dict): MediaPipe index → [x, y], photo px.
JSON_KEY = "stable_points_px"
#: Key of the optional ``identity_descriptor`` field of a stored analysis:
#: ``{"model": IDENTITY_MODEL, "vector": [128 numbers]}`` or null.
IDENTITY_JSON_KEY = "identity_descriptor"


@dataclass(frozen=True)
class SamePersonCheck:
    """Whether two photos plausibly show the same person.

    Attributes
    ----------
    distance : float
        Identity-descriptor distance (``method == "identity"``), or
        face-geometry distance (dimensionless: multiples of one person's
        between-capture variation, see the module's notes).
    threshold : float
        Largest distance accepted as the same person.
    passed : bool
        ``distance <= threshold``.
    reason : str
        One line naming both photos.
    method : {"identity", "geometry"}
        What decided: the identity descriptors (dlib's face-recognition
        network) or, when a photo has none, the face geometry.
    warning : str or None
        One line when the geometry decided because the descriptors were
        unavailable (it refuses fewer different people).
    """

    distance: float
    threshold: float
    passed: bool
    reason: str
    method: str = "geometry"
    warning: str | None = None


def stable_points_px(photo: PhotoAnalysis | Mapping[str, Any] | np.ndarray) -> np.ndarray:
    """The :data:`STABLE_POINTS` of one photo.

    Parameters
    ----------
    photo : PhotoAnalysis, dict or ndarray
        An analysis; one photo's entry of a stored analysis document (its
        ``stable_points_px`` or, failing that, ``landmarks_px``); or the
        landmarks, shape (478, 2 or 3), photo px.

    Returns
    -------
    ndarray, shape (len(STABLE_POINTS), 2)
        Photo pixels.

    Raises
    ------
    MeasurementError
        A stored document holds neither field, or a point is not finite.
    """
    if isinstance(photo, PhotoAnalysis):
        points = _as_stable(photo.points_px)
    elif isinstance(photo, Mapping):
        if photo.get(JSON_KEY) is not None:
            stored = photo[JSON_KEY]
            missing = [i for i in STABLE_POINTS if str(i) not in stored]
            if missing:
                raise MeasurementError(f"{_name(photo, 'photo')}: {JSON_KEY} lacks point {missing[0]}: "
                                       "analyse the photo again")
            points = np.array([stored[str(i)] for i in STABLE_POINTS], dtype=np.float64)
        elif photo.get("landmarks_px") is not None:
            points = _as_stable(photo["landmarks_px"])
        else:
            raise MeasurementError(f"{_name(photo, 'photo')}: the stored analysis has neither {JSON_KEY} nor "
                                   "landmarks_px: analyse the photo again with this version")
    else:
        points = _as_stable(photo)
    if not np.isfinite(points).all():
        raise MeasurementError(f"{_name(photo, 'photo')}: face points are not finite")
    return points


def aligned_shape(points_px: np.ndarray, template: np.ndarray) -> np.ndarray:
    """Centre, scale to unit size and rotate (or reflect) a shape onto a template.

    Parameters
    ----------
    points_px : ndarray, shape (n, 2)
    template : ndarray, shape (n, 2)
        Centred, unit Frobenius norm.

    Returns
    -------
    ndarray, shape (n, 2)
        Centred, unit Frobenius norm, least-squares rotated onto ``template``;
        reflection is allowed so that a photo analysed as mirrored (the same
        labels on a reflected face) aligns like the original.
    """
    x = points_px - points_px.mean(axis=0)
    size = float(np.linalg.norm(x))
    if not size > 0:
        raise MeasurementError("face points coincide: no shape to compare")
    u, _, vt = np.linalg.svd(template.T @ (x / size))
    return (x / size) @ (u @ vt).T


@functools.lru_cache(maxsize=1)
def mirror_order() -> np.ndarray:
    """Positions in :data:`STABLE_POINTS` of each point's mirror partner, read-only."""
    partner = mirror_pairs()
    position = {v: k for k, v in enumerate(STABLE_POINTS)}
    order = np.array([position[int(partner[i])] for i in STABLE_POINTS])
    order.flags.writeable = False
    return order


def geometry_distance(a_px: np.ndarray, b_px: np.ndarray, *, model: Any = None) -> float:
    """Face-geometry distance of two photos (see the module's notes).

    Parameters
    ----------
    a_px, b_px : ndarray, shape (len(STABLE_POINTS), 2) or (478, 2 or 3)
        The stable points (:func:`stable_points_px`) or all landmarks, photo px.
    model : module or object, optional
        The calibration: ``TEMPLATE`` (n, 2), ``AXES`` (k, 2n),
        ``AXIS_VARIANCES`` (k,) and ``REST_VARIANCE``; default the shipped
        :mod:`lipsym.comparison._same_person_model` (``benchmarks/same_person.py``
        passes candidates).

    Returns
    -------
    float
        Dimensionless; 0 for the same points, and for a photo and its mirror image.
    """
    if model is None:
        from lipsym.comparison import _same_person_model as model

    a, b = (_as_stable(p) for p in (a_px, b_px))
    template = np.asarray(model.TEMPLATE, dtype=np.float64)
    mirror = mirror_order()
    # Either photo may be the mirror image: both readings, so that the
    # distance does not depend on the order of the photos.
    return min(_mahalanobis(aligned_shape(x, template).ravel() - aligned_shape(y, template).ravel(), model)
               for x, y in ((a, b), (a, b[mirror]), (a[mirror], b)))


def identity_descriptor(photo: PhotoAnalysis | Mapping[str, Any]) -> np.ndarray | None:
    """The identity descriptor of one photo, or None when it has none.

    Parameters
    ----------
    photo : PhotoAnalysis or dict
        An analysis, or one photo's entry of a stored analysis document (its
        ``identity_descriptor`` field, :data:`IDENTITY_JSON_KEY`).

    Returns
    -------
    ndarray, shape (128,), or None
        None when dlib was not installed when the photo was analysed, for a
        document written before the field existed, or for a descriptor of
        another model than :data:`lipsym.landmarks._identity.IDENTITY_MODEL`.
    """
    if isinstance(photo, PhotoAnalysis):
        return photo.identity_descriptor
    stored = photo.get(IDENTITY_JSON_KEY) if isinstance(photo, Mapping) else None
    if not isinstance(stored, Mapping) or stored.get("model") != IDENTITY_MODEL:
        return None
    vector = np.asarray(stored.get("vector", ()), dtype=np.float64)
    return vector if vector.shape == (DESCRIPTOR_SIZE,) and np.isfinite(vector).all() else None


def descriptor_to_dict(descriptor: np.ndarray | None) -> dict[str, Any] | None:
    """The ``identity_descriptor`` field of a stored analysis (None stays None)."""
    if descriptor is None:
        return None
    return {"model": IDENTITY_MODEL, "vector": [round(float(x), 6) for x in descriptor]}


def identity_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Euclidean distance of two identity descriptors (dimensionless; one person about 0.1-0.45)."""
    return float(np.linalg.norm(np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)))


def same_person(a: PhotoAnalysis | Mapping[str, Any], b: PhotoAnalysis | Mapping[str, Any]) -> SamePersonCheck:
    """Check that two photos plausibly show the same person.

    Parameters
    ----------
    a, b : PhotoAnalysis or dict
        Analyses, or photo entries of stored analysis documents
        (:func:`identity_descriptor`, :func:`stable_points_px`). Expressions
        may differ (rest against smile).

    Returns
    -------
    SamePersonCheck
        Decided by the identity descriptors when both photos have one, else
        by face geometry (``warning`` then says why).

    Raises
    ------
    MeasurementError
        Neither photo pair has descriptors, and a stored analysis lacks the
        points the geometry needs.
    """
    from lipsym.comparison._same_person_model import IDENTITY_THRESHOLD, THRESHOLD

    names = f"{_name(a, 'first photo')} and {_name(b, 'second photo')}"
    da, db = identity_descriptor(a), identity_descriptor(b)
    if da is not None and db is not None:
        distance = identity_distance(da, db)
        passed = distance <= IDENTITY_THRESHOLD
        if passed:
            reason = (f"{names}: faces consistent with one person (identity distance {distance:.2f} <= "
                      f"{IDENTITY_THRESHOLD:.2f})")
        else:
            reason = (f"{names} do not look like the same person (identity distance {distance:.2f} > "
                      f"{IDENTITY_THRESHOLD:.2f}); override the check if they are")
        return SamePersonCheck(distance=distance, threshold=IDENTITY_THRESHOLD, passed=passed, reason=reason,
                               method="identity")

    warning = _fallback_warning(a, b, names)
    distance = geometry_distance(stable_points_px(a), stable_points_px(b))
    passed = distance <= THRESHOLD
    if passed:
        reason = f"{names}: face geometry consistent with one person (distance {distance:.1f} <= {THRESHOLD:.1f})"
    else:
        reason = (f"{names} do not look like the same person (face geometry distance {distance:.1f} > "
                  f"{THRESHOLD:.1f}); override the check if they are")
    return SamePersonCheck(distance=distance, threshold=THRESHOLD, passed=passed, reason=reason,
                           method="geometry", warning=warning)


def _fallback_warning(a: Any, b: Any, names: str) -> str:
    """Why the geometry decides (one line); warned once per process when dlib is missing."""
    from lipsym.landmarks._identity import unavailable_reason

    missing = unavailable_reason()
    if missing is not None:
        text = (f"same-person check by face geometry only, which misses about 1 in 10 different people: "
                f"{missing}")
        _warn_once(text)
        return f"{names}: {text}"
    return (f"{names}: same-person check by face geometry only (a photo has no identity descriptor: "
            "it was analysed with --no-face-descriptor or by an earlier lipsym; analyse it again without that "
            "option to check by identity)")


@functools.lru_cache(maxsize=None)
def _warn_once(text: str) -> None:
    # warn_explicit without a source line: Python prints one line, "lipsym:0: RuntimeWarning: ...".
    warnings.warn_explicit(text, RuntimeWarning, filename="lipsym", lineno=0, module="lipsym")


def require_same_person(a: PhotoAnalysis | Mapping[str, Any], b: PhotoAnalysis | Mapping[str, Any], *,
                        allow: bool = False) -> SamePersonCheck:
    """:func:`same_person`, raising when the photos show different people.

    Parameters
    ----------
    a, b : PhotoAnalysis or dict
    allow : bool
        The user says they are the same person: never raise (the check's
        result is still returned, e.g. for a warning).

    Raises
    ------
    DifferentPersonError
        The check failed and ``allow`` is False; the message is one line
        naming both photos.
    """
    check = same_person(a, b)
    if not check.passed and not allow:
        raise DifferentPersonError(check.reason)
    return check


def _as_stable(points_px) -> np.ndarray:
    """The stable points of all landmarks (478, 2 or 3), or stable points already, as (n, 2) px."""
    p = np.asarray(points_px, dtype=np.float64)
    return p[:, :2] if len(p) == len(STABLE_POINTS) else p[list(STABLE_POINTS), :2]


def _mahalanobis(d: np.ndarray, model) -> float:
    """Distance of a shape difference in the within-person covariance's metric."""
    axes = np.asarray(model.AXES, dtype=np.float64)
    along = axes @ d
    rest = max(float(d @ d - along @ along), 0.0)  # the part outside the kept axes
    return float(np.sqrt((along ** 2 / np.asarray(model.AXIS_VARIANCES)).sum() + rest / model.REST_VARIANCE))


def _name(photo: Any, fallback: str) -> str:
    if isinstance(photo, PhotoAnalysis) and photo.path is not None:
        return str(photo.path)
    if isinstance(photo, Mapping) and photo.get("file"):
        return str(photo["file"])
    return fallback
