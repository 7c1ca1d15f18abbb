"""Flat CSV rows for spreadsheets: one row per photo, or per rest/smile pair.

Column names carry units: ``<measure>_right_mm``, ``<measure>_left_mm``,
``<measure>_asym_mm`` (left − right), ``<measure>_asym_pct_ipd``,
``<measure>_asym_se_mm``, ``<measure>_ratio``; a pair's columns are prefixed
``rest_``, ``smile_`` and ``dyn_``. Measure columns are named by
:func:`lipsym.formats.csv_column` from the measure registry.
"""

from __future__ import annotations

import csv
import io
import math
import re
from typing import TYPE_CHECKING, Any, Iterable

from lipsym.measures._registry import COMPOSITE_KEY
from lipsym.formats._naming import CSV_PREFIXES, CSV_SIDED_PARTS, SCALAR_PARTS, csv_column

if TYPE_CHECKING:  # annotations only: writing a CSV needs none of the analysis
    from lipsym.analysis._result import PhotoAnalysis
    from lipsym.measures import PairMeasures, PhotoMeasures
    from lipsym.measures._values import SidedMeasure


def _part_columns(key: str, get, parts: tuple[str, ...]) -> dict[str, Any]:
    """Columns of a measure's parts that have a value (``get(part)`` reads one; NaN = no value: an empty cell)."""
    return {csv_column(key, part): v for part in parts
            if (v := get(part)) is not None and not (isinstance(v, float) and math.isnan(v))}


def _sided_columns(m: SidedMeasure) -> dict[str, Any]:
    return _part_columns(m.key, lambda part: getattr(m, part), CSV_SIDED_PARTS)


def measure_columns(m: PhotoMeasures) -> dict[str, Any]:
    """Measure columns of one photo."""
    cols: dict[str, Any] = {"ipd_mm": m.interpupillary_distance_mm, "mm_per_px": m.scale.mm_per_px,
                            "scale_source": m.scale.source, "scale_rel_uncertainty": m.scale.relative_uncertainty}
    for s in m.sided.values():
        cols.update(_sided_columns(s))
    for s in m.scalars.values():
        cols.update(_part_columns(s.key, lambda part: getattr(s, part), SCALAR_PARTS))
    c = m.composite
    cols.update(_part_columns(COMPOSITE_KEY, lambda part: getattr(c, part), SCALAR_PARTS))
    return cols


def photo_columns(a: PhotoAnalysis, m: PhotoMeasures) -> dict[str, Any]:
    """Identification, quality and measure columns of one photo."""
    cols: dict[str, Any] = {
        "file": str(a.path) if a.path else "", "expression": a.expression, "status": "ok",
        "flags": ";".join(f.code for f in a.flags + m.flags), "warnings": ";".join(a.warnings),
        "yaw_deg": a.landmarks.pose.yaw_deg, "pitch_deg": a.landmarks.pose.pitch_deg,
        "roll_deg": a.landmarks.pose.roll_deg,
    }
    cols.update(measure_columns(m))
    return cols


def pair_columns(rest: PhotoAnalysis, smile: PhotoAnalysis, pair: PairMeasures) -> dict[str, Any]:
    """One row for a rest/smile pair, columns prefixed rest_, smile_, dyn_."""
    cols: dict[str, Any] = {}
    for condition, a, m in (("rest", rest, pair.rest), ("smile", smile, pair.smile)):
        cols.update({CSV_PREFIXES[condition] + k: v for k, v in photo_columns(a, m).items()})
    for s in pair.dynamic.values():
        cols.update({CSV_PREFIXES["dynamic"] + k: v for k, v in _sided_columns(s).items()})
    for s in pair.summary:
        cols[f"pattern_{s.structure}"] = s.pattern
    return cols


def error_columns(path: str, message: str, prefix: str = "") -> dict[str, Any]:
    """A row (or half-row) for a photo that failed."""
    return {f"{prefix}file": path, f"{prefix}status": "error", f"{prefix}error": message}


#: First characters that make a spreadsheet read a cell as a formula (OWASP CSV injection).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?|[+-]?(inf|nan)", re.IGNORECASE)


def escape_cell(value: Any) -> Any:
    """A CSV cell a spreadsheet shows as text, never runs as a formula.

    Text beginning with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return
    gets a leading ``'`` (OWASP's rule against CSV injection: a patient code
    or folder named ``=1+2`` is data, not a formula). Numbers, and text that
    is only a number (``-1.5``, ``-inf``, as a store export writes them),
    are left alone so that they stay numbers.

    Examples
    --------
    >>> escape_cell("=1+2"), escape_cell("-1.5"), escape_cell(-1.5), escape_cell("P001")
    ("'=1+2", '-1.5', -1.5, 'P001')
    """
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS) and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


def csv_writer(stream, fieldnames, **kwargs) -> csv.DictWriter:
    """A ``csv.DictWriter`` whose header and cells are escaped (:func:`escape_cell`); every CSV lipsym writes uses it."""
    return _EscapingWriter(stream, fieldnames=list(fieldnames), **kwargs)


class _EscapingWriter(csv.DictWriter):
    def writeheader(self):
        return self.writer.writerow([escape_cell(f) for f in self.fieldnames])

    def writerow(self, rowdict):
        return super().writerow({k: escape_cell(v) for k, v in rowdict.items()})


def to_csv(rows: Iterable[dict[str, Any]]) -> str:
    """CSV text; the header is the union of the rows' columns in first-seen order; cells escaped (:func:`escape_cell`)."""
    rows = list(rows)
    header: dict[str, None] = {}
    for row in rows:
        header.update(dict.fromkeys(row))
    out = io.StringIO()
    writer = csv_writer(out, header, restval="", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: (f"{v:.10g}" if isinstance(v, float) else v) for k, v in row.items()})
    return out.getvalue()
