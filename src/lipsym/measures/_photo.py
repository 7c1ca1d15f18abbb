"""All measures of one photo."""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Mapping

import numpy as np

from lipsym.analysis._result import PhotoAnalysis
from lipsym.face._quality import QualityFlag
from lipsym.face._scale import Scale
from lipsym.measures._absolute import absolute_measures
from lipsym.measures._bands import Band, band_for
from lipsym.measures._commissures import commissure_measures, commissure_scalars
from lipsym.measures._composite import CompositeScore, composite_score
from lipsym.measures._contours import dense_contour, midline_crossing
from lipsym.measures._cupids_bow import cupids_bow_measures
from lipsym.measures._registry import scale_power
from lipsym.measures._uncertainty import weak_evidence_sd
from lipsym.measures._unmeasured import attempt, unavailable_flag, unmeasurable_sided
from lipsym.measures._values import ScalarMeasure, SidedMeasure
from lipsym.measures._vermilion import vermilion_measures

#: Points whose frame positions are kept for rest → smile movement.
TRACKED_POINTS = ("cheilion_right", "cheilion_left", "crista_philtri_right", "crista_philtri_left")


@dataclass(frozen=True)
class PhotoMeasures:
    """Measures of one photo, in mm (degrees for angles), with uncertainty.

    Attributes
    ----------
    expression : str
    scale : Scale
        The scale used (for a smile photo in a pair: the rest photo's, see
        :func:`lipsym.measures.pair_scale`).
    interpupillary_distance_mm : float
    sided : mapping of str to SidedMeasure
    scalars : mapping of str to ScalarMeasure
    composite : CompositeScore
    bands : mapping of str to Band
        Reference band of each sided measure that has one.
    points_frame_mm : mapping of str to ndarray, shape (2,)
        :data:`TRACKED_POINTS` in the facial frame, mm (x towards the
        subject's left, y up, origin at the pupil midpoint).
    unmeasured : mapping of str to str
        Measures that could not be computed (their values are NaN) → why
        (:mod:`lipsym.measures._unmeasured`); empty when all were.
    flags : tuple of QualityFlag
        The measures' own quality flags (``measure_unavailable``), beside
        the analysis's.
    """

    expression: str
    scale: Scale
    interpupillary_distance_mm: float
    sided: Mapping[str, SidedMeasure]
    scalars: Mapping[str, ScalarMeasure]
    composite: CompositeScore
    bands: Mapping[str, Band]
    points_frame_mm: Mapping[str, np.ndarray]
    unmeasured: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    flags: tuple[QualityFlag, ...] = ()


def _widen_weak(analysis: PhotoAnalysis, by_key: dict[str, SidedMeasure], scale: Scale,
                ipd_px: float) -> dict[str, SidedMeasure]:
    """The measures whose refinement rests wholly or partly on its fallback, with their wider standard error.

    See :attr:`lipsym.refine.Refinement.measure_confidence` (which measures,
    and :attr:`~lipsym.refine.MeasureConfidence.fallback_share`, how much)
    and :func:`lipsym.measures._uncertainty.weak_evidence_sd` (how much wider
    in full); the analysis carries a ``weak_evidence_<structure>`` flag for
    each structure below its evidence limit.
    """
    if analysis.refinement is None:
        return by_key
    for key, confidence in analysis.refinement.measure_confidence.items():
        m = by_key.get(key)
        # Widened by the share of the value that is the fallback's, not by
        # the flag: the bow's correction fades with its sharpness across the
        # flag's limit, and its standard error must not jump where its value
        # does not (London 128 under re-processing, docs/accuracy.md).
        share = confidence.fallback_share
        if m is not None and share > 0.0:
            power = scale_power(m.unit)
            extra = share * weak_evidence_sd(key, ipd_px, power) * scale.mm_per_px ** power
            by_key[key] = replace(m, standard_error=math.hypot(m.standard_error, extra))
    return by_key


def measure_photo(analysis: PhotoAnalysis, scale: Scale | None = None) -> PhotoMeasures:
    """Measure vermilion, Cupid's bow, commissures and the lips' absolute size of an analysed photo.

    Parameters
    ----------
    analysis : PhotoAnalysis
    scale : Scale, optional
        Overrides the photo's own scale (used for the smile photo of a pair).

    Returns
    -------
    PhotoMeasures
        Every registered measure in mm (mm² for areas, degrees for angles)
        with its standard error; signed asymmetries are left − right. A
        measure whose geometry does not exist on this photo (a strongly
        turned head) has NaN values, is listed in ``unmeasured`` and flagged.

    Examples
    --------
    >>> import lipsym
    >>> m = lipsym.measure_photo(lipsym.analyze_photo("sample_images/london_094_rest.jpg"))
    >>> c = m.sided["commissure_height"]
    >>> f"{c.asymmetry:+.1f} ± {c.standard_error:.1f} {c.unit}"
    '+1.1 ± 0.1 mm'
    """
    scale = scale or analysis.scale
    frame, anatomy = analysis.frame, analysis.anatomy
    ipd_px = frame.interpupillary_distance_px
    f = {name: frame.to_frame(p) for name, p in anatomy.points_px.items()}
    c = anatomy.contours
    outer_upper, outer_lower, inner_upper, inner_lower = (
        dense_contour(frame.to_frame(x)) for x in (c.outer_upper, c.outer_lower, c.inner_upper, c.inner_lower)
    )
    unmeasured: dict[str, str] = {}
    # The lower lip's midline point anchors the excursion and the smile angle only.
    lower_mid = attempt("commissure_excursion", lambda: midline_crossing(outer_lower), unmeasured)
    missing_mid = "commissure_excursion" in unmeasured
    if missing_mid:
        unmeasured["smile_angle"] = unmeasured["commissure_excursion"]
        lower_mid = np.array([0.0, f["stomion"][1]])  # placeholder; both measures are replaced below
    sided_list = commissure_measures(
        f["cheilion_right"], f["cheilion_left"], f["endocanthion_right"], f["endocanthion_left"],
        lower_mid, scale, ipd_px)
    if missing_mid:
        sided_list = [unmeasurable_sided(m.key) if m.key in unmeasured else m for m in sided_list]
    bow_sided, bow_scalars = cupids_bow_measures(
        f["crista_philtri_right"], f["crista_philtri_left"], f["labrale_superius"], scale, ipd_px)
    sided_list += bow_sided
    scalar_list = bow_scalars
    sided_list += vermilion_measures(outer_upper, inner_upper, outer_lower, inner_lower,
                                     f["cheilion_right"], f["cheilion_left"],
                                     f["crista_philtri_right"], f["crista_philtri_left"], scale, ipd_px,
                                     unmeasured)
    scalar_list += absolute_measures(outer_upper, inner_upper, outer_lower, inner_lower,
                                     f["cheilion_right"], f["cheilion_left"], f["subnasale"],
                                     f["labrale_superius"], scale, ipd_px, unmeasured,
                                     size_borders=None if analysis.refinement is None
                                     else analysis.refinement.size_borders)
    by_key = _widen_weak(analysis, {m.key: m for m in sided_list}, scale, ipd_px)
    # After the widening: the cant and the index restate two sided measures, standard errors included.
    scalar_list = commissure_scalars(f["cheilion_right"], f["cheilion_left"], by_key["commissure_height"],
                                     by_key["endocanthion_cheilion"], scale) + scalar_list
    bands = {k: b for k, m in by_key.items()
             if math.isfinite(m.asymmetry) and (b := band_for(k, m.asymmetry, analysis.expression)) is not None}
    points = {}
    for name in TRACKED_POINTS:
        p = f[name] * scale.mm_per_px
        p.flags.writeable = False
        points[name] = p
    return PhotoMeasures(
        expression=analysis.expression,
        scale=scale,
        interpupillary_distance_mm=ipd_px * scale.mm_per_px,
        sided=MappingProxyType(by_key),
        scalars=MappingProxyType({m.key: m for m in scalar_list}),
        composite=composite_score(by_key),
        bands=MappingProxyType(bands),
        points_frame_mm=MappingProxyType(points),
        unmeasured=MappingProxyType(unmeasured),
        flags=tuple(f for f in (unavailable_flag(unmeasured, analysis.landmarks.pose.yaw_deg),) if f is not None),
    )
