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
from lipsym.measures._registry import AGREEMENT_TIERS, REGISTRY, display_name, unit_label
from lipsym.report._format import AGREEMENT_MARKS

_CONTOURS = ("outer_upper", "outer_lower", "inner_upper", "inner_lower")


def _xy_list(a) -> list[list[float]]:
    return [[round(float(x), 3), round(float(y), 3)] for x, y in a]


def overlay(analysis: PhotoAnalysis) -> dict[str, Any]:
    """The lip contours the browser draws on one photo, in its pixels (x right, y down)."""
    c = analysis.anatomy.contours
    return {"contours": {name: _xy_list(getattr(c, name)) for name in _CONTOURS}}


def measured(analyses: Sequence[PhotoAnalysis], measures, pair) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """Each photo's result entry (flags, scale, frame, points, measures) and the pair's dynamic part.

    ``measures`` are the photos' :class:`~lipsym.measures.PhotoMeasures` (a
    pair's on the rest photo's scale), ``pair`` the :class:`PairMeasures` or None.
    """
    entries = [photo_to_dict(a, m) for a, m in zip(analyses, measures)]
    return entries, None if pair is None else pair_to_dict("rest", "smile", pair)


def names(keys) -> dict[str, dict[str, str]]:
    """Display name and unit label of each measure key (from the registry).

    A measure with an agreement tier also gets the report's mark for it and the tier's meaning
    (``mark``, ``agreement``; :func:`lipsym.report._format.marked_name`), so the page marks what
    the PDF marks.
    """
    out = {}
    for key in keys:
        info = REGISTRY.get(key)
        entry = {"name": display_name(key), "unit": unit_label(info.unit) if info is not None else ""}
        if info is not None and info.agreement in AGREEMENT_MARKS:
            entry.update(mark=AGREEMENT_MARKS[info.agreement], agreement=AGREEMENT_TIERS[info.agreement])
        out[key] = entry
    return out
