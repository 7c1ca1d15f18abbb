"""Options of the analysis, importable without OpenCV or MediaPipe.

A batch's parent process builds its configuration from these before it
starts the workers; importing :mod:`lipsym.analysis` (OpenCV, the refinement,
the measures) there only delayed the first result.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lipsym.face._scale import DEFAULT_IRIS_DIAMETER_MM, Calibration
from lipsym.landmarks._options import LandmarkerOptions


@dataclass(frozen=True)
class AnalysisOptions:
    """How a photo is analysed, including the landmarker it is analysed with.

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
    allow_different_person : bool
        Measure a rest/smile pair even when the two photos do not look like
        the same person (:func:`lipsym.comparison.same_person`); by default
        such a pair is refused, since its "movement" would be the difference
        between two faces. Not part of :meth:`identity`: it decides whether
        a result is made, not what it is.
    face_descriptor : bool
        Compute the photo's identity descriptor for the same-person check
        (:func:`lipsym.landmarks._identity.face_descriptor`, 0.15-0.37 s a
        photo on a 2-core machine: docs/accuracy.md, "Same-person check").
        False skips it (a large research batch that compares nothing): the
        document then has no ``identity_descriptor`` and a same-person check
        falls back to face geometry, which refuses fewer different people.
        It changes no measure, but a document without the descriptor is not the
        one a default run makes: :meth:`identity` records it only when False,
        so existing identities are unchanged.
    landmarker : LandmarkerOptions
        The landmarker to analyse with (``Landmarker(options.landmarker)``).
        It is part of the options because its ``flip_average`` changes
        results; the model is identified by the digest of the bundle actually
        loaded (``Landmarker.model_sha256``), not by these options.
    """

    mirrored: bool = False
    iris_diameter_mm: float = DEFAULT_IRIS_DIAMETER_MM
    calibration: Calibration | None = None
    allow_multiple_faces: bool = True
    refine: bool = True
    allow_different_person: bool = False
    face_descriptor: bool = True
    landmarker: LandmarkerOptions = LandmarkerOptions()

    def identity(self) -> dict[str, Any]:
        """The settings that change results, as documents record them.

        Stored analyses (visit record) are looked up by this dict and batch
        results are cached by it, so its keys and values never change
        without a migration: they are those ``lipsym analyze`` has always
        written under ``settings``.

        Returns
        -------
        dict
            ``mirrored``, ``iris_mm``, ``ipd_mm`` (None unless calibrated by
            the interpupillary distance), ``mm_per_px`` (None unless calibrated
            directly), ``calibration_uncertainty`` (relative; the default
            0.01 when not calibrated), ``flip_average``, ``single_face`` and
            ``refine``, in that order; ``face_descriptor`` (False) last, only
            when the descriptor is skipped.

        Examples
        --------
        >>> AnalysisOptions(mirrored=True).identity()["mirrored"]
        True
        >>> AnalysisOptions(calibration=Calibration(mm_per_px=0.1)).identity()["mm_per_px"]
        0.1
        """
        cal = self.calibration
        return {"mirrored": self.mirrored,
                "iris_mm": self.iris_diameter_mm,
                "ipd_mm": None if cal is None else cal.interpupillary_distance_mm,
                "mm_per_px": None if cal is None else cal.mm_per_px,
                "calibration_uncertainty": (Calibration.relative_uncertainty if cal is None
                                            else cal.relative_uncertainty),
                "flip_average": self.landmarker.flip_average,
                "single_face": not self.allow_multiple_faces,
                "refine": self.refine,
                # Only when off: every identity recorded before this option keeps its keys.
                **({} if self.face_descriptor else {"face_descriptor": False})}
