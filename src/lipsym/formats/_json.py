"""The versioned JSON document written by ``lipsym analyze``.

Schema ``lipsym.analysis`` version 1, documented in docs/json-schema.md and
described by ``analysis.schema.json`` (JSON Schema, draft 2020-12) beside this
module. Version rules: :mod:`lipsym.formats._envelope`. A measure's fields
are its parts (:mod:`lipsym.formats._naming`), its unit and description come
from the measure registry.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from lipsym.analysis._result import PhotoAnalysis
from lipsym.comparison._same_person import IDENTITY_JSON_KEY, STABLE_POINTS, descriptor_to_dict
from lipsym.errors import LipsymError
from lipsym.formats._envelope import SCHEMAS, envelope
from lipsym.formats._naming import SCALAR_PARTS, SIDED_PARTS
from lipsym.measures._pair import PairMeasures
from lipsym.measures._photo import PhotoMeasures
from lipsym.measures._registry import REGISTRY
from lipsym.measures._values import ASYMMETRY_MEANING, ScalarMeasure, SidedMeasure

SCHEMA = "lipsym.analysis"
SCHEMA_VERSION = SCHEMAS[SCHEMA]


def _num(x: float | None, digits: int = 9) -> float | None:
    if x is None:
        return None
    x = float(x)
    return round(x, digits) if math.isfinite(x) else None


def _xy(p: np.ndarray) -> list[float]:
    return [_num(p[0], 4), _num(p[1], 4)]


def _measure_dict(m: SidedMeasure | ScalarMeasure, parts: tuple[str, ...]) -> dict[str, Any]:
    return {"unit": m.unit, **{part: _num(getattr(m, part)) for part in parts}, "description": m.description}


def sided_to_dict(m: SidedMeasure, band=None) -> dict[str, Any]:
    """A sided measure (or a pair's movement) as JSON, with its agreement tier and reference band if any."""
    d = _measure_dict(m, SIDED_PARTS)
    info = REGISTRY.get(m.key)
    if info is not None and info.agreement is not None:
        d["agreement"] = info.agreement
    if band is not None:
        d["band"] = {"label": band.label, "text": band.text, "source": band.source}
    return d


def scalar_to_dict(m: ScalarMeasure) -> dict[str, Any]:
    """A scalar measure as JSON."""
    return _measure_dict(m, SCALAR_PARTS)


def measures_to_dict(m: PhotoMeasures) -> dict[str, Any]:
    """The ``measures`` section of one photo."""
    return {
        "asymmetry_sign": ASYMMETRY_MEANING,
        "interpupillary_distance_mm": _num(m.interpupillary_distance_mm),
        "scale_used": {"mm_per_px": _num(m.scale.mm_per_px, 8), "source": m.scale.source,
                       "relative_uncertainty": _num(m.scale.relative_uncertainty)},
        "sided": {k: sided_to_dict(v, m.bands.get(k)) for k, v in m.sided.items()},
        "scalars": {k: scalar_to_dict(v) for k, v in m.scalars.items()},
        "composite": {"value": _num(m.composite.value), "standard_error": _num(m.composite.standard_error),
                      "formula": m.composite.formula,
                      "contributions": {k: _num(v) for k, v in m.composite.contributions.items()}},
        "points_frame_mm": {k: _xy(v) for k, v in m.points_frame_mm.items()},
    }


def photo_to_dict(a: PhotoAnalysis, measures: PhotoMeasures | None = None, *,
                  include_landmarks: bool = False) -> dict[str, Any]:
    """One photo's entry in ``results``."""
    marks, frame, scale = a.landmarks, a.frame, a.scale
    d: dict[str, Any] = {
        "file": str(a.path) if a.path else None,
        "status": "ok",
        "expression": a.expression,
        "width_px": a.width_px,
        "height_px": a.height_px,
        "orientation_applied": a.orientation,
        "detection_reduction": a.detection_reduction,
        "mirrored": a.mirrored,
        "faces_found": marks.n_faces,
        "flip_averaged": marks.flip_averaged,
        "pose": {"yaw_deg": _num(marks.pose.yaw_deg, 3), "pitch_deg": _num(marks.pose.pitch_deg, 3),
                 "roll_deg": _num(marks.pose.roll_deg, 3)},
        # The analysis's flags, then the measures' own (a measure that could not be computed).
        "flags": [{"code": f.code, "value": _num(f.value), "limit": _num(f.limit), "unit": f.unit,
                   "message": f.message} for f in a.flags + (measures.flags if measures is not None else ())],
        "warnings": list(a.warnings),
        "scale": {"mm_per_px": _num(scale.mm_per_px, 8), "source": scale.source,
                  "relative_uncertainty": _num(scale.relative_uncertainty),
                  "iris_diameter_px": _num(scale.iris_diameter_px), "reference_mm": _num(scale.reference_mm)},
        "frame": {"origin_px": _xy(frame.origin_px), "x_axis": _xy(frame.x_axis), "y_axis": _xy(frame.y_axis),
                  "interpupillary_distance_px": _num(frame.interpupillary_distance_px),
                  "ipl_angle_deg": _num(frame.ipl_angle_deg),
                  "soft_tissue_midline_angle_deg": _num(frame.soft_tissue_midline_angle_deg)},
        "points_px": {k: _xy(v) for k, v in a.anatomy.points_px.items()},
        # What the same-person check needs to compare stored analyses (docs/json-schema.md).
        "stable_points_px": {str(i): _xy(a.points_px[i]) for i in STABLE_POINTS},
        IDENTITY_JSON_KEY: descriptor_to_dict(a.identity_descriptor),
        "refinement": None if a.refinement is None else {
            "fallback_fraction": _num(a.refinement.fallback_fraction),
            "commissure_refined": a.refinement.commissure_used,
            "pairs": [_pair_dict(p) for p in a.refinement.pairs],
            "pupils": None if a.refinement.pupils is None else _pair_dict(a.refinement.pupils),
        },
    }
    if a.provenance != "automatic":
        # Points moved by hand (lipsym.analysis.apply_corrections): say so, and which.
        d["provenance"] = a.provenance
        d["corrections"] = [m.to_dict() for m in a.corrections]
    if include_landmarks:
        d["landmarks_px"] = [[_num(v, 3) for v in row] for row in a.points_px]
    if measures is not None:
        d["measures"] = measures_to_dict(measures)
    return d


def error_to_dict(path: str | Path, error: LipsymError) -> dict[str, Any]:
    """An entry in ``results`` for a photo that could not be analysed."""
    return {"file": str(path), "status": "error",
            "error": {"type": type(error).__name__, "message": str(error)}}


def pair_to_dict(rest_file: str, smile_file: str, pair: PairMeasures) -> dict[str, Any]:
    """An entry in ``pairs``: the dynamic component and the static/dynamic summary."""
    return {
        "rest": rest_file,
        "smile": smile_file,
        "scale_source": pair.smile.scale.source,
        "dynamic": {k: sided_to_dict(v) for k, v in pair.dynamic.items()},
        "summary": [{"structure": s.structure, "pattern": s.pattern,
                     "static_asymmetry_mm": _num(s.static_asymmetry_mm),
                     "dynamic_asymmetry_mm": _num(s.dynamic_asymmetry_mm), "text": s.text} for s in pair.summary],
    }


def document(results: list[dict], pairs: list[dict], *, model_sha256: str | None, settings: dict) -> dict[str, Any]:
    """The whole versioned document."""
    return envelope(SCHEMA, {
        "model_sha256": model_sha256,
        "coordinates": "points in the original photo's pixels after EXIF orientation; x right, y down, "
                       "pixel centres at integers",
        "sides": "right/left are the SUBJECT's sides",
        "asymmetry_sign": ASYMMETRY_MEANING,
        "settings": settings,
        "results": results,
        "pairs": pairs,
        "disclaimer": "Measurements for decision support and research; not a diagnosis or a treatment recommendation.",
    })


def _pair_dict(p) -> dict[str, Any]:
    """One refined landmark pair (lipsym.refine.PairRefinement) as JSON."""
    return {"right": p.right, "left": p.left, "used": p.used, "reason": p.reason, "method": p.method,
            "residual_frame_px": _xy(p.residual_frame_px), "peak_correlation": _num(p.peak_correlation, 4),
            "weight": _num(p.weight, 4), "evidence": None if p.evidence is None else _evidence_dict(p.evidence)}


def _evidence_dict(e) -> dict[str, Any]:
    """A registration's image evidence (lipsym.refine.Evidence) as JSON."""
    return {"peak_correlation": _num(e.peak_correlation, 4), "sharpness": _num(e.sharpness, 4),
            "uniqueness": _num(e.uniqueness, 4), "contrast": _num(e.contrast, 2),
            "disagreement_ipd": _num(e.disagreement_ipd, 5), "strong": e.strong, "reason": e.reason}
