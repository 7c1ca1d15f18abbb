"""The composite lip asymmetry score.

    score = sqrt( mean_i ( A_i / T_i )² )

over the components below, where A_i is a sided measure's asymmetry (mm) and
T_i its reference threshold (mm): the level at which the literature reports
the asymmetry is noticed. A score of 1 means the asymmetries are, on
(quadratic) average, at the noticeable threshold; 0 is perfect symmetry.
Every component is reported with its contribution so that users see what
the number is made of (Emotrics users asked for such a score, issue #14).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from lipsym.measures._registry import COMPOSITE_FORMULA
from lipsym.measures._values import SidedMeasure

#: component key → threshold (mm), with the reason for the threshold.
COMPONENTS: dict[str, tuple[float, str]] = {
    "commissure_height": (2.0, "lip cant: experts notice above 1-2 mm"),
    "commissure_lateral": (2.0, "same threshold as the vertical corner position"),
    "bow_peak_height": (2.5, "upper-lip vertical asymmetry affects aesthetics above 2.5 mm (Batwa 2013)"),
    "upper_vermilion_height_mid": (2.5, "upper-lip vertical asymmetry (Batwa 2013)"),
    "lower_vermilion_height_mid": (2.5, "same threshold as the upper lip"),
}


@dataclass(frozen=True)
class CompositeScore:
    """The composite score and its parts.

    Attributes
    ----------
    value : float
        Dimensionless score (see module doc).
    standard_error : float
        Propagated from the components' standard errors (first order).
    contributions : mapping of str to float
        ``A_i / T_i`` per component (signed).
    formula : str
    """

    value: float
    standard_error: float
    contributions: dict[str, float]
    formula: str = COMPOSITE_FORMULA


def composite_score(measures: dict[str, SidedMeasure]) -> CompositeScore:
    """Composite lip asymmetry score from sided measures keyed by name."""
    ratios = {k: measures[k].asymmetry / t for k, (t, _) in COMPONENTS.items()}
    n = len(ratios)
    value = math.sqrt(sum(r * r for r in ratios.values()) / n)
    if value > 0:
        # d value / d A_i = r_i / (n · value · T_i)
        var = sum((ratios[k] / (n * value * t) * measures[k].standard_error) ** 2 for k, (t, _) in COMPONENTS.items())
    else:
        var = sum((measures[k].standard_error / t) ** 2 for k, (t, _) in COMPONENTS.items()) / n
    return CompositeScore(value=value, standard_error=math.sqrt(var), contributions=ratios)
