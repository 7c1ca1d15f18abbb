"""``results.csv`` and ``errors.csv``, rebuilt from the per-item JSON files.

The JSON files are the batch's only record of what was done; the two tables
are derived from them, in the collection's order, and replaced atomically.
Rebuilding at the end of a run, and after an interrupt, means a table can
never hold a duplicate row, a half row, or a row for a result that was lost.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lipsym.io._collection import Collection, Item
from lipsym.io._outputs import write_atomic
from lipsym.formats._csv import to_csv
from lipsym.batch._layout import ERRORS_CSV, RESULTS_CSV, item_json_path, read_batch_section
from lipsym.batch._outcome import Outcome

#: Columns of errors.csv.
ERROR_COLUMNS = ("file", "reason")


@dataclass(frozen=True)
class Tables:
    """What the rebuilt tables hold.

    Attributes
    ----------
    results_csv, errors_csv : Path
    n_results : int
        Analysed items (rows of results.csv).
    n_errors : int
        Rows of errors.csv.
    n_missing : int
        Items with no result yet (not reached, or interrupted).
    """

    results_csv: Path
    errors_csv: Path
    n_results: int
    n_errors: int
    n_missing: int


def rebuild_tables(output_dir: str | os.PathLike, collection: Collection, *,
                   outcomes: Mapping[str, Outcome] | None = None, share: bool | None = None) -> Tables:
    """Write results.csv and errors.csv for a collection from what its items' JSON files hold.

    Parameters
    ----------
    output_dir : path-like
    collection : Collection
        Its problems head errors.csv; its items give the row order. JSON
        files of items no longer in the collection are left out.
    outcomes : mapping of item name to Outcome
        This run's outcomes: the unsaved ones (a photo that could not be
        read, a worker that died) are listed in errors.csv although no JSON
        records them (and a JSON left by an earlier run is then ignored).
    share : bool, optional
        The tables follow the umask instead of being private (``write_atomic``).

    Returns
    -------
    Tables
    """
    rows: list[dict[str, Any]] = []
    errors: list[dict[str, str]] = [{"file": p.file, "reason": p.reason} for p in collection.problems]
    missing = 0
    outcomes = outcomes or {}
    for item in collection.items:
        row, item_errors = _recorded(output_dir, item, outcomes.get(item.name))
        if row is None and not item_errors:
            missing += 1
        if row is not None:
            rows.append({**_identification(item), **row})
        errors.extend({"file": f, "reason": r} for f, r in item_errors)
    results_csv = write_atomic(Path(output_dir, RESULTS_CSV), _csv_text(rows, ()), overwrite=True, share=share)
    errors_csv = write_atomic(Path(output_dir, ERRORS_CSV), _csv_text(errors, ERROR_COLUMNS), overwrite=True,
                              share=share)
    return Tables(results_csv, errors_csv, len(rows), len(errors), missing)


def _recorded(output_dir, item: Item, outcome: Outcome | None) -> tuple[dict | None, Iterable[tuple[str, str]]]:
    """(row, errors) of one item: from its JSON file, else this run's unsaved outcome."""
    if outcome is not None and not outcome.saved:
        return None, outcome.errors
    section = read_batch_section(item_json_path(output_dir, item.name))
    if section is None:
        return None, ()
    errors = [(e["file"], e["reason"]) for e in section.get("errors") or ()]
    return (section.get("csv_row") if not errors else None), errors


def _identification(item: Item) -> dict[str, Any]:
    return {"item": item.name, "patient": item.patient or "",
            "visit_date": "" if item.visit_date is None else item.visit_date.isoformat()}


def _csv_text(rows: list[dict[str, Any]], columns: tuple[str, ...]) -> str:
    """``table.to_csv``, with a header even when there is no row."""
    if rows:
        return to_csv(rows)
    return ",".join(columns or ("item", "patient", "visit_date")) + "\n"
