"""Analyse one photo: load, detect, build the frame, name the points, scale, flag.

This is the anatomy-and-frame layer's entry point. It returns a frozen
:class:`PhotoAnalysis`; the measures layer (:mod:`lipsym.measures`) works on it.
"""

from __future__ import annotations

import os
from dataclasses import replace

import numpy as np

from lipsym.face._anatomy import anatomy_from_landmarks
from lipsym.errors import ConfigurationError, CorruptPhotoError
from lipsym.face._content import check_skin_content
from lipsym.face._frame import frame_from_landmarks
from lipsym.io._header import read_header
from lipsym.io._photo import Photo, choose_reduction, load_photo
from lipsym.landmarks._default import default_landmarker
from lipsym.landmarks._detector import FaceLandmarks, Landmarker
from lipsym.landmarks._identity import face_descriptor
from lipsym.face._quality import QualityFlag, quality_flags
from lipsym.refine._lips import refine_lips
from lipsym.refine._result import Refinement
from lipsym.analysis._options import AnalysisOptions
from lipsym.analysis._result import PhotoAnalysis
from lipsym.face._scale import scale_from_calibration, scale_from_iris

EXPRESSIONS = ("rest", "smile", "other")

#: Face width (px, as decoded) that landmark detection needs: ~800 px is
#: enough, narrower than ~400 px shifts lip points (docs/reference.md §7).
TARGET_FACE_WIDTH_PX = 800.0
#: A photo is decoded again at a finer resolution only when its face is
#: narrower than this fraction of the target.
REDECODE_BELOW_FRACTION = 0.9




#: Fraction of lip pairs left unrefined above which a photo is flagged.
MAX_REFINEMENT_FALLBACK = 0.25


def detect_at_adequate_resolution(path: str | os.PathLike, landmarker: Landmarker,
                                  *, allow_multiple_faces: bool = True,
                                  data: bytes | None = None) -> tuple[Photo, FaceLandmarks]:
    """Decode a photo small enough to be fast and large enough to be precise.

    A first decode keeps the long side ≥ 2000 px; if the face found is then
    narrower than ~800 px while a finer decode exists, the photo is decoded
    again at the resolution the face needs (docs/reference.md §7: a face
    about 800 px wide is enough). ``data``: the file's bytes, when the
    caller has already read them (:func:`lipsym.io.read_photo_bytes`).
    """
    header = read_header(path, data=data)
    reduction = choose_reduction(header.width_px, header.height_px)
    photo = load_photo(path, reduction=reduction, data=data)
    marks = landmarker.landmarks(photo, allow_multiple_faces=allow_multiple_faces)
    face_width_px = float(((marks.points_px[234, :2] - marks.points_px[454, :2]) ** 2).sum() ** 0.5)
    # A face a few per cent short of the target is not worth a second full
    # decode and detection (a 24 MP photo of a 1600 px face lands at 795 px).
    finer = choose_reduction(header.width_px, header.height_px, face_width_px=face_width_px,
                             target_face_width_px=REDECODE_BELOW_FRACTION * TARGET_FACE_WIDTH_PX)
    if finer < reduction:
        photo = load_photo(path, reduction=finer, data=data)
        marks = landmarker.landmarks(photo, allow_multiple_faces=allow_multiple_faces)
    return photo, marks


def analyze_landmarks(photo: Photo, marks: FaceLandmarks, *, expression: str = "rest",
                      options: AnalysisOptions = AnalysisOptions()) -> PhotoAnalysis:
    """Frame, anatomy, scale and quality flags from detected landmarks.

    Parameters
    ----------
    photo : Photo
        The decoded photo the landmarks belong to.
    marks : FaceLandmarks
        As detected (image sides as MediaPipe numbers them).
    expression : {"rest", "smile", "other"}
    options : AnalysisOptions
    """
    if expression not in EXPRESSIONS:
        raise ConfigurationError(f"expression must be one of {', '.join(EXPRESSIONS)}, got {expression!r}")
    # A damaged file can decode silently into garbage on the face (docs/photos.md): refuse it
    # here rather than measure it.
    try:
        check_skin_content(photo.rgb, photo.from_original_px(np.asarray(marks.points_px)[:, :2]))
    except CorruptPhotoError as exc:
        raise CorruptPhotoError(f"{photo.path.name if photo.path is not None else 'image'}: {exc}") from None
    # On the landmarks as detected: the descriptor's chip is aligned on image sides.
    descriptor = (face_descriptor(photo.rgb, photo.from_original_px(np.asarray(marks.points_px)[:, :2]))
                  if options.face_descriptor else None)
    if options.mirrored:
        marks = marks.mirrored_sides()
    frame = frame_from_landmarks(marks.points_px)
    refinement, points = None, marks.points_px
    flags = list(quality_flags(marks, frame, expression=expression))
    if options.refine:
        refinement = refine_in_original_px(photo, marks.points_px)
        points = refinement.points_px
        # The refined pupils set the frame's axis (refine.refine_pupils).
        frame = frame_from_landmarks(points)
        if refinement.fallback_fraction > MAX_REFINEMENT_FALLBACK or not refinement.commissure_used:
            flags.append(QualityFlag(
                "refinement_fallback", refinement.fallback_fraction, MAX_REFINEMENT_FALLBACK, "fraction",
                f"{refinement.fallback_fraction:.0%} of lip landmark pairs kept MediaPipe's positions "
                f"(weak image evidence{'; commissures included' if not refinement.commissure_used else ''}): "
                "asymmetries may be pulled toward zero"))
        flags += weak_evidence_flags(refinement)
    # The bow peaks are located along the border on MediaPipe's contour: the
    # refinement corrects the border's asymmetry, not where along it the peak lies.
    anatomy = anatomy_from_landmarks(points, frame, bow_reference_px=None if refinement is None else marks.points_px)
    if options.calibration is not None:
        scale = scale_from_calibration(options.calibration, frame.interpupillary_distance_px)
    else:
        scale = scale_from_iris(marks.points_px, options.iris_diameter_mm)
    warnings = []
    if marks.n_faces > 1:
        warnings.append(f"{marks.n_faces} faces found; the largest was analysed")
    return PhotoAnalysis(
        path=photo.path,
        width_px=photo.original_width_px,
        height_px=photo.original_height_px,
        orientation=photo.orientation,
        detection_reduction=photo.reduction,
        expression=expression,
        mirrored=options.mirrored,
        landmarks=marks,
        frame=frame,
        anatomy=anatomy,
        scale=scale,
        flags=tuple(flags),
        warnings=tuple(warnings),
        refinement=refinement,
        identity_descriptor=descriptor,
    )


def weak_evidence_flags(refinement: Refinement) -> list[QualityFlag]:
    """One ``weak_evidence_<structure>`` flag per structure whose refinement rests on weak image evidence.

    From :attr:`lipsym.refine.Refinement.measure_confidence`: the flag names
    the measures affected (their standard errors are widened by
    :func:`lipsym.measures._uncertainty.weak_evidence_sd`) and why; its value
    is the registration's weaker correlation peak (limit: 1, a perfect match).
    """
    weak: dict[str, list] = {}
    for key, c in refinement.measure_confidence.items():
        if not c.strong:
            weak.setdefault(c.structure, [c]).append(key)
    flags = []
    for structure, (c, *keys) in weak.items():
        peak = 0.0 if c.evidence is None else c.evidence.peak_correlation
        flags.append(QualityFlag(
            f"weak_evidence_{structure}", float(peak), 1.0, "correlation",
            f"{structure.replace('_', ' ')}: weak image evidence ({c.reason}); {', '.join(keys)} "
            "rest partly or wholly on MediaPipe's points and carry a wider standard error"))
    return flags


def refine_in_original_px(photo: Photo, points_px: np.ndarray) -> Refinement:
    """Run :func:`lipsym.refine.refine_lips` on the decoded pixels, report in original px.

    The refinement works on the pixels the landmarks were detected on (no
    second decode); its result is mapped back to the original photo.
    """
    detected = np.array(points_px, dtype=np.float64)
    detected[:, :2] = photo.from_original_px(detected[:, :2])
    r = refine_lips(photo.rgb, detected, frame_from_landmarks(detected))
    back = np.array(r.points_px)
    back[:, :2] = photo.to_original_px(back[:, :2])
    back.flags.writeable = False
    scale = float(np.mean(photo.scale_to_original))
    pairs = tuple(replace(p, residual_frame_px=p.residual_frame_px * scale) for p in r.pairs)
    pupils = None if r.pupils is None else replace(r.pupils, residual_frame_px=r.pupils.residual_frame_px * scale)
    return replace(r, points_px=back, pairs=pairs, pupils=pupils)


def analyze_photo(path: str | os.PathLike, landmarker: Landmarker | None = None, *, expression: str = "rest",
                  options: AnalysisOptions = AnalysisOptions(), data: bytes | None = None) -> PhotoAnalysis:
    """Analyse one photo file.

    Parameters
    ----------
    path : path-like
    landmarker : Landmarker, optional
        Reused across photos (one per process); default
        :func:`lipsym.landmarks.default_landmarker`.
    expression : {"rest", "smile", "other"}
    options : AnalysisOptions
    data : bytes, optional
        The file's content, when already read (a batch hashes it first);
        ``path`` then only names the photo.

    Returns
    -------
    PhotoAnalysis
        Points in the photo's own pixels (after EXIF orientation), the
        facial frame, the named anatomy, the mm scale and quality flags.

    Raises
    ------
    PhotoError, FaceError, MeasurementError
        With a one-line reason naming the file.

    Examples
    --------
    >>> import lipsym
    >>> a = lipsym.analyze_photo("sample_images/astronaut.png", expression="smile")
    >>> (a.width_px, a.height_px), a.scale.source
    ((512, 512), 'iris')
    >>> sorted(f.code for f in a.flags)[:1]
    ['face_too_small']
    """
    if landmarker is None:
        landmarker = default_landmarker()
    photo, marks = detect_at_adequate_resolution(path, landmarker, allow_multiple_faces=options.allow_multiple_faces,
                                                 data=data)
    return analyze_landmarks(photo, marks, expression=expression, options=options)
