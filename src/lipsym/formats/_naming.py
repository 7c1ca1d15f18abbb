"""The naming schemes of a measure's values: JSON path, CSV column, store row.

One function per scheme, each fed by the measure registry
(:data:`lipsym.measures.REGISTRY`). A value is named by its measure's key and
a *part*, the field name it has in the JSON document:

- sided measures (photo ``sided`` and pair ``dynamic``): ``right``, ``left``,
  ``asymmetry`` (left − right), ``asymmetry_pct_ipd``, ``ratio``,
  ``standard_error`` (of the asymmetry);
- scalar measures and the composite: ``value``, ``standard_error``.

:func:`naming_table` lists the three schemes side by side; docs/json-schema.md
prints that table (a test keeps the two equal).
"""

from __future__ import annotations

import functools

from lipsym.measures._registry import COMPOSITE_KEY, KINDS, REGISTRY, MeasureInfo, measure_info

#: Parts of a sided measure, in JSON order.
SIDED_PARTS = ("right", "left", "asymmetry", "asymmetry_pct_ipd", "ratio", "standard_error")
#: Parts of a sided measure, in CSV column order.
CSV_SIDED_PARTS = ("right", "left", "asymmetry", "standard_error", "asymmetry_pct_ipd", "ratio")
#: Parts of a scalar measure and of the composite.
SCALAR_PARTS = ("value", "standard_error")
#: Parts of a sided measure kept as store rows (the standard error is the asymmetry row's).
STORE_SIDED_PARTS = ("asymmetry", "right", "left")
#: Column prefixes of a rest/smile pair's CSV row, by condition.
CSV_PREFIXES = {"rest": "rest_", "smile": "smile_", "dynamic": "dyn_"}

_CSV_SIDED = {"right": "{key}_right_{unit}", "left": "{key}_left_{unit}", "asymmetry": "{key}_asym_{unit}",
              "standard_error": "{key}_asym_se_{unit}", "asymmetry_pct_ipd": "{key}_asym_pct_ipd",
              "ratio": "{key}_ratio"}
_CSV_SCALAR = {"value": "{key}_{unit}", "standard_error": "{key}_se_{unit}"}
_CSV_COMPOSITE = {"value": "composite_score", "standard_error": "composite_score_se"}
_DIMENSIONLESS = "1"
_JSON_SECTION = {"sided": "results[i].measures.sided.{key}", "scalar": "results[i].measures.scalars.{key}",
                 "composite": "results[i].measures.composite", "dynamic": "pairs[j].dynamic.{key}"}


def parts(info: MeasureInfo) -> tuple[str, ...]:
    """The parts a measure has in the JSON document (those that may be null included)."""
    return SIDED_PARTS if info.is_sided else SCALAR_PARTS


def _check(info: MeasureInfo, part: str) -> None:
    if part not in parts(info):
        raise KeyError(f"{info.key} ({info.kind}) has no part {part!r}; it has {', '.join(parts(info))}")


def _csv(info: MeasureInfo, part: str) -> str:
    _check(info, part)
    pattern = (_CSV_SIDED if info.is_sided else _CSV_COMPOSITE if info.kind == "composite" else _CSV_SCALAR)[part]
    if info.unit == _DIMENSIONLESS:  # a ratio's columns carry no unit suffix (not "…_1")
        pattern = pattern.replace("_{unit}", "")
    return pattern.format(key=info.key, unit=info.unit)


def _store(info: MeasureInfo, part: str) -> str | None:
    _check(info, part)
    if info.is_sided:
        return f"{info.key}.{part}" if part in STORE_SIDED_PARTS else None
    return info.key if part == "value" else None


def _json(info: MeasureInfo, part: str) -> str:
    _check(info, part)
    return f"{_JSON_SECTION[info.kind].format(key=info.key)}.{part}"


# Cached: the registry is read-only, and a batch asks for the same ~100 columns for every photo.
@functools.lru_cache(maxsize=None)
def csv_column(key: str, part: str) -> str:
    """CSV column of a measure's part, e.g. ``commissure_height``, ``asymmetry`` → ``commissure_height_asym_mm``.

    A pair's row prefixes the column with :data:`CSV_PREFIXES` of its condition.

    Raises
    ------
    KeyError
        Unregistered measure, or a part the measure does not have.
    """
    return _csv(measure_info(key), part)


def store_row_name(key: str, part: str = "value") -> str | None:
    """Store row name of a measure's part, e.g. ``commissure_height.asymmetry``; None if not stored.

    Kept: a sided measure's ``asymmetry`` (with the standard error in the
    row's ``standard_error``), ``right`` and ``left``; a scalar's ``value``
    (row name = its key) and the composite's (``composite``).
    """
    return _store(measure_info(key), part)


def parse_store_row_name(name: str) -> tuple[str, str]:
    """``(key, part)`` of a store row name; the inverse of :func:`store_row_name`.

    Works for keys the registry does not know (rows of an older lipsym), so
    that stored visits can still be read.
    """
    key, dot, part = name.rpartition(".")
    return (key, part) if dot and part in STORE_SIDED_PARTS else (name, "value")


def json_path(key: str, part: str) -> str:
    """Where a measure's part sits in the ``lipsym.analysis`` document.

    E.g. ``commissure_height``, ``right`` → ``results[i].measures.sided.commissure_height.right``.
    """
    return _json(measure_info(key), part)


def naming_table() -> list[tuple[str, str, str, str | None, str]]:
    """``(kind, JSON path, CSV column, store row, store column)`` for every kind and part.

    With ``<key>`` and ``<unit>`` placeholders; the mapping table printed in
    docs/json-schema.md. The store row is None for a part that is not stored;
    the store column is ``value`` or ``standard_error`` (a standard error is
    kept beside its value, in the same row).
    """
    rows = []
    for kind in KINDS:
        info = MeasureInfo("<key>" if kind != "composite" else COMPOSITE_KEY, kind, "<unit>", "", "")
        for part in (CSV_SIDED_PARTS if info.is_sided else SCALAR_PARTS):
            column = _csv(info, part)
            if kind == "dynamic":
                column = CSV_PREFIXES["dynamic"] + column
            store, store_column = _store(info, part), "value"
            if part == "standard_error":
                store, store_column = _store(info, "asymmetry" if info.is_sided else "value"), part
            rows.append((kind, _json(info, part), column, store, store_column))
    return rows


def naming_table_markdown() -> str:
    """:func:`naming_table` as a Markdown table."""
    lines = ["| kind | JSON | CSV column | store row (column) |", "|---|---|---|---|"]
    for kind, path, column, store, store_column in naming_table():
        cell = "—" if store is None else f"`{store}` ({store_column})"
        lines.append(f"| {kind} | `{path}` | `{column}` | {cell} |")
    return "\n".join(lines)


def registry_table_markdown() -> str:
    """The measure registry as a Markdown table (printed in docs/measures.md)."""
    lines = ["| key | kind | unit | name in reports | positive means | band | agreement |",
             "|---|---|---|---|---|---|---|"]
    for m in REGISTRY.values():
        lines.append(f"| `{m.key}` | {m.kind} | {m.unit} | {m.display_name} | {m.sign or '—'} | {m.band or '—'} "
                     f"| {m.agreement or '—'} |")
    return "\n".join(lines)
