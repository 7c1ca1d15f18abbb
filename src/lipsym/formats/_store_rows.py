"""Measures ↔ the store's queryable measure rows.

The store keeps a flat, queryable copy of every measure (name, value, unit,
standard error, condition) next to the full result document. This module
fixes the naming of those rows and turns them back into
:class:`~lipsym.measures.SidedMeasure` so that stored visits can be compared
with :mod:`lipsym.comparison`.

Row names (the unit is in the ``unit`` column; sides are the subject's):

- ``<key>.asymmetry`` — left − right, with its standard error;
- ``<key>.right``, ``<key>.left`` — the value on each side (no SE);
- ``<key>`` — a scalar measure (e.g. ``bow_width``), with its SE;
- ``composite`` — the composite score (unit ``1``).

Conditions: ``rest`` / ``smile`` for the photo measures, ``dynamic`` for the
rest → smile movement of a pair.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType

from lipsym.measures import PairMeasures, PhotoMeasures, SidedMeasure
from lipsym.visits.store import MeasureRow, MeasureSpec

ASYMMETRY_SUFFIX = ".asymmetry"
_SIDE_SUFFIXES = (".right", ".left")


def asymmetry_name(key: str) -> str:
    """Row name of a sided measure's asymmetry, e.g. ``commissure_height.asymmetry``."""
    return key + ASYMMETRY_SUFFIX


def _sided_specs(measures: Iterable[SidedMeasure], condition: str) -> list[MeasureSpec]:
    specs = []
    for m in measures:
        specs.append(MeasureSpec(asymmetry_name(m.key), m.asymmetry, m.unit, condition, m.standard_error))
        specs.append(MeasureSpec(f"{m.key}.right", m.right, m.unit, condition))
        specs.append(MeasureSpec(f"{m.key}.left", m.left, m.unit, condition))
    return specs


def photo_specs(measures: PhotoMeasures, condition: str) -> list[MeasureSpec]:
    """Rows of one photo's measures.

    Parameters
    ----------
    measures : PhotoMeasures
    condition : {"rest", "smile"}
        The condition the rows are filed under (the photo's role).

    Returns
    -------
    list of MeasureSpec
    """
    specs = _sided_specs(measures.sided.values(), condition)
    specs += [MeasureSpec(s.key, s.value, s.unit, condition, s.standard_error) for s in measures.scalars.values()]
    specs.append(MeasureSpec("composite", measures.composite.value, "1", condition, measures.composite.standard_error))
    return specs


def pair_specs(pair: PairMeasures) -> list[MeasureSpec]:
    """Rows of a rest/smile pair: rest, smile and dynamic measures."""
    return photo_specs(pair.rest, "rest") + photo_specs(pair.smile, "smile") + _sided_specs(
        pair.dynamic.values(), "dynamic")


def sided_from_rows(rows: Iterable[MeasureRow]) -> dict[str, Mapping[str, SidedMeasure]]:
    """Rebuild sided measures from stored rows of ONE analysis.

    Parameters
    ----------
    rows : iterable of MeasureRow
        Rows of a single analysis (mixing analyses would mix visits).

    Returns
    -------
    dict of str to mapping of str to SidedMeasure
        Condition → key → measure. Only ``key``, ``unit``, ``right``,
        ``left``, ``asymmetry`` and ``standard_error`` are restored; the
        percentages, ratio and description stay in the result document.
    """
    values: dict[tuple[str, str], float] = {}
    asymmetries: list[MeasureRow] = []
    for row in rows:
        values[(row.condition, row.name)] = row.value
        if row.name.endswith(ASYMMETRY_SUFFIX):
            asymmetries.append(row)
    out: dict[str, dict[str, SidedMeasure]] = {}
    for row in asymmetries:
        key = row.name[: -len(ASYMMETRY_SUFFIX)]
        right, left = (values.get((row.condition, key + s), float("nan")) for s in _SIDE_SUFFIXES)
        out.setdefault(row.condition, {})[key] = SidedMeasure(
            key=key, unit=row.unit, right=right, left=left, asymmetry=row.value, asymmetry_pct_ipd=None,
            ratio=None, standard_error=row.standard_error or 0.0, description="")
    return {c: MappingProxyType(m) for c, m in out.items()}
