"""One generic row accessor for every table: a record type is its table's description.

Each stored record (:mod:`._records`) is a frozen dataclass whose fields are
the table's columns, in the same names. A :class:`Table` derives from that
dataclass, once, the column list of its ``SELECT`` and how a row becomes a
record (ISO dates back to :class:`datetime.date`); :func:`get_by_id`,
:func:`require`, :func:`select` and :func:`insert` then work for any table.
So a table's fields are written once, in its record, and the per-table
modules keep only what is particular to the table (keys, ordering, checks).
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import functools
import numbers
import sqlite3
import typing
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Generic, TypeVar

from lipsym.errors import ConfigurationError, NotFoundError

R = TypeVar("R")


@functools.cache
def _date_fields(record_type: type) -> frozenset[str]:
    # The records use ``from __future__ import annotations``: resolve the
    # annotation strings to find the date fields (``date`` or ``date | None``).
    hints = typing.get_type_hints(record_type)
    return frozenset(name for name, hint in hints.items()
                     if hint is _dt.date or _dt.date in typing.get_args(hint))


def record_from_row(record_type: type[R], row: sqlite3.Row, **extra: Any) -> R:
    """Build ``record_type`` from a row whose column names are its field names.

    ISO date text in a date field becomes a :class:`datetime.date`; ``extra``
    gives the fields that are not columns of the row (e.g. a treatment's sites).
    """
    fields = {key: row[key] for key in row.keys()}
    for name in _date_fields(record_type) & fields.keys():
        if fields[name] is not None:
            fields[name] = _dt.date.fromisoformat(fields[name])
    return record_type(**fields, **extra)


@dataclasses.dataclass(frozen=True)
class Table(Generic[R]):
    """A table and the record type of its rows.

    Parameters
    ----------
    name : str
        SQL table name.
    record : type
        Frozen dataclass of one row; its fields are the columns.
    noun : str
        What a row is, for messages (``"patient"``).
    derived : tuple of str
        Record fields that are not columns (filled from other tables).
    soft_delete : bool
        The table has a ``deleted_at`` column (schema 3): :func:`select`,
        :func:`find_one` and :func:`get_by_id` skip deleted rows unless
        asked (``include_deleted=True``).
    """

    name: str
    record: type[R]
    noun: str
    derived: tuple[str, ...] = ()
    soft_delete: bool = False

    @functools.cached_property
    def columns(self) -> tuple[str, ...]:
        """The columns, in record field order."""
        return tuple(f.name for f in dataclasses.fields(self.record) if f.name not in self.derived)

    @functools.cached_property
    def select_sql(self) -> str:
        """``SELECT <columns> FROM <table>``, to which a WHERE clause is appended."""
        return f"SELECT {', '.join(self.columns)} FROM {self.name}"

    def from_row(self, row: sqlite3.Row, **extra: Any) -> R:
        """The record of one row selected with :attr:`select_sql`."""
        return record_from_row(self.record, row, **extra)


def _where(table: Table[Any], where: str, include_deleted: bool) -> str:
    # The one place deleted rows are hidden: every read of a soft-deleting
    # table goes through here, so no query can forget the condition.
    conditions = [f"({where})"] if where else []
    if table.soft_delete and not include_deleted:
        conditions.append("deleted_at IS NULL")
    return f" WHERE {' AND '.join(conditions)}" if conditions else ""


def select(conn: sqlite3.Connection, table: Table[R], where: str = "", params: Sequence[Any] = (),
           order: str = "id", *, include_deleted: bool = False) -> list[R]:
    """The records of the rows matching ``where`` (SQL, ``?`` placeholders), in ``order``."""
    sql = table.select_sql + _where(table, where, include_deleted) + (f" ORDER BY {order}" if order else "")
    return [table.from_row(row) for row in conn.execute(sql, tuple(params)).fetchall()]


def find_one(conn: sqlite3.Connection, table: Table[R], where: str, params: Sequence[Any], *,
             include_deleted: bool = False) -> R | None:
    """The record of the row matching ``where``, or None (the condition names a unique row)."""
    row = conn.execute(table.select_sql + _where(table, where, include_deleted), tuple(params)).fetchone()
    return None if row is None else table.from_row(row)


def get_by_id(conn: sqlite3.Connection, table: Table[R], row_id: int, *, include_deleted: bool = False) -> R:
    """The record with this id.

    Raises
    ------
    NotFoundError
        No such row (or it is deleted and ``include_deleted`` is False).
    """
    found = find_one(conn, table, "id = ?", (row_id,), include_deleted=include_deleted)
    if found is None:
        deleted = not include_deleted and table.soft_delete and is_deleted(conn, table, row_id)
        raise NotFoundError(f"no {table.noun} with id {row_id}" + (" (it is deleted; restore it first)" if deleted else ""))
    return found


def is_deleted(conn: sqlite3.Connection, table: Table[Any], row_id: int) -> bool:
    """True if the row exists and is soft-deleted."""
    row = conn.execute(f"SELECT deleted_at FROM {table.name} WHERE id = ?", (row_id,)).fetchone()
    return row is not None and row[0] is not None


def require(conn: sqlite3.Connection, table: Table[R], ref: R | int) -> R:
    """The stored record named by a record (re-read, so it is current) or an id.

    Raises
    ------
    NotFoundError
        No such row.
    ConfigurationError
        ``ref`` is neither a record of this table nor an integer id.
    """
    if isinstance(ref, table.record):
        return get_by_id(conn, table, ref.id)  # type: ignore[attr-defined]
    if isinstance(ref, bool) or not isinstance(ref, numbers.Integral):
        raise ConfigurationError(f"{table.noun} must be {_a(table.record.__name__)} or"
                                 f" {_a(table.noun)} id (got {ref!r})")
    return get_by_id(conn, table, int(ref))


def _a(word: str) -> str:
    return f"{'an' if word[0].lower() in 'aeiou' else 'a'} {word}"


def _sql_value(value: Any) -> Any:
    return value.isoformat() if isinstance(value, _dt.date) else value


def _insert_sql(table: Table[Any], names: Sequence[str]) -> str:
    unknown = set(names) - set(table.columns)
    if unknown:  # a programming error, caught before SQLite's less clear message
        raise ValueError(f"{table.name} has no column(s) {', '.join(sorted(unknown))}")
    return f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})"


def insert(conn: sqlite3.Connection, table: Table[Any], values: Mapping[str, Any]) -> int:
    """Insert one row (column name → value; dates as ISO text); return its id."""
    names = list(values)
    cursor = conn.execute(_insert_sql(table, names), tuple(_sql_value(values[n]) for n in names))
    return int(cursor.lastrowid)


def insert_many(conn: sqlite3.Connection, table: Table[Any], rows: Iterable[Mapping[str, Any]]) -> None:
    """Insert several rows with the same columns (see :func:`insert`)."""
    rows = list(rows)
    if rows:
        names = list(rows[0])
        conn.executemany(_insert_sql(table, names), [tuple(_sql_value(r[n]) for n in names) for r in rows])
