"""The terminal view of ``lipsym analyze``: a short table per photo and pair.

Read from the analysis document (:func:`lipsym.formats.document`), so the
table shows exactly what the JSON holds, rounded for reading: the key
measures (:data:`lipsym.comparison.KEY_MEASURES`), the lip cant and the
composite score per photo, each with right, left, asymmetry ± standard error
and its reference band (a measure's name carries its agreement mark,
:func:`lipsym.report._format.marked_name`, explained under the tables); the photo's quality flags below; for a pair, the
dynamic (rest → smile) measures and the pattern summary. Every measure is in
the JSON (``--json`` or ``-o FILE``).
"""

from __future__ import annotations

from typing import Any

from lipsym.comparison._compare import KEY_MEASURES
from lipsym.measures._registry import COMPOSITE_KEY, display_name, unit_label
from lipsym.cli.store_common import format_table
from lipsym.report._format import AGREEMENT_MARKS, agreement_note, marked_name

_HEADERS = ("measure", "unit", "right", "left", "asymmetry ± SE", "band")
#: Scalars shown besides the key sided measures.
_SCALARS = ("lip_cant",)


def _number(value: float | None, signed: bool = False) -> str:
    if value is None:
        return ""
    value = round(value, 2) or 0.0  # a rounded zero prints "0.00", never "-0.00" (#16)
    return f"{value:+.2f}" if signed else f"{value:.2f}"


def _row(key: str, m: dict[str, Any]) -> tuple[str, ...]:
    band = (m.get("band") or {}).get("label", "").replace("_", " ")
    asym = m.get("asymmetry", m.get("value"))
    se = m.get("standard_error")
    return (marked_name(key), unit_label(m.get("unit", "")), _number(m.get("right")), _number(m.get("left")),
            f"{_number(asym, signed=True)} ± {_number(se)}" if se is not None else _number(asym, signed=True), band)


def photo_table(result: dict[str, Any]) -> str:
    """The lines of one ``results`` entry (a photo, or an error)."""
    if result.get("status") != "ok":
        return f"{result['file']}: error: {result['error']['message']}"
    measures = result["measures"]
    sided, scalars = measures["sided"], measures["scalars"]
    rows = [_row(k, sided[k]) for k in KEY_MEASURES if k in sided]
    rows += [_row(k, scalars[k]) for k in _SCALARS if k in scalars]
    composite = measures.get("composite") or {}
    if composite.get("value") is not None:
        rows.append((display_name(COMPOSITE_KEY), "", "", "",
                     f"{composite['value']:.2f} ± {_number(composite.get('standard_error'))}", ""))
    scale = measures["scale_used"]
    title = (f"{result['file']} ({result['expression']}): scale {scale['source']} "
             f"±{100 * scale['relative_uncertainty']:.1f} %, IPD {measures['interpupillary_distance_mm']:.1f} mm")
    lines = [title, format_table(_HEADERS, rows)]
    lines += [f"  flag: {f['message']}" for f in result.get("flags", ())]
    return "\n".join(lines)


def pair_table(pair: dict[str, Any]) -> str:
    """The lines of one ``pairs`` entry: dynamic measures and the rest/smile pattern."""
    rows = [_row(k, m) for k, m in pair["dynamic"].items()]
    lines = [f"{pair['rest']} + {pair['smile']}: rest → smile (scale {pair['scale_source']})",
             format_table(_HEADERS, rows)]
    lines += [f"  {s['text']}" for s in pair.get("summary", ())]
    return "\n".join(lines)


def document_tables(doc: dict[str, Any]) -> str:
    """Every photo's and pair's table, then the sign convention and where the rest is."""
    blocks = [photo_table(r) for r in doc["results"]] + [pair_table(p) for p in doc["pairs"]]
    if any(AGREEMENT_MARKS.get(m.get("agreement")) for r in doc["results"] if r.get("status") == "ok"
           for k, m in r["measures"]["sided"].items() if k in KEY_MEASURES):
        blocks.append(agreement_note())
    blocks.append(f"asymmetry = {doc['asymmetry_sign']}; every measure: --json or -o FILE.json")
    return "\n\n".join(blocks) + "\n"
