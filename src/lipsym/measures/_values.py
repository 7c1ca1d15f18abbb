"""Frozen measure values: a number, its unit, its standard error, its meaning.

Values are created in mm from frame-pixel geometry by :func:`sided` and
:func:`scalar`; pixels are never converted in place.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from lipsym.face._scale import Scale
from lipsym.measures._registry import measure_info, scale_power
from lipsym.measures._uncertainty import landmark_sd, sensitivity_sd

#: Every signed asymmetry in lipsym is the subject's LEFT minus RIGHT.
ASYMMETRY_MEANING = "left minus right (subject's sides): positive means the subject's left is larger / higher / further out"


@dataclass(frozen=True)
class SidedMeasure:
    """A quantity measured on each side of the face, and its asymmetry.

    Attributes
    ----------
    key : str
        Stable name, e.g. ``"commissure_height"``.
    unit : str
        ``"mm"``, ``"mm2"`` or ``"deg"``.
    right, left : float
        Value on the subject's right and left side.
    asymmetry : float
        ``left − right`` in ``unit``.
    asymmetry_pct_ipd : float or None
        ``asymmetry`` as % of the interpupillary distance (lengths only).
    ratio : float or None
        ``min(|left|, |right|) / max(...)`` (1 = symmetric), for positive quantities.
    standard_error : float
        Standard error of ``asymmetry`` (same unit).
    description : str
        What is measured and what a positive asymmetry means.
    """

    key: str
    unit: str
    right: float
    left: float
    asymmetry: float
    asymmetry_pct_ipd: float | None
    ratio: float | None
    standard_error: float
    description: str


@dataclass(frozen=True)
class ScalarMeasure:
    """A single number for the face (an angle, a width, an index).

    Attributes
    ----------
    key, unit, value, standard_error, description
        As for :class:`SidedMeasure`.
    """

    key: str
    unit: str
    value: float
    standard_error: float
    description: str


def _ratio(right: float, left: float) -> float | None:
    hi = max(abs(right), abs(left))
    return None if hi == 0 else min(abs(right), abs(left)) / hi


#: Power of the pixel size in a sided measure's unit (lengths 1, areas 2).


def sided(key: str, right_px: float, left_px: float, scale: Scale, ipd_px: float) -> SidedMeasure:
    """A sided length or area measured in frame pixels.

    Unit (mm or mm²), description and whether a ratio is reported come from
    the measure's registry entry (:mod:`lipsym.measures._registry`). The
    standard error combines the calibrated landmark error of the
    asymmetry (:func:`lipsym.measures.landmark_sd`), the
    face-to-face spread of the recovered fraction of an asymmetry
    (:func:`~lipsym.measures.sensitivity_sd`) and the scale's
    relative uncertainty; the last two scale with the asymmetry.
    """
    info = measure_info(key)
    power = scale_power(info.unit)
    factor = scale.mm_per_px ** power
    right, left = right_px * factor, left_px * factor
    asym = left - right
    se = math.hypot(landmark_sd(key, ipd_px, power) * factor, abs(asym) * power * scale.relative_uncertainty,
                    abs(asym) * sensitivity_sd(key))
    return SidedMeasure(
        key=key,
        unit=info.unit,
        right=right,
        left=left,
        asymmetry=asym,
        asymmetry_pct_ipd=100.0 * (left_px - right_px) / ipd_px if info.has_pct_ipd else None,
        ratio=_ratio(right, left) if info.has_ratio else None,
        standard_error=se,
        description=info.description,
    )


def sided_angle(key: str, right_deg: float, left_deg: float) -> SidedMeasure:
    """A sided angle (degrees; scale-free), with its calibrated landmark standard error."""
    info = measure_info(key)
    return SidedMeasure(key, info.unit, right_deg, left_deg, left_deg - right_deg, None, None,
                        landmark_sd(key, 1.0, 0), info.description)


def absolute(key: str, value_px: float, scale: Scale, ipd_px: float) -> ScalarMeasure:
    """An absolute size (a length, an area or a ratio of lengths) measured in frame pixels.

    The unit (mm, mm² or dimensionless "1") comes from the registry; ``value_px``
    is in px, px² or dimensionless to match. The standard error combines the
    calibrated landmark error of the value itself (:func:`lipsym.measures.landmark_sd`:
    the within-face SD of this measure under re-photographing perturbations,
    relative to the interpupillary distance) and the scale's relative
    uncertainty times the value (twice it for areas; none for a ratio). The
    iris scale carries about 3.6 %; a change between two visits of the same
    patient measured on the same kind of scale shares most of that part, so
    the SE of one visit's value overstates the noise of a within-patient change.
    """
    info = measure_info(key)
    power = scale_power(info.unit)
    factor = scale.mm_per_px ** power
    value = value_px * factor
    se = math.hypot(landmark_sd(key, ipd_px, power) * factor, abs(value) * power * scale.relative_uncertainty)
    return ScalarMeasure(key, info.unit, value, se, info.description)


def scalar(key: str, value: float, standard_error: float) -> ScalarMeasure:
    """A scalar measure, its unit and description from the registry."""
    info = measure_info(key)
    return ScalarMeasure(key, info.unit, value, standard_error, info.description)
