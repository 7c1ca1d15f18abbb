"""Measures that cannot be computed on a photo: left empty and flagged, never a failed photo.

Where MediaPipe's points exist, every measure that can be computed is
(issue #14, item 7). On a strongly turned head the lip contours, seen
foreshortened, may not reach the facial midline or mid-hemilip of one side
(the frame is anchored on the pupils); the vermilion heights there, the
areas' split and the measures built on the lower lip's midline point then
have no value. Such a measure keeps its place in the results with NaN values
(written as null in JSON, an empty cell in CSV, no row in the visit record)
and the photo carries the quality flag ``measure_unavailable`` naming each
measure and why.
"""

from __future__ import annotations

from typing import Callable, TypeVar

from lipsym.errors import MeasurementError
from lipsym.face._quality import QualityFlag
from lipsym.measures._registry import measure_info
from lipsym.measures._values import ScalarMeasure, SidedMeasure

#: Code of the quality flag of a photo on which some measures could not be computed.
UNAVAILABLE_FLAG = "measure_unavailable"

_NAN = float("nan")
T = TypeVar("T")


def unmeasurable_sided(key: str) -> SidedMeasure:
    """A sided measure without a value: NaN sides, asymmetry and standard error; no percentage or ratio."""
    info = measure_info(key)
    return SidedMeasure(key=key, unit=info.unit, right=_NAN, left=_NAN, asymmetry=_NAN, asymmetry_pct_ipd=None,
                        ratio=None, standard_error=_NAN, description=info.description)


def unmeasurable_scalar(key: str) -> ScalarMeasure:
    """A scalar measure without a value (NaN value and standard error)."""
    info = measure_info(key)
    return ScalarMeasure(key, info.unit, _NAN, _NAN, info.description)


def attempt(key: str, compute: Callable[[], T], unmeasured: dict[str, str] | None) -> T | SidedMeasure | ScalarMeasure:
    """``compute()``, or the measure ``key`` without a value when its geometry does not exist.

    Parameters
    ----------
    key : str
        The measure's registry key.
    compute : callable
        Returns the measure; raises :class:`MeasurementError` when the
        geometry it needs is missing (e.g. a contour that does not reach
        the x where it is read).
    unmeasured : dict of str to str or None
        Collects ``key → reason`` of the measures left empty. None: the
        error propagates (a caller that wants all or nothing).
    """
    try:
        return compute()
    except MeasurementError as exc:
        if unmeasured is None:
            raise
        unmeasured[key] = str(exc)
        info = measure_info(key)
        return unmeasurable_sided(key) if info.is_sided else unmeasurable_scalar(key)


def unavailable_flag(unmeasured: dict[str, str], yaw_deg: float | None = None) -> QualityFlag | None:
    """The ``measure_unavailable`` flag of a photo (None when every measure was computed).

    Its value is the number of measures left empty (limit 0); its message
    names them and the first reason.
    """
    if not unmeasured:
        return None
    reasons = sorted(set(unmeasured.values()))
    turned = f"; the head is turned (yaw {yaw_deg:+.0f}°)" if yaw_deg is not None and abs(yaw_deg) >= 15 else ""
    return QualityFlag(
        UNAVAILABLE_FLAG, float(len(unmeasured)), 0.0, "measures",
        f"{len(unmeasured)} measure(s) could not be computed and are left empty: {', '.join(unmeasured)} "
        f"({reasons[0]}{'; and other reasons' if len(reasons) > 1 else ''}{turned})")
