"""Change of an absolute lip measure between two captures: the treatment's effect and its settling.

An absolute measure (intercommissural width, vermilion heights, philtrum
length, vermilion areas, the upper:lower ratio;
:mod:`lipsym.measures._absolute`) changes between two visits by
``after − before`` (e.g. the upper vermilion height +1.2 mm after an HA
filler). Its standard error between two captures is (issue #16)

    SE_change = max( sqrt(SE_lm,before² + SE_lm,after² + SD_between²), floor )

- ``SE_lm``: each photo's LANDMARK standard error of the value
  (:func:`lipsym.measures.landmark_sd` at that photo's IPD and pixel size).
  The one-photo standard error stored with the value also holds the
  absolute scale uncertainty (the iris is 11.7 mm ± 3.6 % in the
  population); that part is the same for every photo of one patient, so it
  does not enter a within-patient change: what varies between captures is
  the next term.
- ``SD_between``: what an unchanged face's value moves between two photos,
  for a measure of dimension ``p`` (1 mm, 2 mm², 0 for the ratio), IPD the
  mean interpupillary distance of the two photos (mm) and ``v`` the mean of
  the two values::

      SD_between² = (scale · p · v)²
                    + IPD^(2p) · ( base[expr]² + (pose · Δpose)² + (distance · ln(ipd_px_b / ipd_px_a))²
                                   + (perspective · Δperspective_index)² + (smile · Δmouth_width)² )

  ``scale`` is the between-photo variability of the mm-per-pixel scale (the
  iris or IPD re-measured on each photo: an error proportional to the
  value, which an asymmetry, a difference of two sides measured on one
  scale, largely does not suffer), ``pose`` per degree of the head pose
  difference (root sum of squares of Δyaw, Δpitch, Δroll), ``distance`` the
  face-size (zoom/distance) change, ``perspective`` the change of the
  camera's perspective read from the face itself
  (:attr:`Capture.perspective_index`, ln(IPD / face width); the asymmetry
  model's term, :func:`lipsym.comparison._capture_model.perspective_change`,
  0 when a capture does not hold its face width), ``smile`` the expression's intensity difference
  (mouth width, fraction of the IPD) and ``base`` the rest of an
  identical-pose re-capture (light, JPEG, re-detection).
- ``floor``: the larger of the published 3-D test-retest floor (MDC95
  0.8 mm at rest, 1.3 mm in smile, PMC8288314, docs/reference.md §6, as
  SE = MDC95 / 1.96; a whole lip's area: the length floor spread along both
  hemi-lip borders, 2 · :data:`~lipsym.comparison._capture_model.AREA_BORDER_IPD`
  IPD; the upper:lower ratio: the heights' floors propagated,
  ``r · sqrt((f/U)² + (f/L)²)`` with ``U``, ``L`` the mean midline heights
  and ``f`` their floor) and the pixel floor of
  :func:`lipsym.comparison.change_se_floor`.

MDC95 = 1.96 · SE_change; a change is "detectable" when ``|change| > MDC95``.
The percent change is relative to ``before``. Coefficients and their
calibration data: :data:`ABSOLUTE_COEFFICIENTS`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from types import MappingProxyType
from typing import Iterable, Mapping

from lipsym.comparison._capture import Capture
from lipsym.comparison._capture_model import LITERATURE_MDC_MM, change_se_floor, perspective_change
from lipsym.measures import ScalarMeasure
from lipsym.measures._absolute import ABSOLUTE_KEYS
from lipsym.measures._registry import scale_power
from lipsym.measures._uncertainty import landmark_sd

#: z for a two-sided 95 % interval.
_Z95 = 1.96

#: What every table of a treatment's effect on size says about its sensitivity: a growth on
#: both sides is under-read (docs/accuracy.md, "Sensitivity to a symmetric growth": 0.52-0.88 of
#: planted 1-3 mm growths at mid-hemilip, London and 3DSK, 10 faces each, 2 December 2026).
SIZE_EFFECT_CAVEAT = "a growth on both sides reads at about 0.5-0.9 of its size: a lower bound"

#: The absolute measures reported first (tracking, reports): the heights and
#: areas a lip filler changes, and the mouth width.
KEY_ABSOLUTE = ("upper_vermilion_height_midline", "lower_vermilion_height_midline", "upper_vermilion_area",
                "lower_vermilion_area", "intercommissural_width")


@dataclass(frozen=True)
class AbsoluteCoefficients:
    """Between-capture SD coefficients of one absolute measure (module docstring).

    Attributes
    ----------
    scale : float
        Relative SD of the value from the photo's scale (per unit of ``p · v``).
    base_rest, base_smile : float
        SD of an identical-pose re-capture, fraction of IPD^p.
    pose : float
        Per degree of pose difference, fraction of IPD^p.
    distance : float
        Per unit of ``|ln(ipd_px ratio)|``, fraction of IPD^p.
    smile : float
        Per unit of mouth-width difference (fraction of IPD), fraction of IPD^p.
    perspective : float
        Per unit of perspective-index difference
        (:func:`lipsym.comparison._capture_model.perspective_change`), fraction of IPD^p.
    """

    scale: float
    base_rest: float
    base_smile: float
    pose: float
    distance: float
    smile: float
    perspective: float = 0.0


#: Printed by ``nice python benchmarks/recapture_absolute.py --faces 999
#: --recaptures 3 --fit --workers 2`` (docs/accuracy.md, "Change of absolute
#: measures between two captures"), 2 December 2026, branch h-abs, with the
#: size border search (lipsym.refine._size). Calibration data: simulated
#: unchanged re-captures (lipsym.simulate._recapture, seed 16, the
#: simulator's default draw as benchmarks/recapture.py: a quarter at close
#: range, downscales to a 130 px face; 3 re-captures per photo, every pair of
#: the 4 versions) of the London development photos (34 neutral *_03 as rest,
#: 34 smiling *_08 as smile) and the 50 3DSK development photos (neutral,
#: rest): 708 pairs. ``scale`` is the RMS of ln(IPD_mm before / IPD_mm after)
#: over those pairs (0.0137: an unchanged face's IPD in mm moves only with the
#: photo's scale), the same for every measure; the other terms: non-negative
#: least squares of the squared change beyond the landmark and scale
#: variance, then one factor per measure (≥ 1, noted per line, applied to
#: every term) so that at most 4 % of those pairs are called detectable. The
#: real re-photographs of unchanged people (invariance/lisa, invariance/zoom)
#: were never fitted: they are the check (their scale moves 0.0122 and
#: 0.0206). ``perspective`` is 0: fitted too (``--perspective``) it takes
#: over part of the pose term, and the real lisa pairs, whose head tilts
#: (up to 20°) lie beyond the simulated ±7°, then get 20 % false calls
#: instead of 6 % (docs/accuracy.md; this one choice between the two fits was
#: made looking at the real pairs). ``smile`` is not fitted (0): follow-up
#: photos are compared within one expression.
ABSOLUTE_COEFFICIENTS: Mapping[str, AbsoluteCoefficients] = MappingProxyType({
    "intercommissural_width": AbsoluteCoefficients(  # factor 1.22
        scale=0.0166, base_rest=0.00537, base_smile=0.0129, pose=0.00307, distance=0.0177, smile=0, perspective=0),
    "upper_vermilion_height_midline": AbsoluteCoefficients(  # factor 1.00
        scale=0.0137, base_rest=0.00403, base_smile=0.00474, pose=0.00163, distance=0.00634, smile=0, perspective=0),
    "lower_vermilion_height_midline": AbsoluteCoefficients(  # factor 1.28
        scale=0.0175, base_rest=0.00894, base_smile=0.00995, pose=0.00258, distance=0, smile=0, perspective=0),
    "upper_vermilion_height_mid_mean": AbsoluteCoefficients(  # factor 1.00
        scale=0.0137, base_rest=0.00439, base_smile=0.00702, pose=0.00101, distance=0.00485, smile=0, perspective=0),
    "lower_vermilion_height_mid_mean": AbsoluteCoefficients(  # factor 1.16
        scale=0.0158, base_rest=0.00987, base_smile=0.011, pose=0.00111, distance=0.00559, smile=0, perspective=0),
    "upper_lower_vermilion_ratio": AbsoluteCoefficients(  # factor 1.22
        scale=0, base_rest=0.036, base_smile=0.0531, pose=0.022, distance=0, smile=0, perspective=0),
    "philtrum_length": AbsoluteCoefficients(  # factor 1.16
        scale=0.0158, base_rest=0.0135, base_smile=0.0112, pose=0.00152, distance=0.0121, smile=0, perspective=0),
    "upper_vermilion_area": AbsoluteCoefficients(  # factor 1.00
        scale=0.0137, base_rest=0.00258, base_smile=0.00553, pose=0.000799, distance=0.00324, smile=0, perspective=0),
    "lower_vermilion_area": AbsoluteCoefficients(  # factor 1.05
        scale=0.0144, base_rest=0.00498, base_smile=0.00586, pose=0.000895, distance=0.00391, smile=0, perspective=0),
})


def _coefficients(key: str) -> AbsoluteCoefficients:
    """The measure's coefficients; one the calibration does not cover takes the largest of each term."""
    known = ABSOLUTE_COEFFICIENTS.get(key)
    if known is not None:
        return known
    rows = list(ABSOLUTE_COEFFICIENTS.values())
    return AbsoluteCoefficients(*(max((getattr(r, f) for r in rows), default=0.0)
                                  for f in AbsoluteCoefficients.__dataclass_fields__))


@dataclass(frozen=True)
class AbsoluteChange:
    """Change of one absolute measure between two measurements.

    Attributes
    ----------
    key, unit : str
    before, after : float
        The values (``unit``).
    change : float
        ``after − before``.
    percent_change : float or None
        ``100 · change / before``; None when ``before`` is 0.
    standard_error : float
        SE of the change (module docstring); without captures the one-photo
        standard errors combined as independent.
    minimal_detectable_change : float
        ``1.96 · standard_error`` (MDC95).
    detectable : bool
        ``|change| > minimal_detectable_change``.
    between_source : {"model"} or None
        "model" when the between-capture model and floors were applied;
        None for one-photo standard errors only.
    """

    key: str
    unit: str
    before: float
    after: float
    change: float
    percent_change: float | None
    standard_error: float
    minimal_detectable_change: float
    detectable: bool
    between_source: str | None = None


def _expression(before: Capture, after: Capture) -> str:
    return "rest" if before.expression == after.expression == "rest" else "smile"


def _landmark_se(key: str, unit: str, c: Capture) -> float:
    p = scale_power(unit)
    return landmark_sd(key, c.ipd_px, p) * c.mm_per_px ** p


def absolute_between_sd(key: str, unit: str, value: float, before: Capture, after: Capture) -> float:
    """SD of an unchanged face's absolute measure between two captures, in the measure's unit.

    Parameters
    ----------
    key, unit : str
    value : float
        The measure's size (mean of the two values), for the scale term.
    before, after : Capture
    """
    c = _coefficients(key)
    p = scale_power(unit)
    size = (0.5 * (before.ipd_mm + after.ipd_mm)) ** p if p else 1.0
    base = c.base_rest if _expression(before, after) == "rest" else c.base_smile
    dpose = math.sqrt((after.yaw_deg - before.yaw_deg) ** 2 + (after.pitch_deg - before.pitch_deg) ** 2
                      + (after.roll_deg - before.roll_deg) ** 2)
    geometric = math.sqrt(base ** 2 + (c.pose * dpose) ** 2
                          + (c.distance * math.log(after.ipd_px / before.ipd_px)) ** 2
                          + (c.perspective * perspective_change(before, after)) ** 2
                          + (c.smile * (after.mouth_width_ipd - before.mouth_width_ipd)) ** 2)
    return math.hypot(c.scale * p * abs(value), geometric * size)


def absolute_se_floor(key: str, unit: str, before: Capture, after: Capture,
                      heights_mm: tuple[float, float] | None = None) -> float:
    """Smallest standard error of an absolute change between two captures (module docstring).

    Parameters
    ----------
    key, unit : str
    before, after : Capture
    heights_mm : (float, float), optional
        Mean upper and lower midline vermilion heights, for the ratio's floor;
        without them the ratio has no floor.
    """
    p = scale_power(unit)
    if p == 1:
        return change_se_floor(unit, before, after)
    if p == 2:  # a whole lip: two hemi-lip borders
        return 2.0 * change_se_floor(unit, before, after)
    if key == "upper_lower_vermilion_ratio" and heights_mm and min(heights_mm) > 0:
        f = max(LITERATURE_MDC_MM[_expression(before, after)] / _Z95, change_se_floor("mm", before, after))
        upper, lower = heights_mm
        return (upper / lower) * math.hypot(f / upper, f / lower)
    return 0.0


def compare_absolute_one(before: ScalarMeasure, after: ScalarMeasure,
                         captures: tuple[Capture, Capture] | None = None,
                         heights_mm: tuple[float, float] | None = None) -> AbsoluteChange:
    """Change of one absolute measure.

    Parameters
    ----------
    before, after : ScalarMeasure
        The same measure (same key and unit) at two times.
    captures : (Capture, Capture), optional
        How the two photos were taken: the landmark SEs, the between-capture
        SD and the floors (module docstring). Without: the one-photo
        standard errors combined as independent (they include the absolute
        scale uncertainty twice, so they overstate a within-patient change's
        noise, yet miss pose and distance: use captures for two visits).
    heights_mm : (float, float), optional
        For the ratio's floor (:func:`absolute_se_floor`).
    """
    if before.key != after.key or before.unit != after.unit:
        raise ValueError(f"cannot compare {before.key} ({before.unit}) with {after.key} ({after.unit})")
    change = after.value - before.value
    if captures is None:
        se, source = math.hypot(before.standard_error, after.standard_error), None
    else:
        cap_b, cap_a = captures
        between = absolute_between_sd(before.key, before.unit, 0.5 * (before.value + after.value), cap_b, cap_a)
        se = math.sqrt(_landmark_se(before.key, before.unit, cap_b) ** 2
                       + _landmark_se(before.key, before.unit, cap_a) ** 2 + between ** 2)
        se = max(se, absolute_se_floor(before.key, before.unit, cap_b, cap_a, heights_mm))
        source = "model"
    mdc = _Z95 * se
    pct = 100.0 * change / before.value if before.value else None
    return AbsoluteChange(key=before.key, unit=before.unit, before=before.value, after=after.value, change=change,
                          percent_change=pct, standard_error=se, minimal_detectable_change=mdc,
                          detectable=bool(abs(change) > mdc), between_source=source)


def compare_absolute(before: Mapping[str, ScalarMeasure], after: Mapping[str, ScalarMeasure],
                     keys: Iterable[str] | None = None,
                     captures: tuple[Capture, Capture] | None = None) -> dict[str, AbsoluteChange]:
    """Change of every absolute lip measure between two photos of one face.

    Parameters
    ----------
    before, after : mapping of str to ScalarMeasure
        The photos' scalar measures (:attr:`lipsym.measures.PhotoMeasures.scalars`);
        only the absolute measures (:data:`lipsym.measures._absolute.ABSOLUTE_KEYS`)
        are compared.
    keys : iterable of str, optional
        Which measures; default every absolute measure both have, the
        :data:`KEY_ABSOLUTE` first.
    captures : (Capture, Capture), optional
        How the two photos were taken; see :func:`compare_absolute_one`.

    Returns
    -------
    dict of str to AbsoluteChange
        In the order of ``keys``; values that are not finite are left out.

    Examples
    --------
    >>> from lipsym.measures import ScalarMeasure
    >>> b = {"upper_vermilion_height_midline": ScalarMeasure("upper_vermilion_height_midline", "mm", 6.2, 0.1, "")}
    >>> a = {"upper_vermilion_height_midline": ScalarMeasure("upper_vermilion_height_midline", "mm", 7.4, 0.1, "")}
    >>> c = compare_absolute(b, a)["upper_vermilion_height_midline"]
    >>> round(c.change, 2), round(c.percent_change, 1)
    (1.2, 19.4)
    """
    common = [k for k in ABSOLUTE_KEYS if k in before and k in after]
    if keys is None:
        keys = [k for k in KEY_ABSOLUTE if k in common] + [k for k in common if k not in KEY_ABSOLUTE]
    else:
        keys = [k for k in keys if k in common]
    heights = None
    u, lo = "upper_vermilion_height_midline", "lower_vermilion_height_midline"
    if all(k in before and k in after for k in (u, lo)):
        heights = (0.5 * (before[u].value + after[u].value), 0.5 * (before[lo].value + after[lo].value))
    out = {}
    for k in keys:
        if math.isfinite(before[k].value) and math.isfinite(after[k].value):
            out[k] = compare_absolute_one(before[k], after[k], captures, heights)
    return out
