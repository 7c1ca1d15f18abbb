"""The envelope of every JSON document lipsym writes: schema name and version.

Every ``--json`` output, and every JSON file lipsym writes, starts with
``schema`` (what the document is), ``schema_version`` (of that schema) and
``lipsym_version`` (who wrote it). Version rules, for every schema: a new
optional field keeps the version; a removed or renamed field, or a changed
meaning or unit, increments it and adds a migration note to
docs/json-schema.md, which lists every schema.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from lipsym import __version__

#: Every schema lipsym writes → its current version (docs/json-schema.md).
SCHEMAS: Mapping[str, int] = MappingProxyType({
    "lipsym.analysis": 1,           # lipsym analyze, lipsym batch (per item)
    "lipsym.simulation": 1,         # lipsym simulate --json
    "lipsym.patient": 1,            # lipsym patient add --json
    "lipsym.patients": 1,           # lipsym patient list --json
    "lipsym.patient_history": 1,    # lipsym patient show --json
    # 2: a change's ``change`` is after − before − keystone_correction (docs/json-schema.md).
    "lipsym.photo_comparison": 2,   # lipsym compare BEFORE AFTER --json (and --before-rest ... --json)
    "lipsym.visit_comparison": 2,   # lipsym compare PATIENT --from --to --json
    "lipsym.visit": 1,              # lipsym visit add --json
    "lipsym.treatment": 1,          # lipsym treatment add --json
    "lipsym.import_report": 1,      # lipsym import --json, lipsym analyze-pending --json
    "lipsym.track": 2,              # lipsym track --json (2: as the comparisons)
    "lipsym.record_change": 1,      # lipsym patient|visit|treatment|photo edit|delete|restore --json (photo edit)
    "lipsym.history": 1,            # lipsym db history --json
    "lipsym.corrections": 1,        # manual landmark corrections (lipsym correct --file, the app's save)
    "lipsym.correction": 1,         # lipsym correct --file --json: the manual analysis recorded
    "lipsym.correctable_points": 1, # lipsym correct --list --json
    "lipsym.clinic_calibration": 1, # lipsym calibrate --json
})

#: The envelope's fields, first in every document.
ENVELOPE_FIELDS = ("schema", "schema_version", "lipsym_version")


def envelope(schema: str, body: Mapping[str, Any]) -> dict[str, Any]:
    """A versioned document: ``schema``, ``schema_version``, ``lipsym_version``, then ``body``.

    Parameters
    ----------
    schema : str
        A name in :data:`SCHEMAS`.
    body : mapping
        The document's own fields (JSON values; see :func:`plain`).

    Raises
    ------
    KeyError
        ``schema`` is not a registered schema, or ``body`` has an envelope field.
    """
    clash = set(ENVELOPE_FIELDS) & set(body)
    if clash:
        raise KeyError(f"the document body may not set {sorted(clash)}: they are the envelope's")
    return {"schema": schema, "schema_version": SCHEMAS[schema], "lipsym_version": __version__, **body}


def plain(value: Any) -> Any:
    """Dataclasses, dates, mappings, tuples and NumPy values as plain JSON values (NaN → null)."""
    if type(value).__module__ == "numpy":  # numpy scalars and arrays, without importing numpy here
        return plain(value.tolist())
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, _dt.date):
        return value.isoformat()
    if hasattr(value, "items"):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, float) and value != value:
        return None
    return value
