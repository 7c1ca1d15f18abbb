"""Replicate photos of one expression at one visit: their value and their spread.

The capture protocol (docs/visit-record.md) takes several photos of each
expression at a visit (e.g. three rest and three smile photos, same
distance, light and framing). :func:`aggregate_replicates` combines their
measures into the visit's value per measure and its *measured* re-capture
spread:

- the value is a robust mean of the replicates (:func:`robust_mean`): the
  **median for three or more** (one failed capture, e.g. a blink-tensed
  mouth, cannot pull it), the **mean for two** (the median of two is their
  mean anyway) and the value itself for one;
- the spread is the sample SD of the replicates' asymmetries (``ddof=1``)
  with their number ``n``; it is that visit's own re-capture error, which
  :func:`lipsym.comparison.compare_measures` uses in a change's standard
  error when it exceeds the model's between-capture SD;
- the within-photo standard error of the value is the median of the
  replicates' standard errors: the processing error of one photo is shared
  by re-captures of one face (same anatomy, same refinement), so averaging
  does not shrink it.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from lipsym.measures._values import SidedMeasure


@dataclass(frozen=True)
class ReplicateMeasure:
    """One sided measure of several photos of one expression at one visit.

    Attributes
    ----------
    measure : SidedMeasure
        The visit's value: every number is the robust mean of the
        replicates' (:func:`robust_mean`); ``standard_error`` is the median
        of theirs (module docstring).
    sd : float
        Sample SD of the replicates' asymmetries, in ``measure.unit``; NaN
        for one photo.
    n : int
        Number of replicates.
    asymmetries : tuple of float
        Each replicate's asymmetry, in the order given.
    """

    measure: SidedMeasure
    sd: float
    n: int
    asymmetries: tuple[float, ...]

    @property
    def key(self) -> str:
        return self.measure.key

    @property
    def standard_error_of_mean(self) -> float:
        """``sd / sqrt(n)``: the measured re-capture error of the visit's value (NaN for one photo)."""
        return self.sd / math.sqrt(self.n)


def robust_mean(values: Sequence[float]) -> float:
    """The median of three or more values, the mean of two, the value of one.

    Raises
    ------
    ValueError
        No values.
    """
    if not values:
        raise ValueError("robust_mean of no values")
    return float(statistics.median(values)) if len(values) >= 3 else float(statistics.fmean(values))


def _optional_mean(values: Sequence[float | None]) -> float | None:
    return None if any(v is None for v in values) else robust_mean(values)  # type: ignore[arg-type]


def aggregate_sided(replicates: Sequence[SidedMeasure]) -> ReplicateMeasure:
    """Combine one measure of several replicate photos (module docstring).

    Parameters
    ----------
    replicates : sequence of SidedMeasure
        The same measure (same key and unit) of each photo.

    Returns
    -------
    ReplicateMeasure

    Raises
    ------
    ValueError
        No replicates, or replicates of different measures.
    """
    if not replicates:
        raise ValueError("no replicates to aggregate")
    first = replicates[0]
    if any(m.key != first.key or m.unit != first.unit for m in replicates):
        raise ValueError(f"replicates of {first.key} mix measures or units")
    asym = tuple(float(m.asymmetry) for m in replicates)
    value = SidedMeasure(
        key=first.key, unit=first.unit, right=robust_mean([m.right for m in replicates]),
        left=robust_mean([m.left for m in replicates]), asymmetry=robust_mean(asym),
        asymmetry_pct_ipd=_optional_mean([m.asymmetry_pct_ipd for m in replicates]),
        ratio=_optional_mean([m.ratio for m in replicates]),
        standard_error=float(statistics.median(m.standard_error for m in replicates)),
        description=first.description,
    )
    sd = float(statistics.stdev(asym)) if len(asym) > 1 else math.nan
    return ReplicateMeasure(measure=value, sd=sd, n=len(asym), asymmetries=asym)


def aggregate_replicates(replicates: Sequence[Mapping[str, SidedMeasure]]) -> dict[str, ReplicateMeasure]:
    """Combine the sided measures of several photos of one expression at one visit.

    Parameters
    ----------
    replicates : sequence of mapping of str to SidedMeasure
        Each photo's measures (key → measure), e.g. ``PhotoMeasures.sided``.

    Returns
    -------
    dict of str to ReplicateMeasure
        Every key any replicate has, in first-seen order; ``n`` counts the
        photos that have it.

    Examples
    --------
    >>> from lipsym.measures._values import SidedMeasure
    >>> def m(a):
    ...     return {"commissure_height": SidedMeasure("commissure_height", "mm", 0.0, a, a, None, None, 0.2, "")}
    >>> r = aggregate_replicates([m(1.0), m(1.2), m(3.0)])["commissure_height"]
    >>> r.measure.asymmetry, r.n, round(r.sd, 3)
    (1.2, 3, 1.102)
    """
    by_key: dict[str, list[SidedMeasure]] = {}
    for photo in replicates:
        for key, measure in photo.items():
            by_key.setdefault(key, []).append(measure)
    return {key: aggregate_sided(measures) for key, measures in by_key.items()}
