"""SQL of the ``analyses`` and ``measures`` tables.

An analysis is identified by its input: the visit, the rest and/or smile
photo, and the hash of its settings. Adding the same input again is
idempotent when the stored run is identical, a :class:`ConflictError` when
it differs (a new model, a new lipsym version, another result), unless the
caller asks to replace it. Different settings make a new analysis, so
results under several settings can coexist.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import sqlite3
from collections.abc import Iterable, Mapping
from typing import Any

from lipsym.errors import ConfigurationError, ConflictError
from lipsym.visits.store import _table as table
from lipsym.visits.store import _validate as validate
from lipsym.visits.store._records import Analysis, Measure, MeasureRow, MeasureSpec, Patient, Photo, Visit
from lipsym.visits.store._schema import utc_now
from lipsym.visits.store._visits import KIND_ORDER_SQL

ANALYSES = table.Table("analyses", Analysis, "analysis", soft_delete=True)
MEASURES = table.Table("measures", Measure, "measure")


def canonical_json(document: Any, what: str) -> str:
    """Serialise ``document`` (or re-serialise JSON text) canonically.

    Sorted keys and fixed separators make equal documents equal strings, so
    the settings hash is stable and identical re-imports compare equal.
    NaN and infinities are refused: they are not JSON and would not survive
    a round trip through other tools.
    """
    if isinstance(document, (str, bytes)):
        try:
            document = json.loads(document)
        except ValueError as error:
            raise ConfigurationError(f"{what} is not valid JSON ({error})") from None
    try:
        return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as error:
        raise ConfigurationError(f"{what} cannot be stored as JSON ({error}); use null for missing numbers") from None


def settings_hash(settings_json: str) -> str:
    """SHA-256 (hex) of canonical settings JSON."""
    return hashlib.sha256(settings_json.encode("utf-8")).hexdigest()


def prepare_settings(settings: Mapping[str, Any] | str) -> tuple[str, str]:
    """Return (canonical settings JSON, its hash); the settings must be an object."""
    text = canonical_json(settings, "settings")
    if not text.startswith("{"):
        raise ConfigurationError("settings must be a JSON object (a dict)")
    return text, settings_hash(text)


def prepare_measures(measures: Iterable[MeasureSpec | Mapping[str, Any]]) -> list[MeasureSpec]:
    """Validate measures given as :class:`MeasureSpec` or mappings with the same keys."""
    prepared: list[MeasureSpec] = []
    seen: set[tuple[str, str]] = set()
    for item in measures:
        if isinstance(item, Mapping):
            unknown = set(item) - {"name", "value", "unit", "condition", "standard_error"}
            if unknown:
                raise ConfigurationError(f"measure has unknown field(s): {', '.join(sorted(unknown))}")
            try:
                item = MeasureSpec(**item)
            except TypeError:
                raise ConfigurationError("a measure needs name, value, unit and condition") from None
        elif not isinstance(item, MeasureSpec):
            raise ConfigurationError(f"measures must be MeasureSpec or dicts (got {type(item).__name__})")
        name = validate.required_text(item.name, "measure name")
        spec = MeasureSpec(
            name=name,
            value=validate.finite_number(item.value, f"value of measure {name!r}"),
            unit=validate.required_text(item.unit, f"unit of measure {name!r}", max_chars=32),
            condition=validate.condition(item.condition),
            standard_error=validate.optional_non_negative(item.standard_error, f"standard error of measure {name!r}"),
        )
        key = (spec.name, spec.condition)
        if key in seen:
            raise ConfigurationError(f"measure {spec.name!r} ({spec.condition}) is given twice")
        seen.add(key)
        prepared.append(spec)
    return prepared


def check_photos(rest: Photo | None, smile: Photo | None) -> int:
    """Check the photo slots of an analysis; return the visit id.

    A photo recorded as ``smile`` cannot fill the rest slot and vice versa
    (a swapped pair would invert every dynamic measure); ``other`` photos
    may fill either.
    """
    if rest is None and smile is None:
        raise ConfigurationError("an analysis needs a rest photo, a smile photo, or both")
    if rest is not None and rest.expression == "smile":
        raise ConfigurationError(f"photo {rest.id} is a smile photo; it cannot be the rest photo")
    if smile is not None and smile.expression == "rest":
        raise ConfigurationError(f"photo {smile.id} is a rest photo; it cannot be the smile photo")
    if rest is not None and smile is not None:
        if rest.id == smile.id:
            raise ConfigurationError("the rest and smile photos must be two different photos")
        if rest.visit_id != smile.visit_id:
            raise ConfigurationError(
                f"photos {rest.id} and {smile.id} belong to different visits; a pair comes from one visit"
            )
    return (rest or smile).visit_id  # type: ignore[union-attr]


def require(conn: sqlite3.Connection, analysis: Analysis | int) -> Analysis:
    """Return the stored analysis named by an :class:`Analysis` or its id."""
    return table.require(conn, ANALYSES, analysis)


def find(
    conn: sqlite3.Connection, visit_id: int, rest_id: int | None, smile_id: int | None, settings_hash_hex: str
) -> Analysis | None:
    # Same expressions as the unique index, so the lookup uses it.
    return table.find_one(
        conn, ANALYSES,
        "visit_id = ? AND ifnull(rest_photo_id, 0) = ? AND ifnull(smile_photo_id, 0) = ? AND settings_hash = ?",
        (visit_id, rest_id or 0, smile_id or 0, settings_hash_hex),
    )


def measures_of(conn: sqlite3.Connection, analysis_id: int) -> list[Measure]:
    return table.select(conn, MEASURES, "analysis_id = ?", (analysis_id,))


def _same_measures(stored: list[Measure], wanted: list[MeasureSpec]) -> bool:
    def key(m: Measure | MeasureSpec) -> tuple:
        return (m.name, m.condition, m.value, m.unit, m.standard_error)

    return sorted(map(key, stored)) == sorted(map(key, wanted))


def _insert_measures(conn: sqlite3.Connection, analysis_id: int, measures: list[MeasureSpec]) -> None:
    table.insert_many(conn, MEASURES, (dict(dataclasses.asdict(m), analysis_id=analysis_id) for m in measures))


def add(
    conn: sqlite3.Connection,
    visit_id: int,
    rest_id: int | None,
    smile_id: int | None,
    lipsym_version: str,
    model_sha256: str | None,
    settings_json: str,
    settings_hash_hex: str,
    result_json: str,
    measures: list[MeasureSpec],
    replace: bool,
) -> Analysis:
    """Insert an analysis with its measures; see the module docstring for duplicates.

    With ``replace=True`` an existing analysis of the same input is updated
    in place (its id is kept, so references to it stay valid) and its
    measures are replaced.
    """
    existing = find(conn, visit_id, rest_id, smile_id, settings_hash_hex)
    if existing is not None and not replace:
        identical = (
            existing.lipsym_version == lipsym_version
            and existing.model_sha256 == model_sha256
            and existing.result_json == result_json
            and _same_measures(measures_of(conn, existing.id), measures)
        )
        if identical:
            return existing
        raise ConflictError(
            f"analysis {existing.id} of these photo(s) with these settings exists with a different result;"
            " pass replace=True to replace it"
        )
    now = utc_now()
    if existing is not None:
        conn.execute(
            "UPDATE analyses SET lipsym_version = ?, model_sha256 = ?, result_json = ?, created_at = ? WHERE id = ?",
            (lipsym_version, model_sha256, result_json, now, existing.id),
        )
        conn.execute("DELETE FROM measures WHERE analysis_id = ?", (existing.id,))
        analysis_id = existing.id
    else:
        analysis_id = table.insert(conn, ANALYSES, dict(
            visit_id=visit_id, rest_photo_id=rest_id, smile_photo_id=smile_id, lipsym_version=lipsym_version,
            model_sha256=model_sha256, settings_json=settings_json, settings_hash=settings_hash_hex,
            result_json=result_json, created_at=now))
    _insert_measures(conn, analysis_id, measures)
    return table.get_by_id(conn, ANALYSES, analysis_id)


def list_for_visit(conn: sqlite3.Connection, visit: Visit) -> list[Analysis]:
    return table.select(conn, ANALYSES, "visit_id = ?", (visit.id,))


def measures_for_patient(
    conn: sqlite3.Connection, patient: Patient, name: str | None, condition: str | None
) -> list[MeasureRow]:
    where = ["v.patient_id = ?", "a.deleted_at IS NULL", "v.deleted_at IS NULL"]
    params: list[Any] = [patient.id]
    if name is not None:
        where.append("m.name = ?")
        params.append(name)
    if condition is not None:
        where.append("m.condition = ?")
        params.append(condition)
    order = KIND_ORDER_SQL.format(col="v.kind")
    rows = conn.execute(
        "SELECT v.id AS visit_id, v.visit_date, v.kind AS visit_kind, a.id AS analysis_id,"
        " a.rest_photo_id, a.smile_photo_id, a.settings_hash, a.lipsym_version,"
        " m.name, m.value, m.unit, m.standard_error, m.condition"
        " FROM measures AS m JOIN analyses AS a ON a.id = m.analysis_id JOIN visits AS v ON v.id = a.visit_id"
        f" WHERE {' AND '.join(where)}"
        f" ORDER BY v.visit_date, {order}, a.id, m.name, m.condition",
        params,
    ).fetchall()
    return [table.record_from_row(MeasureRow, row) for row in rows]
