"""JSON the front end draws: overlays (points, contours, frame) and measures.

Measures come from :func:`lipsym.measures.measure_pair` /
:func:`~lipsym.measures.measure_photo` and are written by the JSON format's own
functions (:mod:`lipsym.formats._json`), so the app shows exactly what
``lipsym analyze`` prints; this module only adds the contours and the
registry's display names.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from lipsym.analysis._result import PhotoAnalysis
from lipsym.formats._json import pair_to_dict, photo_to_dict
from lipsym.measures._pair import measure_pair
from lipsym.measures._photo import measure_photo
from lipsym.measures._registry import REGISTRY, display_name, unit_label

_CONTOURS = ("outer_upper", "outer_lower", "inner_upper", "inner_lower")


def _xy_list(a) -> list[list[float]]:
    return [[round(float(x), 3), round(float(y), 3)] for x, y in a]


#: Named points drawn (and, with the corrections library, dragged).
DRAWN_POINTS = ("pupil_right", "pupil_left", "cheilion_right", "cheilion_left", "crista_philtri_right",
                "crista_philtri_left", "labrale_superius", "labrale_inferius", "stomion")


def overlay(analysis: PhotoAnalysis) -> dict[str, Any]:
    """What the browser draws on one photo, in its pixels (x right, y down)."""
    c = analysis.anatomy.contours
    points = {name: [round(float(v), 3) for v in analysis.anatomy.points_px[name][:2]] for name in DRAWN_POINTS}
    return {"points": points, "contours": {name: _xy_list(getattr(c, name)) for name in _CONTOURS}}


def measured(analyses: Sequence[PhotoAnalysis]) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """Each photo's result entry (flags, scale, frame, points, measures) and the pair's dynamic part.

    ``analyses`` is (rest, smile), (rest,) or (smile,): a pair is measured
    with the rest photo's scale, as everywhere in lipsym.
    """
    if len(analyses) == 2:
        pair = measure_pair(analyses[0], analyses[1])
        entries = [photo_to_dict(analyses[0], pair.rest), photo_to_dict(analyses[1], pair.smile)]
        return entries, pair_to_dict("rest", "smile", pair)
    return [photo_to_dict(analyses[0], measure_photo(analyses[0]))], None


def names(keys) -> dict[str, dict[str, str]]:
    """Display name and unit label of each measure key (from the registry)."""
    return {key: {"name": display_name(key), "unit": unit_label(REGISTRY[key].unit) if key in REGISTRY else ""}
            for key in keys}
