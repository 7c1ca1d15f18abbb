"""SQL of the ``patients`` table.

Functions take an open connection and run inside the caller's transaction;
:class:`lipsym.visits.store.Store` opens the transactions and validates arguments.
"""

from __future__ import annotations

import sqlite3

from lipsym.errors import ConflictError, ConfigurationError, NotFoundError
from lipsym.visits.store import _table as table
from lipsym.visits.store import _history as history
from lipsym.visits.store import _validate as validate
from lipsym.visits.store._records import Patient
from lipsym.visits.store._schema import utc_now

PATIENTS = table.Table("patients", Patient, "patient", soft_delete=True)


def find(conn: sqlite3.Connection, identifier: str, *, include_deleted: bool = False) -> Patient | None:
    """Return the patient with ``identifier`` (case-insensitive), or None."""
    return table.find_one(conn, PATIENTS, "identifier = ?", (identifier,), include_deleted=include_deleted)


def refuse_taken(conn: sqlite3.Connection, identifier: str, patient_id: int | None = None) -> None:
    """ConflictError if another patient (deleted ones included: the code is unique) has ``identifier``."""
    existing = find(conn, identifier, include_deleted=True)
    if existing is None or existing.id == patient_id:
        return
    if table.is_deleted(conn, PATIENTS, existing.id):
        raise ConflictError(f"patient {existing.identifier!r} exists but is deleted; restore it"
                            f" ('lipsym patient restore {existing.identifier}') or purge it first")
    raise ConflictError(f"patient {existing.identifier!r} already exists")


def require_deleted(conn: sqlite3.Connection, identifier: str) -> Patient:
    """Return the patient with this identifier whether deleted or not (for restore and purge)."""
    found = find(conn, validate.identifier(identifier), include_deleted=True)
    if found is None:
        raise NotFoundError(f"no patient {identifier!r}")
    return found


def require(conn: sqlite3.Connection, patient: Patient | str) -> Patient:
    """Return the stored patient named by a :class:`Patient` or an identifier.

    Raises
    ------
    NotFoundError
        No such patient.
    ConfigurationError
        ``patient`` is neither a Patient nor a string.
    """
    if isinstance(patient, Patient):
        return table.get_by_id(conn, PATIENTS, patient.id)
    if not isinstance(patient, str):
        raise ConfigurationError(f"patient must be a Patient or an identifier string (got {patient!r})")
    identifier = validate.identifier(patient)
    found = find(conn, identifier)
    if found is None:
        raise NotFoundError(f"no patient {identifier!r}; add it first")
    return found


def insert(
    conn: sqlite3.Connection,
    identifier: str,
    birth_year: int | None,
    sex: str | None,
    notes: str | None,
) -> Patient:
    """Insert a patient; ConflictError if the identifier is taken."""
    refuse_taken(conn, identifier)
    patient_id = table.insert(conn, PATIENTS, dict(
        identifier=identifier, birth_year=birth_year, sex=sex, notes=notes, created_at=utc_now()))
    history.record_insert(conn, PATIENTS.name, patient_id)
    return table.get_by_id(conn, PATIENTS, patient_id)


def get_or_insert(
    conn: sqlite3.Connection,
    identifier: str,
    birth_year: int | None,
    sex: str | None,
    notes: str | None,
) -> Patient:
    """Return the existing patient, or insert it.

    Optional fields given (not None) must agree with the stored ones: a
    different birth year under the same code is likely a mix-up of two
    people, and returning the stored record would hide it.
    """
    existing = find(conn, identifier)
    if existing is None:
        return insert(conn, identifier, birth_year, sex, notes)
    for field, wanted in (("birth_year", birth_year), ("sex", sex), ("notes", notes)):
        stored = getattr(existing, field)
        if wanted is not None and wanted != stored:
            raise ConflictError(
                f"patient {existing.identifier!r} exists with {field}={stored!r}, not {wanted!r}"
            )
    return existing


def list_all(conn: sqlite3.Connection) -> list[Patient]:
    return table.select(conn, PATIENTS, order="identifier COLLATE NOCASE, id")
