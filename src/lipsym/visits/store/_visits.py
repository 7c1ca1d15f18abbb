"""SQL of the ``visits`` table (runs inside the caller's transaction)."""

from __future__ import annotations

import datetime as _dt
import numbers
import sqlite3

from lipsym.errors import ConflictError, ConfigurationError, NotFoundError
from lipsym.visits.store._records import Patient, Visit
from lipsym.visits.store._schema import utc_now

_COLUMNS = "id, patient_id, visit_date, kind, notes, created_at"

#: Order of visit kinds on the same day: photos before treatment first.
KIND_ORDER_SQL = (
    "CASE {col} WHEN 'baseline' THEN 0 WHEN 'treatment' THEN 1 "
    "WHEN 'follow-up' THEN 2 WHEN 'maintenance' THEN 3 ELSE 9 END"
)


def from_row(row: sqlite3.Row) -> Visit:
    return Visit(
        id=row["id"],
        patient_id=row["patient_id"],
        visit_date=_dt.date.fromisoformat(row["visit_date"]),
        kind=row["kind"],
        notes=row["notes"],
        created_at=row["created_at"],
    )


def get_by_id(conn: sqlite3.Connection, visit_id: int) -> Visit:
    row = conn.execute(f"SELECT {_COLUMNS} FROM visits WHERE id = ?", (visit_id,)).fetchone()
    if row is None:
        raise NotFoundError(f"no visit with id {visit_id}")
    return from_row(row)


def require(conn: sqlite3.Connection, visit: Visit | int) -> Visit:
    """Return the stored visit named by a :class:`Visit` or its id."""
    if isinstance(visit, Visit):
        return get_by_id(conn, visit.id)
    if isinstance(visit, bool) or not isinstance(visit, numbers.Integral):
        raise ConfigurationError(f"visit must be a Visit or a visit id (got {visit!r})")
    return get_by_id(conn, int(visit))


def find(conn: sqlite3.Connection, patient: Patient, visit_date: _dt.date, kind: str) -> Visit | None:
    row = conn.execute(
        f"SELECT {_COLUMNS} FROM visits WHERE patient_id = ? AND visit_date = ? AND kind = ?",
        (patient.id, visit_date.isoformat(), kind),
    ).fetchone()
    return None if row is None else from_row(row)


def insert(conn: sqlite3.Connection, patient: Patient, visit_date: _dt.date, kind: str, notes: str | None) -> Visit:
    """Insert a visit; ConflictError if the patient already has it."""
    if find(conn, patient, visit_date, kind) is not None:
        raise ConflictError(
            f"patient {patient.identifier!r} already has a {kind} visit on {visit_date.isoformat()}"
        )
    cursor = conn.execute(
        "INSERT INTO visits (patient_id, visit_date, kind, notes, created_at) VALUES (?, ?, ?, ?, ?)",
        (patient.id, visit_date.isoformat(), kind, notes, utc_now()),
    )
    return get_by_id(conn, cursor.lastrowid)


def get_or_insert(
    conn: sqlite3.Connection, patient: Patient, visit_date: _dt.date, kind: str, notes: str | None
) -> Visit:
    """Return the existing visit or insert it; conflicting notes raise ConflictError."""
    existing = find(conn, patient, visit_date, kind)
    if existing is None:
        return insert(conn, patient, visit_date, kind, notes)
    if notes is not None and notes != existing.notes:
        raise ConflictError(
            f"the {kind} visit of {patient.identifier!r} on {visit_date.isoformat()} exists with other notes"
        )
    return existing


def list_for_patient(conn: sqlite3.Connection, patient: Patient) -> list[Visit]:
    order = KIND_ORDER_SQL.format(col="kind")
    rows = conn.execute(
        f"SELECT {_COLUMNS} FROM visits WHERE patient_id = ? ORDER BY visit_date, {order}, id",
        (patient.id,),
    ).fetchall()
    return [from_row(r) for r in rows]
