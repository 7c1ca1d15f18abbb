"""Replicate photos of one visit analysed together: items, and the document's ``replicates`` section.

``lipsym analyze --replicates`` treats its photos as replicate captures of
one face at one visit (the capture protocol, docs/visit-record.md). They are
analysed as the visit record analyses them (:func:`replicate_items`: the
i-th rest photo paired with the i-th smile photo, photos left over alone),
and :func:`replicates_section` gives, per condition and measure, the
replicates' robust mean, their SD and their number
(:func:`lipsym.comparison.aggregate_replicates`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from lipsym.comparison._replicates import aggregate_replicates
from lipsym.measures._values import SidedMeasure
from lipsym.pipeline._item import ItemSpec, PhotoPath
from lipsym.pipeline._result import ItemResult


def replicate_items(rests: Sequence[PhotoPath], smiles: Sequence[PhotoPath]) -> list[ItemSpec]:
    """The items of one visit's replicates: the i-th rest with the i-th smile, the rest alone.

    Examples
    --------
    >>> [i.label for i in replicate_items(["r1", "r2", "r3"], ["s1", "s2"])]
    ['r1 + s1', 'r2 + s2', 'r3']
    """
    paired = min(len(rests), len(smiles))
    items = [ItemSpec.pair(r, s) for r, s in zip(rests[:paired], smiles[:paired])]
    items += [ItemSpec.photo(p, "rest") for p in rests[paired:]]
    items += [ItemSpec.photo(p, "smile") for p in smiles[paired:]]
    return items


def _conditions(result: ItemResult) -> dict[str, Mapping[str, SidedMeasure]]:
    """Condition → sided measures of one successful item (a pair also gives ``dynamic``)."""
    if result.pair is not None:
        return {"rest": result.pair.rest.sided, "smile": result.pair.smile.sided, "dynamic": result.pair.dynamic}
    return {m.expression: m.sided for m in result.measures}


def replicates_section(results: Sequence[ItemResult]) -> dict[str, dict[str, dict[str, Any]]]:
    """The ``replicates`` section of the analysis document.

    Parameters
    ----------
    results : sequence of ItemResult
        The items of one visit's replicates; failed items are left out.

    Returns
    -------
    dict
        Condition → measure key → ``{unit, asymmetry, sd, n, asymmetries,
        standard_error}``: the robust mean of the replicates' asymmetries
        (median of 3+, mean of 2), their SD (None for one photo), how many,
        each one, and the median one-photo SE.
    """
    by_condition: dict[str, list[Mapping[str, SidedMeasure]]] = {}
    for result in results:
        if result.ok:
            for condition, sided in _conditions(result).items():
                by_condition.setdefault(condition, []).append(sided)
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for condition, replicates in by_condition.items():
        out[condition] = {
            key: {"unit": r.measure.unit, "asymmetry": r.measure.asymmetry, "sd": None if r.n < 2 else r.sd,
                  "n": r.n, "asymmetries": list(r.asymmetries), "standard_error": r.measure.standard_error}
            for key, r in aggregate_replicates(replicates).items()
        }
    return out
