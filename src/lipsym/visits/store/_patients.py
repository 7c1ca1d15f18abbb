"""SQL of the ``patients`` table.

Functions take an open connection and run inside the caller's transaction;
:class:`lipsym.visits.store.Store` opens the transactions and validates arguments.
"""

from __future__ import annotations

import sqlite3

from lipsym.errors import ConflictError, ConfigurationError, NotFoundError
from lipsym.visits.store import _validate as validate
from lipsym.visits.store._records import Patient
from lipsym.visits.store._schema import utc_now

_COLUMNS = "id, identifier, birth_year, sex, notes, created_at"


def from_row(row: sqlite3.Row) -> Patient:
    return Patient(
        id=row["id"],
        identifier=row["identifier"],
        birth_year=row["birth_year"],
        sex=row["sex"],
        notes=row["notes"],
        created_at=row["created_at"],
    )


def find(conn: sqlite3.Connection, identifier: str) -> Patient | None:
    """Return the patient with ``identifier`` (case-insensitive), or None."""
    row = conn.execute(f"SELECT {_COLUMNS} FROM patients WHERE identifier = ?", (identifier,)).fetchone()
    return None if row is None else from_row(row)


def get_by_id(conn: sqlite3.Connection, patient_id: int) -> Patient:
    row = conn.execute(f"SELECT {_COLUMNS} FROM patients WHERE id = ?", (patient_id,)).fetchone()
    if row is None:
        raise NotFoundError(f"no patient with id {patient_id}")
    return from_row(row)


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
        return get_by_id(conn, patient.id)
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
    existing = find(conn, identifier)
    if existing is not None:
        raise ConflictError(f"patient {existing.identifier!r} already exists")
    cursor = conn.execute(
        "INSERT INTO patients (identifier, birth_year, sex, notes, created_at) VALUES (?, ?, ?, ?, ?)",
        (identifier, birth_year, sex, notes, utc_now()),
    )
    return get_by_id(conn, cursor.lastrowid)


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
    rows = conn.execute(f"SELECT {_COLUMNS} FROM patients ORDER BY identifier COLLATE NOCASE, id").fetchall()
    return [from_row(r) for r in rows]
