"""Rest + smile: static asymmetry, smile asymmetry and the dynamic component.

Both photos share one scale. The rest photo's mm/px (iris or calibration)
fixes the subject's interpupillary distance in mm; the smile photo's scale is
then derived from that same IPD, which absorbs any change of camera distance
between the two photos. (The iris is often partly covered by the cheeks in a
smile, so the smile photo's own iris scale is the less reliable one.)

Dynamic component per side (Auto-eFACE style): the movement of each
commissure and Cupid's bow peak from rest to smile, in the facial frame, as a
vector (outward, lift) and a magnitude; its asymmetry is left − right and the
min/max ratio of the magnitudes is 1 for equal movement.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import Mapping

from lipsym.analysis._result import PhotoAnalysis
from lipsym.face._scale import Scale
from lipsym.measures._photo import PhotoMeasures, measure_photo
from lipsym.measures._registry import MOVEMENT_COMPONENTS, measure_info
from lipsym.measures._values import SidedMeasure
from lipsym.sides import Side

#: Minimal detectable change used to call an asymmetry "present", mm:
#: 0.8 mm at rest and 1.3 mm in smile, test-retest of 3D photos one week
#: apart (PMC8288314). Replaced by lipsym's own figures where measured.
PRESENCE_THRESHOLD_REST_MM = 0.8
PRESENCE_THRESHOLD_DYNAMIC_MM = 1.3

_STRUCTURE_NAMES = {"commissures": "commissures", "cupids_bow": "Cupid's bow"}
_STRUCTURES = {  # structure → (point name stem, rest asymmetry key)
    "commissures": ("cheilion", "commissure_height"),
    "cupids_bow": ("crista_philtri", "bow_peak_height"),
}


@dataclass(frozen=True)
class PatternSummary:
    """Whether a structure's asymmetry is static, dynamic, both or neither.

    A measurement statement, not advice.

    Attributes
    ----------
    structure : str
    pattern : {"static", "dynamic", "static_and_dynamic", "below_threshold"}
    static_asymmetry_mm : float
        Left − right height asymmetry at rest.
    dynamic_asymmetry_mm : float
        Left − right asymmetry of the lift from rest to smile.
    text : str
    """

    structure: str
    pattern: str
    static_asymmetry_mm: float
    dynamic_asymmetry_mm: float
    text: str


@dataclass(frozen=True)
class PairMeasures:
    """Measures of a rest/smile pair.

    Attributes
    ----------
    rest, smile : PhotoMeasures
        The smile photo measured with :func:`pair_scale`.
    dynamic : mapping of str to SidedMeasure
        Movement rest → smile per side (mm), keys ``<point>_movement``,
        ``<point>_lift``, ``<point>_outward``.
    summary : tuple of PatternSummary
    """

    rest: PhotoMeasures
    smile: PhotoMeasures
    dynamic: Mapping[str, SidedMeasure]
    summary: tuple[PatternSummary, ...]


def pair_scale(rest: PhotoAnalysis, smile: PhotoAnalysis) -> Scale:
    """The smile photo's scale, tied to the rest photo's (see module doc)."""
    if rest.scale.source == "calibration_mm_per_px":
        return rest.scale
    ipd_mm = rest.frame.interpupillary_distance_px * rest.scale.mm_per_px
    return replace(rest.scale, mm_per_px=ipd_mm / smile.frame.interpupillary_distance_px,
                   source=f"{rest.scale.source}_via_rest_ipd", iris_diameter_px=None)


def _movement(rest: PhotoMeasures, smile: PhotoMeasures, stem: str, key: str) -> list[SidedMeasure]:
    """Rest → smile movement of a point pair; the asymmetry's standard error
    combines the two photos' landmark errors of the structure's height
    asymmetry ``key`` (the movement asymmetry is a difference of the two)
    with the scale uncertainty."""
    comps = {}
    for side in Side:
        # The frame's x points to the subject's left: away from the midline is -x on the right.
        outward_sign = 1.0 if side is Side.LEFT else -1.0
        d = smile.points_frame_mm[f"{stem}_{side.value}"] - rest.points_frame_mm[f"{stem}_{side.value}"]
        comps[side] = {"movement": math.hypot(d[0], d[1]), "lift": float(d[1]), "outward": outward_sign * float(d[0])}
    rel = rest.scale.relative_uncertainty
    landmark_se = math.hypot(rest.sided[key].standard_error, smile.sided[key].standard_error)
    out = []
    for suffix in MOVEMENT_COMPONENTS:
        info = measure_info(f"{stem}_{suffix}")
        r, l = comps[Side.RIGHT][suffix], comps[Side.LEFT][suffix]
        hi = max(abs(r), abs(l))
        out.append(SidedMeasure(
            key=info.key, unit=info.unit, right=r, left=l, asymmetry=l - r,
            asymmetry_pct_ipd=100.0 * (l - r) / rest.interpupillary_distance_mm if info.has_pct_ipd else None,
            ratio=(min(abs(r), abs(l)) / hi if hi > 0 and info.has_ratio else None),
            standard_error=math.hypot(landmark_se, abs(l - r) * rel),
            description=info.description,
        ))
    return out


def _summary(structure: str, static: float, dynamic: float) -> PatternSummary:
    is_static = abs(static) >= PRESENCE_THRESHOLD_REST_MM
    is_dynamic = abs(dynamic) >= PRESENCE_THRESHOLD_DYNAMIC_MM
    pattern = {(True, True): "static_and_dynamic", (True, False): "static",
               (False, True): "dynamic", (False, False): "below_threshold"}[(is_static, is_dynamic)]
    name = _STRUCTURE_NAMES[structure]
    # round(-0.02, 1) is -0.0, which would print as "-0.0" (issue #16); "or 0.0" turns it into +0.0.
    st, dy = f"{round(static, 1) or 0.0:+.1f}", f"{round(dynamic, 1) or 0.0:+.1f}"
    text = {
        "static": f"{name}: asymmetry mainly present at rest ({st} mm), the smile adds {dy} mm",
        "dynamic": f"{name}: asymmetry mainly appears with the smile ({dy} mm), at rest {st} mm",
        "static_and_dynamic": f"{name}: asymmetry at rest ({st} mm) and with the smile ({dy} mm)",
        "below_threshold": f"{name}: rest ({st} mm) and smile ({dy} mm) asymmetries are below "
                           f"the detection thresholds ({PRESENCE_THRESHOLD_REST_MM} / {PRESENCE_THRESHOLD_DYNAMIC_MM} mm)",
    }[pattern]
    return PatternSummary(structure, pattern, static, dynamic, text)


def measure_pair(rest: PhotoAnalysis, smile: PhotoAnalysis) -> PairMeasures:
    """Measure a rest/smile pair of the same person.

    Parameters
    ----------
    rest, smile : PhotoAnalysis
        Analysed with expression "rest" and "smile".

    Returns
    -------
    PairMeasures
        The rest and smile measures on one scale, the rest → smile movement
        of each commissure and Cupid's bow peak, and whether each
        structure's asymmetry is static, dynamic, both or neither.

    Examples
    --------
    >>> import lipsym
    >>> pair = lipsym.analyze_pair("sample_images/london_094_rest.jpg", "sample_images/london_094_smile.jpg")
    >>> m = lipsym.measure_pair(*pair)
    >>> m.smile.scale.source
    'iris_via_rest_ipd'
    >>> [s.structure for s in m.summary]
    ['commissures', 'cupids_bow']
    """
    rest_m = measure_photo(rest)
    smile_m = measure_photo(smile, scale=pair_scale(rest, smile))
    dynamic = []
    summaries = []
    for structure, (stem, key) in _STRUCTURES.items():
        moves = _movement(rest_m, smile_m, stem, key)
        dynamic += moves
        lift = next(m for m in moves if m.key == f"{stem}_lift")
        summaries.append(_summary(structure, rest_m.sided[key].asymmetry, lift.asymmetry))
    return PairMeasures(rest=rest_m, smile=smile_m,
                        dynamic=MappingProxyType({m.key: m for m in dynamic}), summary=tuple(summaries))
