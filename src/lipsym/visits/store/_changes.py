"""Edit, soft delete, restore and purge of rows, each with its history.

A delete sets ``deleted_at``; the reads of :mod:`._table` then skip the
row. Deleting a row also deletes what hangs below it (a patient's visits, a
visit's photos, analyses and treatments, a photo's analyses) with the same
time stamp, and :func:`restore` brings back the rows of that stamp only: a
photo deleted on its own before its visit stays deleted when the visit is
restored. :func:`purge` removes a deleted row and everything below it for
good; the history keeps what it was.

Functions run inside the caller's transaction.
"""

from __future__ import annotations

import datetime as _dt
import sqlite3
from collections.abc import Mapping
from typing import Any

from lipsym.errors import ConflictError, NotFoundError
from lipsym.visits.store import _history as history

#: Table → (child table, the child's column(s) naming the parent). Analyses
#: name a photo in either slot.
_CHILDREN: Mapping[str, tuple[tuple[str, tuple[str, ...]], ...]] = {
    "patients": (("visits", ("patient_id",)),),
    "visits": (("analyses", ("visit_id",)), ("photos", ("visit_id",)), ("treatments", ("visit_id",))),
    "photos": (("analyses", ("rest_photo_id", "smile_photo_id")),),
    "treatments": (),
    "analyses": (),
}


#: Table → (parent table, column naming the parent): a row cannot be restored under a deleted parent.
_PARENT: Mapping[str, tuple[str, str]] = {
    "visits": ("patients", "patient_id"),
    "photos": ("visits", "visit_id"),
    "treatments": ("visits", "visit_id"),
    "analyses": ("visits", "visit_id"),
}


def _children(conn: sqlite3.Connection, table_name: str, row_id: int) -> list[tuple[str, int]]:
    found = []
    for child, columns in _CHILDREN[table_name]:
        where = " OR ".join(f"{c} = ?" for c in columns)
        ids = conn.execute(f"SELECT id FROM {child} WHERE {where} ORDER BY id", (row_id,) * len(columns)).fetchall()
        found += [(child, i[0]) for i in ids]
    return found


def _deleted_at(conn: sqlite3.Connection, table_name: str, row_id: int) -> str | None:
    row = conn.execute(f"SELECT deleted_at FROM {table_name} WHERE id = ?", (row_id,)).fetchone()
    if row is None:
        raise NotFoundError(f"no {table_name[:-1]} with id {row_id}")
    return row[0]


def set_columns(conn: sqlite3.Connection, table_name: str, row_id: int, values: Mapping[str, Any]) -> None:
    """Set columns of a row, without history (see :func:`update` and :func:`record_edit`)."""
    if values:
        conn.execute(f"UPDATE {table_name} SET {', '.join(f'{k} = ?' for k in values)} WHERE id = ?",
                     (*values.values(), row_id))


def update(conn: sqlite3.Connection, table_name: str, row_id: int, values: Mapping[str, Any]) -> bool:
    """Set columns of a row and record the edit; False (nothing recorded) if nothing changed."""
    before = history.snapshot(conn, table_name, row_id)
    if before is None:
        raise NotFoundError(f"no {table_name[:-1]} with id {row_id}")
    set_columns(conn, table_name, row_id, values)
    return record_edit(conn, table_name, row_id, before)


def record_edit(conn: sqlite3.Connection, table_name: str, row_id: int, before: dict[str, Any] | None) -> bool:
    """Record an edit whose ``before`` was taken earlier; False if the row is unchanged."""
    after = history.snapshot(conn, table_name, row_id)
    if after == before:
        return False
    history.record(conn, table_name, row_id, "edit", before, after)
    return True


def soft_delete(conn: sqlite3.Connection, table_name: str, row_id: int) -> int:
    """Mark a row and the live rows below it deleted; returns how many rows were marked.

    Raises
    ------
    ConflictError
        The row is already deleted.
    """
    if _deleted_at(conn, table_name, row_id) is not None:
        raise ConflictError(f"{table_name[:-1]} {row_id} is already deleted")
    return _mark(conn, table_name, row_id, _unique_stamp(conn))


def _unique_stamp(conn: sqlite3.Connection) -> str:
    """The current UTC time in microseconds, made unique among the recorded deletes.

    The stamp is what ties a cascade together for :func:`restore`: a photo
    deleted on its own in the same millisecond as its visit must not share
    the visit's stamp. The caller holds the write lock, so no other process
    can take the same stamp meanwhile.
    """
    moment = _dt.datetime.now(_dt.timezone.utc)
    while True:
        stamp = moment.isoformat(timespec="microseconds").replace("+00:00", "Z")
        taken = " UNION ALL ".join(f"SELECT 1 FROM {t} WHERE deleted_at = ?" for t in _CHILDREN)
        if conn.execute(taken, (stamp,) * len(_CHILDREN)).fetchone() is None:
            return stamp
        moment += _dt.timedelta(microseconds=1)


def _mark(conn: sqlite3.Connection, table_name: str, row_id: int, stamp: str) -> int:
    if _deleted_at(conn, table_name, row_id) is not None:
        return 0  # deleted before, on its own: its own restore brings it back
    before = history.snapshot(conn, table_name, row_id)
    conn.execute(f"UPDATE {table_name} SET deleted_at = ? WHERE id = ?", (stamp, row_id))
    history.record(conn, table_name, row_id, "delete", before, history.snapshot(conn, table_name, row_id))
    return 1 + sum(_mark(conn, child, child_id, stamp) for child, child_id in _children(conn, table_name, row_id))


def restore(conn: sqlite3.Connection, table_name: str, row_id: int) -> int:
    """Undelete a row and what its delete hid; returns how many rows were restored.

    Raises
    ------
    ConflictError
        The row is not deleted.
    """
    stamp = _deleted_at(conn, table_name, row_id)
    if stamp is None:
        raise ConflictError(f"{table_name[:-1]} {row_id} is not deleted")
    if table_name in _PARENT:
        parent, column = _PARENT[table_name]
        parent_id = conn.execute(f"SELECT {column} FROM {table_name} WHERE id = ?", (row_id,)).fetchone()[0]
        if _deleted_at(conn, parent, parent_id) is not None:
            raise ConflictError(f"{table_name[:-1]} {row_id} belongs to {parent[:-1]} {parent_id}, which is deleted;"
                                f" restore the {parent[:-1]} first")
    return _unmark(conn, table_name, row_id, stamp)


def _unmark(conn: sqlite3.Connection, table_name: str, row_id: int, stamp: str) -> int:
    if _deleted_at(conn, table_name, row_id) != stamp:
        return 0
    before = history.snapshot(conn, table_name, row_id)
    conn.execute(f"UPDATE {table_name} SET deleted_at = NULL WHERE id = ?", (row_id,))
    history.record(conn, table_name, row_id, "restore", before, history.snapshot(conn, table_name, row_id))
    return 1 + sum(_unmark(conn, child, child_id, stamp) for child, child_id in _children(conn, table_name, row_id))


def purge(conn: sqlite3.Connection, table_name: str, row_id: int) -> int:
    """Really delete a soft-deleted row and everything below it; returns how many rows went.

    Each removed row leaves a ``purge`` history row with its last content.
    Measures and injection sites go with their analysis and treatment.

    Raises
    ------
    ConflictError
        The row is not deleted (delete it first: a purge is never the first step).
    """
    if _deleted_at(conn, table_name, row_id) is None:
        raise ConflictError(f"{table_name[:-1]} {row_id} is not deleted; delete it before purging")
    return _remove(conn, table_name, row_id)


def _remove(conn: sqlite3.Connection, table_name: str, row_id: int) -> int:
    count = 0
    for child, child_id in _children(conn, table_name, row_id):
        count += _remove(conn, child, child_id)
    before = history.snapshot(conn, table_name, row_id)
    if before is None:  # an analysis of two photos of the visit, already removed with the first
        return count
    if table_name == "analyses":
        conn.execute("DELETE FROM measures WHERE analysis_id = ?", (row_id,))
    if table_name == "treatments":
        conn.execute("DELETE FROM treatment_sites WHERE treatment_id = ?", (row_id,))
    conn.execute(f"DELETE FROM {table_name} WHERE id = ?", (row_id,))
    history.record(conn, table_name, row_id, "purge", before, None)
    return count + 1
