"""Change of each asymmetry between two measurements of the same face.

The comparison layer: it sits on the measures layer and is used by the
before/after images and reports and by the visit record (follow-up
settling). It knows nothing of files, images or the store.

For each sided measure the change is ``after.asymmetry − before.asymmetry``
(left − right, subject's sides, so a positive change means the subject's
left gained relative to the right). Its standard error combines the two
measurements' standard errors as independent:

    SE_change = sqrt(SE_before² + SE_after²)

and the **minimal detectable change** (MDC95) is the smallest change that is
unlikely (5 %) to be measurement noise alone:

    MDC95 = 1.96 · SE_change

(the usual 1.96·√2·SEM when both measurements have the same SEM; Weir,
J Strength Cond Res 2005). The per-measure SEM comes from lipsym's own
repeatability benchmark (docs/accuracy.md "Standard errors"). A change is "detectable" when
``|change| > MDC95``.

That SEM re-processes ONE photo; two visits are two captures. When the
captures are given (``captures=(before, after)``, :class:`Capture`), the
between-capture variability of an unchanged face is added and the result is
kept above the published test-retest and the pixel floors
(:mod:`lipsym.comparison._capture_model`, issue #13):

    SE_change = max(sqrt(SE_before² + SE_after² + SD_between²), floor)

Without captures the standard error is the one-photo figure above, which
understates the error of a change between two visits. With captures the
commissure height's change is also corrected for the change of the camera's
keystone (a near camera and a turned head image the nearer half of the face
taller: :func:`lipsym.comparison._capture_model.keystone_correction`);
``keystone_correction`` says by how much.

When a visit holds several photos of the expression (replicates,
:mod:`lipsym.comparison._replicates`), its value is their robust mean and
their spread is that visit's own measured re-capture error. Given the
replicates (``replicates=(before, after)``), the change's measured
between-capture SD is ``sqrt(SD_before²/n_before + SD_after²/n_after)``
(over the visits with two or more photos); it replaces the model's
``SD_between`` when it is larger (this clinic's photos vary more than the
model assumes), else the model's stands, and the floors still apply. Once a
clinic has calibrated its own re-capture SD from the replicates in its record
(:mod:`lipsym.comparison._calibration`, ``lipsym calibrate``), that SD takes
the model's place; each change says which was used (``between_source``).

Settling (follow-up after a treatment) classifies each change by what it did
to the size of the asymmetry, against the same noise level: ``converging``
when |asymmetry| shrank by more than the MDC, ``diverging`` when it grew by
more, ``stable`` otherwise. These are measurement statements, not advice.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterable, Mapping

from lipsym.comparison._calibration import CalibratedSD
from lipsym.comparison._capture import Capture
from lipsym.comparison._capture_model import between_capture_sd, change_se_floor, keystone_correction
from lipsym.comparison._replicates import ReplicateMeasure
from lipsym.measures import PhotoMeasures, SidedMeasure

#: z for a two-sided 95 % interval.
Z95 = 1.96

#: The asymmetries reported first in comparisons, tracking and reports.
KEY_MEASURES = (
    "commissure_height",
    "commissure_lateral",
    "bow_peak_height",
    "upper_vermilion_height_mid",
    "lower_vermilion_height_mid",
    "upper_hemi_vermilion_area",
    "lower_hemi_vermilion_area",
)

SETTLING = ("converging", "stable", "diverging")


@dataclass(frozen=True)
class MeasureChange:
    """Change of one signed asymmetry between two measurements.

    Attributes
    ----------
    key, unit : str
    before, after : float
        Left − right asymmetry at each measurement (``unit``).
    before_se, after_se : float
        Their standard errors.
    change : float
        ``after − before``, less ``keystone_correction`` (with captures).
    standard_error : float
        ``sqrt(before_se² + after_se²)``; with captures, also the
        between-capture SD and the floors (module docstring).
    minimal_detectable_change : float
        ``1.96 · standard_error`` (MDC95).
    detectable : bool
        ``|change| > minimal_detectable_change``.
    settling : {"converging", "stable", "diverging"}
        What happened to ``|asymmetry|``, against the same MDC (the after value less
        ``keystone_correction``, as ``change``).
    before_replicates, after_replicates : int
        Photos each value is the robust mean of (1: a single photo).
    before_replicate_sd, after_replicate_sd : float or None
        SD of the replicates' asymmetries at each visit (None for one photo).
    replicate_se : float or None
        The measured between-capture SD of the change,
        ``sqrt(Σ SD²/n)`` over the visits with replicates; None without.
    between_source : {"model", "clinic", "replicates"} or None
        Where the between-capture SD in ``standard_error`` came from: the
        capture model, the clinic's calibration
        (:mod:`lipsym.comparison._calibration`), or these visits' own
        replicates (when larger); None when no between-capture term was
        added (one-photo standard errors only).
    keystone_correction : float
        With captures, the part of ``after − before`` that the change of the
        camera's keystone explains (a near camera and a turned head image
        one side taller: :func:`lipsym.comparison._capture_model.keystone_correction`);
        ``change`` is ``after − before − keystone_correction``. 0.0 without
        captures and for measures it does not apply to.
    """

    key: str
    unit: str
    before: float
    after: float
    before_se: float
    after_se: float
    change: float
    standard_error: float
    minimal_detectable_change: float
    detectable: bool
    settling: str
    before_replicates: int = 1
    after_replicates: int = 1
    before_replicate_sd: float | None = None
    after_replicate_sd: float | None = None
    replicate_se: float | None = None
    between_source: str | None = None
    keystone_correction: float = 0.0

    def contains(self, value: float, z: float = Z95) -> bool:
        """Whether ``value`` lies within ``z`` standard errors of the measured change."""
        return abs(self.change - value) <= z * self.standard_error


def compare_sided(before: SidedMeasure, after: SidedMeasure,
                  captures: tuple[Capture, Capture] | None = None,
                  replicates: tuple[ReplicateMeasure | None, ReplicateMeasure | None] | None = None,
                  calibration: CalibratedSD | None = None) -> MeasureChange:
    """Change of one sided measure's asymmetry.

    Parameters
    ----------
    before, after : SidedMeasure
        The same measure (same key and unit) at two times.
    captures : (Capture, Capture), optional
        How the two photos were taken (:func:`capture_from_analysis`,
        :func:`capture_from_dict`): adds the between-capture variability and
        the floors to the standard error. Default: the one-photo standard
        errors only.
    replicates : (ReplicateMeasure or None, ReplicateMeasure or None), optional
        The replicates ``before`` and ``after`` are the robust means of
        (:func:`lipsym.comparison.aggregate_replicates`); their measured
        spread replaces the between-capture SD when larger (module docstring).
    calibration : CalibratedSD, optional
        This clinic's pooled re-capture SD of the measure and expression;
        when :attr:`~CalibratedSD.used`, it replaces the model's
        between-capture SD (:mod:`lipsym.comparison._calibration`); the
        floors still apply.
    """
    if before.key != after.key or before.unit != after.unit:
        raise ValueError(f"cannot compare {before.key} ({before.unit}) with {after.key} ({after.unit})")
    rep_b, rep_a = replicates if replicates is not None else (None, None)
    spread = [r for r in (rep_b, rep_a) if r is not None and r.n > 1]
    measured = math.sqrt(sum(r.standard_error_of_mean ** 2 for r in spread)) if spread else None
    se = math.hypot(before.standard_error, after.standard_error)
    clinic = None
    if calibration is not None and calibration.used:
        clinic = calibration.change_sd(rep_b.n if rep_b else 1, rep_a.n if rep_a else 1)
    source = None
    keystone = 0.0
    if captures is not None:
        cap_b, cap_a = captures
        keystone = keystone_correction(before.key, (before.right, before.left), (after.right, after.left),
                                       cap_b, cap_a)
        between, source = (clinic, "clinic") if clinic is not None else (
            between_capture_sd(before.key, before.unit, cap_b, cap_a), "model")
        if measured is not None and measured > between:
            between, source = measured, "replicates"
        se = max(math.hypot(se, between), change_se_floor(before.unit, cap_b, cap_a))
    elif clinic is not None or measured is not None:
        between, source = max(((clinic or 0.0), "clinic"), ((measured or 0.0), "replicates"))
        se = math.hypot(se, between)
    mdc = Z95 * se
    change = after.asymmetry - before.asymmetry - keystone
    # Settling judges the asymmetry as the after photo would read it captured like the before one
    # (the keystone's share taken out), so it agrees with ``change``.
    shrink = abs(before.asymmetry) - abs(after.asymmetry - keystone)
    settling = "converging" if shrink > mdc else "diverging" if -shrink > mdc else "stable"
    return MeasureChange(
        key=before.key, unit=before.unit, before=before.asymmetry, after=after.asymmetry,
        before_se=before.standard_error, after_se=after.standard_error, change=change,
        standard_error=se, minimal_detectable_change=mdc, detectable=abs(change) > mdc, settling=settling,
        before_replicates=rep_b.n if rep_b else 1, after_replicates=rep_a.n if rep_a else 1,
        before_replicate_sd=rep_b.sd if rep_b and rep_b.n > 1 else None,
        after_replicate_sd=rep_a.sd if rep_a and rep_a.n > 1 else None, replicate_se=measured,
        between_source=source, keystone_correction=keystone,
    )


def compare_measures(before: PhotoMeasures | Mapping[str, SidedMeasure],
                     after: PhotoMeasures | Mapping[str, SidedMeasure],
                     keys: Iterable[str] | None = None,
                     captures: tuple[Capture, Capture] | None = None,
                     replicates: tuple[Mapping[str, ReplicateMeasure] | None,
                                       Mapping[str, ReplicateMeasure] | None] | None = None,
                     calibration: Mapping[str, CalibratedSD] | None = None,
                     ) -> dict[str, MeasureChange]:
    """Change of every sided asymmetry between two photos of one face.

    Parameters
    ----------
    before, after : PhotoMeasures or mapping of str to SidedMeasure
        Measures of two photos with the same expression.
    keys : iterable of str, optional
        Which measures; default every sided measure both have, the
        :data:`KEY_MEASURES` first.
    captures : (Capture, Capture), optional
        How the two photos were taken; see :func:`compare_sided`.
    replicates : (mapping or None, mapping or None), optional
        Key → :class:`ReplicateMeasure` of each side that is the robust mean
        of replicate photos; see :func:`compare_sided`.
    calibration : mapping of str to CalibratedSD, optional
        Key → the clinic's calibration for these photos' expression
        (:meth:`ClinicCalibration.for_expression`); see :func:`compare_sided`.

    Returns
    -------
    dict of str to MeasureChange
        In the order of ``keys``; a measure that could not be computed on
        either photo (NaN, :mod:`lipsym.measures._unmeasured`) is left out:
        its change is unknown, not "stable".

    Examples
    --------
    The same photo twice: no change, and never detectable.

    >>> import lipsym
    >>> a = lipsym.analyze_photo("sample_images/london_094_rest.jpg")
    >>> m = lipsym.measure_photo(a)
    >>> c = lipsym.compare(m, m)["commissure_height"]
    >>> float(c.change), bool(c.detectable)
    (0.0, False)

    As two captures, the change's standard error includes what differs
    between two photos of an unchanged face (pose, distance, expression),
    never below the published test-retest floor:

    >>> from lipsym.comparison import capture_from_analysis
    >>> cap = capture_from_analysis(a, m)
    >>> c = lipsym.compare(m, m, captures=(cap, cap))["commissure_height"]
    >>> round(c.minimal_detectable_change, 2) >= 0.8
    True
    """
    b = before.sided if isinstance(before, PhotoMeasures) else before
    a = after.sided if isinstance(after, PhotoMeasures) else after
    if keys is None:
        common = [k for k in b if k in a]
        keys = [k for k in KEY_MEASURES if k in common] + [k for k in common if k not in KEY_MEASURES]
    rep_b, rep_a = replicates if replicates is not None else (None, None)
    cal = calibration or {}
    return {k: compare_sided(b[k], a[k], captures, ((rep_b or {}).get(k), (rep_a or {}).get(k)), cal.get(k))
            for k in keys if math.isfinite(b[k].asymmetry) and math.isfinite(a[k].asymmetry)}
