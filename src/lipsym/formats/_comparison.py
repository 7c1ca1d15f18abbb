"""JSON of asymmetry changes between two measurements (two photos, or two visits).

A change is :class:`lipsym.comparison.MeasureChange` as an object: ``key``,
``unit``, ``before``, ``after`` (left − right at each), their standard errors,
``change``, ``standard_error``, ``minimal_detectable_change``, ``detectable``
and ``settling``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from lipsym.comparison._compare import MeasureChange
from lipsym.formats._envelope import envelope, plain

#: Sign convention stated in comparison documents.
CHANGE_ASYMMETRY_SIGN = "left minus right (subject's sides)"


def changes_to_json(changes: Mapping[str, Mapping[str, MeasureChange]]) -> dict[str, list[dict[str, Any]]]:
    """Condition (or expression) → the list of its changes, in measure order."""
    return {condition: plain(list(by_key.values())) for condition, by_key in changes.items()}


def photo_comparison_document(before: Sequence[str | None], after: Sequence[str | None],
                              changes: Mapping[str, Mapping[str, MeasureChange]],
                              image: str | None = None, warnings: Sequence[Any] = ()) -> dict[str, Any]:
    """``lipsym.photo_comparison``: ``lipsym compare BEFORE AFTER --json`` (or two visits' photos).

    Parameters
    ----------
    before, after : sequence of str or None
        The photo files, in the order compared (None for an in-memory photo).
    changes : mapping of str to (mapping of str to MeasureChange)
        Expression → measure key → change.
    image : str, optional
        The comparison image written with it.
    warnings : sequence of CaptureWarning
        How differently the photos were taken (:func:`lipsym.comparison.capture_warnings`).
    """
    return envelope("lipsym.photo_comparison", {
        "before": list(before), "after": list(after), "asymmetry_sign": CHANGE_ASYMMETRY_SIGN,
        "changes": changes_to_json(changes), "image": image,
        "capture_warnings": capture_warnings_to_json(warnings),
    })


def capture_warnings_to_json(warnings: Sequence[Any]) -> list[dict[str, Any]]:
    """Capture-consistency warnings as JSON (code, both photos' values, the limit, the MDC widening, message)."""
    return [{"code": w.code, "before": w.before, "after": w.after, "difference": w.difference, "limit": w.limit,
             "unit": w.unit, "widens_mdc_mm": w.widens_mdc_mm, "message": w.message} for w in warnings]
