"""How a photo was taken: the facts that make two captures of one face differ.

A :class:`Capture` holds what lipsym knows of a photo's capture conditions:
head pose, face size in pixels (camera distance / zoom), the face's own
proportions that show the camera's perspective (IPD / face width), pixel
size in mm, expression and its intensity, and whether the lips are parted. It is built
from an analysis (:func:`capture_from_analysis`) or from a stored analysis
document (:func:`capture_from_dict`, the ``results`` entry written by
``lipsym analyze``: :func:`lipsym.formats._json.photo_to_dict`), so that a
comparison of two stored visits can carry the same between-capture error
model (:mod:`lipsym.comparison._capture_model`) as a fresh one.

Lighting and colour are not in a stored document; their effect is part of
the model's base term (calibrated on simulated re-captures that vary them).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Mapping

import numpy as np

from lipsym.errors import LipsymError

if TYPE_CHECKING:  # annotations only: the comparison layer needs no image code
    from lipsym.analysis._result import PhotoAnalysis
    from lipsym.measures._photo import PhotoMeasures

#: MediaPipe's inner-lip midpoints (upper, lower): their distance is the lip gap.
_INNER_LIP_MID = (13, 14)
#: MediaPipe's face-outline points at the tragus level (right, left): the face
#: width of the ``face_too_small`` check (lipsym.face._quality), also stored in
#: a document's ``stable_points_px``.
_FACE_OUTLINE = (234, 454)
#: The quality flag (lipsym.face._quality) that records a parted rest mouth,
#: and its limit as a fraction of the IPD (lipsym.face._quality.MAX_REST_LIP_GAP_IPD).
_LIPS_PARTED_FLAG = "lips_parted"
_LIPS_PARTED_LIMIT_IPD = 0.02


class CaptureError(LipsymError):
    """A stored analysis does not describe how its photo was taken (missing pose, scale or points)."""


@dataclass(frozen=True)
class Capture:
    """How one photo of a face was taken, as far as its analysis tells.

    Attributes
    ----------
    expression : {"rest", "smile", "other"}
    yaw_deg, pitch_deg, roll_deg : float
        Head pose (:class:`lipsym.landmarks.HeadPose`).
    ipd_px : float
        Interpupillary distance in photo pixels: the face's size in the
        photo (camera distance, zoom and resolution together).
    mm_per_px : float
        Pixel size at the face, mm.
    mouth_width_ipd : float
        Cheilion-to-cheilion distance / IPD: the smile intensity's proxy
        (rest ≈ 0.75-0.85, a broad smile ≈ 1.0-1.2).
    lip_gap_ipd : float or None
        Distance between the inner-lip midpoints / IPD; None when a stored
        document does not hold it (then only ``lips_parted`` is known).
    lips_parted : bool
        The lip gap exceeds 2 % of the IPD (the ``lips_parted`` quality flag,
        which lipsym sets for rest photos only).
    face_width_px : float or None
        Distance between the face-outline landmarks 234 and 454 at the
        tragus level, px; None when a stored document does not hold them.
    """

    expression: str
    yaw_deg: float
    pitch_deg: float
    roll_deg: float
    ipd_px: float
    mm_per_px: float
    mouth_width_ipd: float
    lip_gap_ipd: float | None = None
    lips_parted: bool = False
    face_width_px: float | None = None

    @property
    def ipd_mm(self) -> float:
        """Interpupillary distance, mm."""
        return self.ipd_px * self.mm_per_px

    @property
    def perspective_index(self) -> float | None:
        """ln(IPD px / face width px): the photo's perspective, up to a constant of the face.

        A pinhole camera at distance D magnifies a point at depth z by
        D / (D + z): the eyes, ≈ 0.45 face widths in front of the tragus-level
        outline (MediaPipe's depth), grow relative to the face width as the
        camera comes closer, ``index ≈ const_face + Δz / D``. The constant
        differs between faces (London: SD ≈ 0.06), so one photo's index does
        not give its distance; the DIFFERENCE of two photos of one face is
        the change of the perspective (of 1 / distance), whatever the zoom or
        resolution (which scale both lengths alike). Read back by MediaPipe:
        +0.05 (15 vs 30-60 cm, zoom set); +0.05-0.09 for a simulated camera
        at 0.27-0.55 of the source's distance. None without a face width.
        """
        if self.face_width_px is None or not self.face_width_px > 0:
            return None
        return math.log(self.ipd_px / self.face_width_px)

    def mirrored(self) -> Capture:
        """The capture of the mirror image (yaw and roll change sign)."""
        return replace(self, yaw_deg=-self.yaw_deg, roll_deg=-self.roll_deg)


def _mouth_width_ipd(points: Mapping[str, Any], ipd_px: float) -> float:
    a, b = (np.asarray(points[f"cheilion_{s}"], dtype=np.float64)[:2] for s in ("right", "left"))
    return float(np.linalg.norm(a - b) / ipd_px)


def capture_from_analysis(analysis: PhotoAnalysis, measures: PhotoMeasures | None = None) -> Capture:
    """The capture of an analysed photo.

    Parameters
    ----------
    analysis : PhotoAnalysis
    measures : PhotoMeasures, optional
        Its measures; their scale is used when given (the smile photo of a
        rest/smile pair is measured on the rest photo's scale).

    Returns
    -------
    Capture
    """
    pose = analysis.landmarks.pose
    ipd = float(analysis.frame.interpupillary_distance_px)
    marks = analysis.landmarks.points_px
    gap = float(np.linalg.norm(marks[_INNER_LIP_MID[0], :2] - marks[_INNER_LIP_MID[1], :2]) / ipd)
    scale = analysis.scale if measures is None else measures.scale
    width = float(np.linalg.norm(marks[_FACE_OUTLINE[0], :2] - marks[_FACE_OUTLINE[1], :2]))
    return Capture(
        expression=analysis.expression, yaw_deg=float(pose.yaw_deg), pitch_deg=float(pose.pitch_deg),
        roll_deg=float(pose.roll_deg), ipd_px=ipd, mm_per_px=float(scale.mm_per_px),
        mouth_width_ipd=_mouth_width_ipd(analysis.anatomy.points_px, ipd),
        lip_gap_ipd=gap, lips_parted=gap > _LIPS_PARTED_LIMIT_IPD, face_width_px=width,
    )


def _stored_face_width_px(doc: Mapping[str, Any]) -> float | None:
    """The face width from a document's landmarks or stable points; None when neither holds it."""
    marks = doc.get("landmarks_px")
    if marks is not None:
        ends = [np.asarray(marks[i], dtype=np.float64)[:2] for i in _FACE_OUTLINE]
    else:
        stable = doc.get("stable_points_px") or {}
        if not all(str(i) in stable for i in _FACE_OUTLINE):
            return None
        ends = [np.asarray(stable[str(i)], dtype=np.float64)[:2] for i in _FACE_OUTLINE]
    return float(np.linalg.norm(ends[0] - ends[1]))


def capture_from_dict(doc: Mapping[str, Any]) -> Capture:
    """The capture of a stored analysis (one ``results`` entry of the JSON document).

    Parameters
    ----------
    doc : mapping
        As written by :func:`lipsym.formats._json.photo_to_dict`: ``pose``,
        ``frame``, ``scale`` (or ``measures.scale_used``), ``points_px``,
        ``flags`` and, when stored, ``landmarks_px`` or ``stable_points_px``
        (the face width).

    Returns
    -------
    Capture

    Raises
    ------
    CaptureError
        A field the capture needs is missing (e.g. an ``error`` entry).
    """
    try:
        pose, frame = doc["pose"], doc["frame"]
        ipd = float(frame["interpupillary_distance_px"])
        scale = (doc.get("measures") or {}).get("scale_used") or doc["scale"]
        mm_per_px = float(scale["mm_per_px"])
        mouth = _mouth_width_ipd(doc["points_px"], ipd)
        flag = next((f for f in doc.get("flags", ()) if f.get("code") == _LIPS_PARTED_FLAG), None)
        marks = doc.get("landmarks_px")
        if marks is not None:
            m = np.asarray(marks, dtype=np.float64)
            gap = float(np.linalg.norm(m[_INNER_LIP_MID[0], :2] - m[_INNER_LIP_MID[1], :2]) / ipd)
        else:
            gap = None if flag is None or flag.get("value") is None else float(flag["value"])
        return Capture(
            expression=str(doc["expression"]), yaw_deg=float(pose["yaw_deg"]), pitch_deg=float(pose["pitch_deg"]),
            roll_deg=float(pose["roll_deg"]), ipd_px=ipd, mm_per_px=mm_per_px, mouth_width_ipd=mouth,
            lip_gap_ipd=gap, lips_parted=flag is not None or (gap is not None and gap > _LIPS_PARTED_LIMIT_IPD),
            face_width_px=_stored_face_width_px(doc),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise CaptureError(f"stored analysis of {doc.get('file', 'a photo')} does not describe its capture "
                           f"({type(exc).__name__}: {exc})") from None


def capture_to_dict(c: Capture) -> dict[str, Any]:
    """A capture as plain JSON values (benchmarks cache captures this way)."""
    return {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in c.__dict__.items()}
