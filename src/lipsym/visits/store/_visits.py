"""SQL of the ``visits`` table (runs inside the caller's transaction)."""

from __future__ import annotations

import datetime as _dt
import sqlite3

from lipsym.errors import ConflictError
from lipsym.visits.store import _history as history
from lipsym.visits.store import _table as table
from lipsym.visits.store._records import Patient, Visit
from lipsym.visits.store._schema import utc_now

VISITS = table.Table("visits", Visit, "visit", soft_delete=True)

#: Order of visit kinds on the same day: photos before treatment first.
KIND_ORDER_SQL = (
    "CASE {col} WHEN 'baseline' THEN 0 WHEN 'treatment' THEN 1 "
    "WHEN 'follow-up' THEN 2 WHEN 'maintenance' THEN 3 ELSE 9 END"
)


def require(conn: sqlite3.Connection, visit: Visit | int) -> Visit:
    """Return the stored visit named by a :class:`Visit` or its id."""
    return table.require(conn, VISITS, visit)


def find(conn: sqlite3.Connection, patient: Patient, visit_date: _dt.date, kind: str, *,
         include_deleted: bool = False) -> Visit | None:
    return table.find_one(conn, VISITS, "patient_id = ? AND visit_date = ? AND kind = ?",
                          (patient.id, visit_date.isoformat(), kind), include_deleted=include_deleted)


def refuse_taken(conn: sqlite3.Connection, patient: Patient, visit_date: _dt.date, kind: str,
                 visit_id: int | None = None) -> None:
    """ConflictError if the patient has another visit (deleted ones included) of this kind on this date."""
    existing = find(conn, patient, visit_date, kind, include_deleted=True)
    if existing is None or existing.id == visit_id:
        return
    state = " (deleted; restore or purge it first)" if table.is_deleted(conn, VISITS, existing.id) else ""
    raise ConflictError(
        f"patient {patient.identifier!r} already has a {kind} visit on {visit_date.isoformat()}{state}")


def insert(conn: sqlite3.Connection, patient: Patient, visit_date: _dt.date, kind: str, notes: str | None) -> Visit:
    """Insert a visit; ConflictError if the patient already has it."""
    refuse_taken(conn, patient, visit_date, kind)
    visit_id = table.insert(conn, VISITS, dict(
        patient_id=patient.id, visit_date=visit_date, kind=kind, notes=notes, created_at=utc_now()))
    history.record_insert(conn, VISITS.name, visit_id)
    return table.get_by_id(conn, VISITS, visit_id)


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
    return table.select(conn, VISITS, "patient_id = ?", (patient.id,), order=f"visit_date, {order}, id")
