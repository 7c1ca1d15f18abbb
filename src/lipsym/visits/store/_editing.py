"""Corrections of the visit record: edit, delete, restore, purge, history.

The methods of :class:`lipsym.visits.store.Store` that change what was
recorded (mixed into it, so that ``_store.py`` keeps the adding and
reading). Each method validates first, then writes the change and its
history rows in one transaction (:mod:`._changes`, :mod:`._history`).

A delete is a soft delete: the rows are hidden from every list, get,
timeline and export, and :meth:`restore_patient` (etc.) brings them back.
``purge_*`` removes a deleted row and what hangs below it for good; its
history rows remain.
"""

from __future__ import annotations

import os
import sqlite3
from typing import Any

from lipsym.errors import ConfigurationError, ConflictError
from lipsym.visits.store import (
    _analyses as analyses,
    _changes as changes,
    _history as history,
    _patients as patients,
    _photos as photos,
    _table as table,
    _treatments as treatments,
    _validate as validate,
    _visits as visits,
)
from lipsym.visits.store._db import write_transaction
from lipsym.visits.store._history import HistoryEntry
from lipsym.visits.store._records import Analysis, Patient, Photo, Treatment, Visit


class _Unchanged:
    """The default of an edit's fields: leave the field as it is (None clears it)."""

    def __repr__(self) -> str:
        return "UNCHANGED"


#: Default of the ``edit_*`` keyword arguments: keep the stored value.
UNCHANGED: Any = _Unchanged()

#: Tables whose rows can be edited, deleted and restored, by the noun of a row.
EDITABLE_TABLES = ("patients", "visits", "photos", "treatments", "analyses")


def _given(**fields: Any) -> dict[str, Any]:
    return {k: v for k, v in fields.items() if v is not UNCHANGED}


class Editing:
    """Mixin of :class:`~lipsym.visits.store.Store`: corrections and their history."""

    _conn: sqlite3.Connection

    # --- patients -----------------------------------------------------------

    def edit_patient(self, patient: Patient | str, *, identifier: Any = UNCHANGED, birth_year: Any = UNCHANGED,
                     sex: Any = UNCHANGED, notes: Any = UNCHANGED) -> Patient:
        """Correct a patient's code, birth year, sex or notes (None clears an optional field).

        Raises
        ------
        ConflictError
            Another patient (deleted ones included) has the new code.
        """
        values = _given(identifier=identifier, birth_year=birth_year, sex=sex, notes=notes)
        if "identifier" in values:
            values["identifier"] = validate.identifier(values["identifier"])
        if "birth_year" in values:
            values["birth_year"] = validate.birth_year(values["birth_year"])
        if "sex" in values:
            values["sex"] = validate.sex(values["sex"])
        if "notes" in values:
            values["notes"] = validate.optional_text(values["notes"], "patient notes")
        with write_transaction(self._conn) as conn:
            record = patients.require(conn, patient)
            if "identifier" in values:
                patients.refuse_taken(conn, values["identifier"], record.id)
            changes.update(conn, patients.PATIENTS.name, record.id, values)
            return table.get_by_id(conn, patients.PATIENTS, record.id)

    def delete_patient(self, patient: Patient | str) -> int:
        """Soft-delete a patient with its visits and all below them; returns the rows hidden."""
        with write_transaction(self._conn) as conn:
            return changes.soft_delete(conn, "patients", patients.require(conn, patient).id)

    def restore_patient(self, identifier: str) -> int:
        """Undelete a patient and what its delete hid; returns the rows restored."""
        with write_transaction(self._conn) as conn:
            return changes.restore(conn, "patients", patients.require_deleted(conn, identifier).id)

    def purge_patient(self, identifier: str) -> int:
        """Really remove a deleted patient and everything below it; returns the rows removed."""
        with write_transaction(self._conn) as conn:
            return changes.purge(conn, "patients", patients.require_deleted(conn, identifier).id)

    # --- visits -------------------------------------------------------------

    def edit_visit(self, visit: Visit | int, *, visit_date: Any = UNCHANGED, kind: Any = UNCHANGED,
                   notes: Any = UNCHANGED) -> Visit:
        """Correct a visit's date, kind or notes.

        Raises
        ------
        ConflictError
            The patient has another visit of that kind on that date.
        """
        values = _given(visit_date=visit_date, kind=kind, notes=notes)
        if "visit_date" in values:
            values["visit_date"] = validate.iso_date(values["visit_date"], "visit date")
        if "kind" in values:
            values["kind"] = validate.visit_kind(values["kind"])
        if "notes" in values:
            values["notes"] = validate.optional_text(values["notes"], "visit notes")
        with write_transaction(self._conn) as conn:
            record = visits.require(conn, visit)
            patient = table.get_by_id(conn, patients.PATIENTS, record.patient_id)
            visits.refuse_taken(conn, patient, values.get("visit_date", record.visit_date),
                                values.get("kind", record.kind), record.id)
            if "visit_date" in values:
                values["visit_date"] = values["visit_date"].isoformat()
            changes.update(conn, visits.VISITS.name, record.id, values)
            return visits.require(conn, record.id)

    def delete_visit(self, visit: Visit | int) -> int:
        """Soft-delete a visit with its photos, analyses and treatments; returns the rows hidden."""
        return self.delete_row("visits", visits.require(self._conn, visit).id)

    def restore_visit(self, visit_id: int) -> int:
        """Undelete a visit and what its delete hid."""
        return self.restore_row("visits", visit_id)

    def purge_visit(self, visit_id: int) -> int:
        """Really remove a deleted visit and everything below it."""
        return self.purge_row("visits", visit_id)

    # --- treatments ---------------------------------------------------------

    def get_treatment(self, treatment_id: int) -> Treatment:
        """Return a treatment by id (NotFoundError if none, or deleted)."""
        return treatments.get_by_id(self._conn, table.require(self._conn, treatments.TREATMENTS, treatment_id).id)

    def edit_treatment(self, treatment: Treatment | int, **fields: Any) -> Treatment:
        """Correct a treatment: any of ``product_name``, ``product_type``, ``dose_value``, ``dose_unit``,
        ``sites``, ``lot``, ``technique``, ``injector``, ``notes``.

        The corrected treatment is validated as a whole, as :meth:`add_treatment` does.
        """
        with write_transaction(self._conn) as conn:
            record = treatments.get_by_id(conn, table.require(conn, treatments.TREATMENTS, treatment).id)
            merged = treatments.spec_of(record)
            unknown = set(fields) - set(merged)
            if unknown:
                raise ConfigurationError(f"a treatment has no field(s) {', '.join(sorted(unknown))}")
            merged.update(_given(**fields))
            return treatments.replace(conn, record, treatments.prepare(**merged))

    def delete_treatment(self, treatment: Treatment | int) -> int:
        """Soft-delete a treatment."""
        return self.delete_row("treatments", treatment.id if isinstance(treatment, Treatment) else treatment)

    def restore_treatment(self, treatment_id: int) -> int:
        """Undelete a treatment."""
        return self.restore_row("treatments", treatment_id)

    def purge_treatment(self, treatment_id: int) -> int:
        """Really remove a deleted treatment and its injection sites."""
        return self.purge_row("treatments", treatment_id)

    # --- photos -------------------------------------------------------------

    def edit_photo(self, photo: Photo | int, *, expression: Any = UNCHANGED,
                   path: str | os.PathLike[str] | Any = UNCHANGED) -> Photo:
        """Correct a photo's expression, or record its new path.

        A new path must hold the recorded content (as :meth:`relocate_photo`).
        Analyses made under the old expression are stale: see
        :meth:`analyses_of_photo`.
        """
        values = _given(expression=expression)
        if "expression" in values:
            values["expression"] = validate.expression(values["expression"])
        record = photos.require(self._conn, photo)
        if path is not UNCHANGED:
            values["path"] = photos.absolute_path(path)
            sha256, _ = photos.hash_file(values["path"])  # outside the lock: a large file
            if sha256 != record.sha256:
                raise ConflictError(f"{values['path']} is not photo {record.id}: its content differs")
        with write_transaction(self._conn) as conn:
            changes.update(conn, photos.PHOTOS.name, photos.require(conn, record.id).id, values)
            return photos.require(conn, record.id)

    def analyses_of_photo(self, photo: Photo | int) -> list[Analysis]:
        """The (live) analyses made of a photo, in either slot."""
        record = photos.require(self._conn, photo)
        return [a for a in analyses.list_for_visit(self._conn, visits.require(self._conn, record.visit_id))
                if record.id in (a.rest_photo_id, a.smile_photo_id)]

    def delete_photo(self, photo: Photo | int) -> int:
        """Soft-delete a photo with its analyses."""
        return self.delete_row("photos", photos.require(self._conn, photo).id)

    def restore_photo(self, photo_id: int) -> int:
        """Undelete a photo and the analyses its delete hid."""
        return self.restore_row("photos", photo_id)

    def purge_photo(self, photo_id: int) -> int:
        """Really remove a deleted photo and its analyses."""
        return self.purge_row("photos", photo_id)

    # --- any table ----------------------------------------------------------

    def delete_row(self, table_name: str, row_id: int) -> int:
        """Soft-delete a row of ``table_name`` (see :data:`EDITABLE_TABLES`) and what hangs below it.

        Returns
        -------
        int
            Rows hidden, this one included.

        Raises
        ------
        ConflictError
            The row is already deleted.
        """
        with write_transaction(self._conn) as conn:
            return changes.soft_delete(conn, _table_name(table_name), row_id)

    def restore_row(self, table_name: str, row_id: int) -> int:
        """Undelete a row and what its delete hid; returns the rows restored.

        Raises
        ------
        ConflictError
            The row is not deleted, or what it belongs to is.
        """
        with write_transaction(self._conn) as conn:
            return changes.restore(conn, _table_name(table_name), row_id)

    def purge_row(self, table_name: str, row_id: int) -> int:
        """Really remove a deleted row and everything below it; returns the rows removed.

        Raises
        ------
        ConflictError
            The row is not deleted (a purge is never the first step).
        """
        with write_transaction(self._conn) as conn:
            return changes.purge(conn, _table_name(table_name), row_id)

    def is_deleted(self, table_name: str, row_id: int) -> bool:
        """True if the row exists and is soft-deleted."""
        return table.is_deleted(self._conn, _TABLES[_table_name(table_name)], row_id)

    def locate_patient(self, identifier: str) -> Patient:
        """The patient with this code, deleted or not (to restore or purge it)."""
        return patients.require_deleted(self._conn, identifier)

    def deleted_visits(self, patient: Patient | str) -> list[Visit]:
        """The patient's deleted visits (to restore or purge one by its date), oldest first."""
        found = self.locate_patient(patient) if isinstance(patient, str) else patient
        return table.select(self._conn, visits.VISITS, "patient_id = ? AND deleted_at IS NOT NULL", (found.id,),
                            order="visit_date, id", include_deleted=True)

    def locate(self, table_name: str, row_id: int) -> Any:
        """The record of a row, deleted or not (to restore or purge it)."""
        return table.get_by_id(self._conn, _TABLES[_table_name(table_name)], row_id, include_deleted=True)

    def history(self, table_name: str | None = None, row_id: int | None = None) -> list[HistoryEntry]:
        """The recorded changes, oldest first, optionally of one table (and one row id)."""
        return history.entries(self._conn, None if table_name is None else _table_name(table_name), row_id)


_TABLES = {t.name: t for t in (patients.PATIENTS, visits.VISITS, photos.PHOTOS, treatments.TREATMENTS,
                               analyses.ANALYSES)}


def _table_name(name: str) -> str:
    if name not in EDITABLE_TABLES:
        raise ConfigurationError(f"table {name!r}: choose one of {', '.join(EDITABLE_TABLES)}")
    return name

