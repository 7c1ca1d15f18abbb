"""SQL of the ``history`` table: every change of a user-editable row.

A history row says what changed (table and row id), how (``insert``,
``edit``, ``delete``, ``restore``, ``purge``), when (UTC) and the row as
JSON before and after. It is written by the same transaction as the
change, so a change and its history commit together or not at all; a purged
row survives only here.
"""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from typing import Any

from lipsym.visits.store._schema import utc_now

#: Actions a history row can record.
ACTIONS = ("insert", "edit", "delete", "restore", "purge")


@dataclasses.dataclass(frozen=True)
class HistoryEntry:
    """One recorded change.

    Attributes
    ----------
    id : int
    changed_at : str
        UTC, ISO 8601 with milliseconds.
    table_name : str
        ``patients``, ``visits``, ``photos``, ``treatments`` or ``analyses``.
    row_id : int
    action : {"insert", "edit", "delete", "restore", "purge"}
    before, after : dict or None
        The row's columns (a treatment's with its ``sites``); None before an
        insert and after a purge.
    """

    id: int
    changed_at: str
    table_name: str
    row_id: int
    action: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None


def snapshot(conn: sqlite3.Connection, table_name: str, row_id: int) -> dict[str, Any] | None:
    """Every column of one row (a treatment with its sites), or None if there is no such row."""
    row = conn.execute(f"SELECT * FROM {table_name} WHERE id = ?", (row_id,)).fetchone()
    if row is None:
        return None
    values = {key: row[key] for key in row.keys()}
    if table_name == "treatments":  # the sites are part of what a user records and corrects
        sites = conn.execute("SELECT region, side, dose_value FROM treatment_sites WHERE treatment_id = ?"
                             " ORDER BY position", (row_id,)).fetchall()
        values["sites"] = [dict(zip(("region", "side", "dose_value"), s)) for s in sites]
    return values


def record(conn: sqlite3.Connection, table_name: str, row_id: int, action: str,
           before: dict[str, Any] | None, after: dict[str, Any] | None) -> None:
    """Write one history row (inside the caller's transaction)."""
    def text(values: dict[str, Any] | None) -> str | None:
        return None if values is None else json.dumps(values, sort_keys=True, ensure_ascii=False)

    conn.execute("INSERT INTO history (changed_at, table_name, row_id, action, before_json, after_json)"
                 " VALUES (?, ?, ?, ?, ?, ?)", (utc_now(), table_name, row_id, action, text(before), text(after)))


def record_insert(conn: sqlite3.Connection, table_name: str, row_id: int) -> None:
    """History of a new row: nothing before, the row after."""
    record(conn, table_name, row_id, "insert", None, snapshot(conn, table_name, row_id))


def entries(conn: sqlite3.Connection, table_name: str | None = None, row_id: int | None = None) -> list[HistoryEntry]:
    """The history, oldest first, optionally of one table and one row id."""
    where, params = [], []
    if table_name is not None:
        where.append("table_name = ?")
        params.append(table_name)
    if row_id is not None:
        where.append("row_id = ?")
        params.append(row_id)
    rows = conn.execute("SELECT id, changed_at, table_name, row_id, action, before_json, after_json FROM history"
                        + (f" WHERE {' AND '.join(where)}" if where else "") + " ORDER BY id", params).fetchall()
    return [HistoryEntry(id=r[0], changed_at=r[1], table_name=r[2], row_id=r[3], action=r[4],
                         before=None if r[5] is None else json.loads(r[5]),
                         after=None if r[6] is None else json.loads(r[6])) for r in rows]
