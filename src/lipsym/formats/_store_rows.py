"""Measures ↔ the store's queryable measure rows.

The store keeps a flat, queryable copy of every measure (name, value, unit,
standard error, condition) next to the full result document. This module
builds those rows, from measure objects or from a ``lipsym.analysis``
document (a reused batch result exists only as its document), and turns
rows back into :class:`~lipsym.measures.SidedMeasure` so that stored visits
can be compared with :mod:`lipsym.comparison`.

Row names come from :func:`lipsym.formats.store_row_name` (the unit is in the
``unit`` column; sides are the subject's):

- ``<key>.asymmetry`` — left − right, with its standard error;
- ``<key>.right``, ``<key>.left`` — the value on each side (no SE);
- ``<key>`` — a scalar measure (e.g. ``bow_width``), with its SE;
- ``composite`` — the composite score (unit ``1``).

Conditions: ``rest`` / ``smile`` for the photo measures, ``dynamic`` for the
rest → smile movement of a pair.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from lipsym.formats._measure_spec import MeasureRowLike, MeasureSpec
from lipsym.formats._naming import STORE_SIDED_PARTS, parse_store_row_name, store_row_name
from lipsym.measures._registry import COMPOSITE_KEY, REGISTRY
from lipsym.measures._values import SidedMeasure
from lipsym.sides import Side

if TYPE_CHECKING:  # annotations only
    from lipsym.measures._pair import PairMeasures
    from lipsym.measures._photo import PhotoMeasures

#: Photo conditions a document's results are filed under (their expression).
PHOTO_CONDITIONS = ("rest", "smile")

def asymmetry_name(key: str) -> str:
    """Row name of a sided measure's asymmetry, e.g. ``commissure_height.asymmetry``."""
    return store_row_name(key, "asymmetry")


def _rows(key: str, get: Callable[[str], Any], condition: str) -> Iterator[MeasureSpec]:
    """A registered measure's rows; ``get(part)`` reads a part (JSON field name) of the measure."""
    info = REGISTRY[key]
    for part in STORE_SIDED_PARTS if info.is_sided else ("value",):
        se = get("standard_error") if part in ("asymmetry", "value") else None
        yield MeasureSpec(store_row_name(key, part), get(part), info.unit, condition, se)


def _object_rows(measures: Iterable, condition: str) -> list[MeasureSpec]:
    # A measure that could not be computed (NaN) is left out, as document_specs leaves out nulls.
    return [_finite(row) for m in measures for row in _rows(m.key, lambda part: getattr(m, part), condition)
            if row.value is not None and math.isfinite(row.value)]


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
    c = measures.composite
    return (_object_rows(measures.sided.values(), condition) + _object_rows(measures.scalars.values(), condition)
            + [_finite(r) for r in _rows(COMPOSITE_KEY, lambda part: getattr(c, part), condition)
               if r.value is not None and math.isfinite(r.value)])


def pair_specs(pair: PairMeasures) -> list[MeasureSpec]:
    """Rows of a rest/smile pair: rest, smile and dynamic measures."""
    return (photo_specs(pair.rest, "rest") + photo_specs(pair.smile, "smile")
            + _object_rows(pair.dynamic.values(), "dynamic"))


def _document_rows(section: Mapping[str, Mapping[str, Any]], condition: str) -> Iterator[MeasureSpec]:
    for key, m in section.items():
        yield from _rows(key, m.get, condition)


def document_specs(doc: Mapping[str, Any]) -> list[MeasureSpec]:
    """Rows of a ``lipsym.analysis`` document, named as :func:`photo_specs` names them.

    Per analysed rest or smile photo (condition = its expression): each sided
    measure's asymmetry (with its standard error), right and left values,
    each scalar, the composite; per pair, the dynamic sided measures.
    Missing (null or non-finite) values are left out, as is a non-finite
    standard error.
    """
    rows: list[MeasureSpec] = []
    for result in doc["results"]:
        if result.get("status") == "ok" and result["expression"] in PHOTO_CONDITIONS:
            condition, measures = result["expression"], result["measures"]
            rows += _document_rows(measures["sided"], condition)
            rows += _document_rows(measures["scalars"], condition)
            rows += _rows(COMPOSITE_KEY, measures["composite"].get, condition)
    for pair in doc["pairs"]:
        rows += _document_rows(pair["dynamic"], "dynamic")
    return [_finite(r) for r in rows if r.value is not None and math.isfinite(r.value)]


def _finite(row: MeasureSpec) -> MeasureSpec:
    se = row.standard_error
    return MeasureSpec(row.name, float(row.value), row.unit, row.condition,
                       se if se is not None and math.isfinite(se) else None)


def sided_from_rows(rows: Iterable[MeasureRowLike]) -> dict[str, Mapping[str, SidedMeasure]]:
    """Rebuild sided measures from stored rows of ONE analysis.

    Parameters
    ----------
    rows : iterable of MeasureRowLike
        Rows of a single analysis (mixing analyses would mix visits): any
        objects with ``name``, ``value``, ``unit``, ``standard_error`` and
        ``condition`` (the store's ``MeasureRow`` or ``Measure``, a
        :class:`MeasureSpec`).

    Returns
    -------
    dict of str to mapping of str to SidedMeasure
        Condition → key → measure. Only ``key``, ``unit``, ``right``,
        ``left``, ``asymmetry`` and ``standard_error`` are restored; the
        percentages, ratio and description stay in the result document.
    """
    values: dict[tuple[str, str, str], float] = {}
    asymmetries: list[tuple[str, MeasureRowLike]] = []
    for row in rows:
        key, part = parse_store_row_name(row.name)
        values[(row.condition, key, part)] = row.value
        if part == "asymmetry":
            asymmetries.append((key, row))
    out: dict[str, dict[str, SidedMeasure]] = {}
    for key, row in asymmetries:
        right, left = (values.get((row.condition, key, side.value), float("nan")) for side in (Side.RIGHT, Side.LEFT))
        out.setdefault(row.condition, {})[key] = SidedMeasure(
            key=key, unit=row.unit, right=right, left=left, asymmetry=row.value, asymmetry_pct_ipd=None,
            ratio=None, standard_error=row.standard_error or 0.0, description="")
    return {c: MappingProxyType(m) for c, m in out.items()}
