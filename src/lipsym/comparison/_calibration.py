"""A clinic's own re-capture error, estimated from the replicate photos it has taken.

The between-capture model (:mod:`lipsym.comparison._capture_model`) was
calibrated on simulated and a few real re-captures; a clinic's own camera,
light, distance and photographer may vary more or less. When a clinic
follows the capture protocol (several rest and smile photos per visit,
docs/visit-record.md), every visit with two or more photos of an expression
measures that clinic's re-capture spread. Pooled over visits (issue #13,
point 3):

    SD² = Σ (n_i − 1) · s_i²  /  Σ (n_i − 1)

with ``s_i`` the SD of the replicates' asymmetries at visit ``i`` and
``n_i`` their number; the degrees of freedom are ``Σ (n_i − 1)``. Its 95 %
confidence interval is the usual chi-square interval of an SD,
``SD · sqrt(df / χ²(df, 0.975))`` to ``SD · sqrt(df / χ²(df, 0.025))``,
with the chi-square quantiles from the Wilson–Hilferty approximation
(Johnson, Kotz & Balakrishnan, *Continuous Univariate Distributions*
vol. 1, ch. 18; it keeps lipsym's core free of SciPy): within 1 % of the
exact quantiles from 10 degrees of freedom, where a calibration starts to be
used; below that its lower quantile is low (16 % at df = 3), which only
widens the interval's upper end.

A calibration is **used** for a measure once it has at least
:data:`MIN_DEGREES_OF_FREEDOM`; until then the model stands. When used, the
clinic's SD replaces the model's between-capture SD of a change
(``sqrt(SD²/n_before + SD²/n_after)`` for visit values that are means of
``n`` photos), and the floors (published 3-D test-retest MDC, pixel size)
still apply, so a calibration can never make a change look more certain
than the literature allows. Replicates within one session share the day's
light and the patient's day; the floor is what covers the day-to-day part.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from lipsym.comparison._replicates import ReplicateMeasure

#: Degrees of freedom (Σ (n_i − 1)) below which a measure's calibration is
#: stored but not used. With 10, the 95 % CI of an SD spans about
#: 0.70-1.75 × the estimate; fewer would let a lucky handful of visits shrink
#: every later MDC.
MIN_DEGREES_OF_FREEDOM = 10

#: Version of the stored calibration document (``to_dict``).
CALIBRATION_VERSION = 1

_Z975 = 1.959963984540054


def chi2_quantile(df: float, z: float) -> float:
    """Chi-square quantile at the standard-normal quantile ``z`` (Wilson–Hilferty).

    Examples
    --------
    >>> round(chi2_quantile(10, 1.959963984540054), 2)  # exact 20.48
    20.48
    >>> round(chi2_quantile(10, -1.959963984540054), 2)  # exact 3.25
    3.22
    """
    if df <= 0:
        raise ValueError("degrees of freedom must be positive")
    a = 2.0 / (9.0 * df)
    return df * (1.0 - a + z * math.sqrt(a)) ** 3


@dataclass(frozen=True)
class CalibratedSD:
    """One measure's pooled re-capture SD for one expression.

    Attributes
    ----------
    key, unit : str
    expression : {"rest", "smile"}
    sd : float
        Pooled SD of one photo's asymmetry between re-captures, in ``unit``.
    ci_low, ci_high : float
        Its 95 % confidence interval, in ``unit``.
    degrees_of_freedom : int
        ``Σ (n_i − 1)``.
    visits, photos : int
        Visits with two or more photos, and the photos they hold.
    """

    key: str
    unit: str
    expression: str
    sd: float
    ci_low: float
    ci_high: float
    degrees_of_freedom: int
    visits: int
    photos: int

    @property
    def used(self) -> bool:
        """Whether later MDCs use it (at least :data:`MIN_DEGREES_OF_FREEDOM`)."""
        return self.degrees_of_freedom >= MIN_DEGREES_OF_FREEDOM

    def change_sd(self, n_before: int = 1, n_after: int = 1) -> float:
        """Between-capture SD of a change of two visit values (means of ``n`` photos each)."""
        return self.sd * math.sqrt(1.0 / max(n_before, 1) + 1.0 / max(n_after, 1))


def pooled_sd(key: str, expression: str, groups: Iterable[ReplicateMeasure]) -> CalibratedSD | None:
    """Pool the replicate spreads of several visits into one :class:`CalibratedSD`.

    Parameters
    ----------
    key : str
    expression : str
    groups : iterable of ReplicateMeasure
        One per visit; those with fewer than two photos are skipped.

    Returns
    -------
    CalibratedSD or None
        None when no visit has two or more photos.

    Examples
    --------
    >>> from lipsym.comparison import aggregate_sided
    >>> from lipsym.measures._values import SidedMeasure
    >>> def m(a):
    ...     return SidedMeasure("commissure_height", "mm", 0.0, a, a, None, None, 0.1, "")
    >>> visits = [aggregate_sided([m(1.0), m(1.2), m(1.4)]), aggregate_sided([m(0.0), m(0.4)])]
    >>> c = pooled_sd("commissure_height", "rest", visits)
    >>> c.degrees_of_freedom, c.visits, c.photos, round(c.sd, 3)
    (3, 2, 5, 0.231)
    """
    groups = [g for g in groups if g.n > 1 and math.isfinite(g.sd)]
    if not groups:
        return None
    df = sum(g.n - 1 for g in groups)
    sd = math.sqrt(sum((g.n - 1) * g.sd ** 2 for g in groups) / df)
    return CalibratedSD(
        key=key, unit=groups[0].measure.unit, expression=expression, sd=sd,
        ci_low=sd * math.sqrt(df / chi2_quantile(df, _Z975)),
        ci_high=sd * math.sqrt(df / chi2_quantile(df, -_Z975)),
        degrees_of_freedom=df, visits=len(groups), photos=sum(g.n for g in groups))


@dataclass(frozen=True)
class ClinicCalibration:
    """Every measure's pooled re-capture SD, per expression.

    Attributes
    ----------
    measures : mapping of (expression, key) to CalibratedSD
    created_at : str
        ISO timestamp of the estimate.
    lipsym_version : str
    """

    measures: Mapping[tuple[str, str], CalibratedSD] = field(default_factory=lambda: MappingProxyType({}))
    created_at: str = ""
    lipsym_version: str = ""

    def for_expression(self, expression: str) -> dict[str, CalibratedSD]:
        """Key → calibration of the measures that are used, for one expression."""
        return {k: c for (e, k), c in self.measures.items() if e == expression and c.used}

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready document (versioned by :data:`CALIBRATION_VERSION`)."""
        return {
            "version": CALIBRATION_VERSION, "created_at": self.created_at, "lipsym_version": self.lipsym_version,
            "min_degrees_of_freedom": MIN_DEGREES_OF_FREEDOM,
            "measures": [{**c.__dict__, "used": c.used} for c in self.measures.values()],
        }

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any]) -> "ClinicCalibration":
        """Read :meth:`to_dict`'s document; raises ValueError on another version."""
        if doc.get("version") != CALIBRATION_VERSION:
            raise ValueError(f"clinic calibration version {doc.get('version')!r} is not {CALIBRATION_VERSION}")
        fields = CalibratedSD.__dataclass_fields__
        items = [CalibratedSD(**{k: v for k, v in m.items() if k in fields}) for m in doc.get("measures", ())]
        return cls(MappingProxyType({(c.expression, c.key): c for c in items}),
                   str(doc.get("created_at", "")), str(doc.get("lipsym_version", "")))
