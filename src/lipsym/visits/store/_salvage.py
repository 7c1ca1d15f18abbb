"""Diagnose a damaged database, copy what can still be read, restore a backup.

Everything here reads a damaged database through a private COPY of its file
and write-ahead log, in a temporary directory: SQLite opening the original
would replay its log and, at the next checkpoint, make the loss of the
damaged part final. The original is never written.

* :func:`diagnose` lists every problem (file checks, then SQLite's full
  ``integrity_check`` and foreign-key check);
* :func:`salvage` writes a new database holding every row that could be
  read, and says which could not;
* :func:`restore_database` verifies a backup, then puts it in place of the
  database in one rename, keeping the replaced file.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as _dt
import os
import secrets
import shutil
import sqlite3
import tempfile
from collections.abc import Iterator
from pathlib import Path

from lipsym.errors import ConfigurationError, StoreError
from lipsym.visits.store._backup import backup_connection, remove_leftovers
from lipsym.visits.store._integrity import _MAGIC, Damage, check_pages, check_references, inspect_file
from lipsym.visits.store._schema import SCHEMA_VERSION

# Rows that fail to read are skipped by probing ever further ids; this many
# doublings reach past any rowid a clinic database will have.
_MAX_PROBES = 64


@dataclasses.dataclass(frozen=True)
class SalvageReport:
    """What :func:`salvage` copied.

    Attributes
    ----------
    dest : Path
        The new database.
    rows_copied : dict of str to int
        Table name → rows copied.
    lost : tuple of str
        One line per part that could not be read (empty: everything was).
    repaired : tuple of str
        One line per repair made to the copy.
    """

    dest: Path
    rows_copied: dict[str, int]
    lost: tuple[str, ...]
    repaired: tuple[str, ...] = ()


def _absolute(path: str | os.PathLike[str]) -> Path:
    return Path(os.path.abspath(os.path.expanduser(os.fspath(path))))


@contextlib.contextmanager
def _private_copy(path: Path, *, repair_magic: bool) -> Iterator[sqlite3.Connection]:
    """A connection to a temporary copy of ``path`` and its ``-wal`` (never the original)."""
    with tempfile.TemporaryDirectory(prefix="lipsym-salvage-") as tmp:
        copy = Path(tmp) / "copy.sqlite3"
        shutil.copyfile(path, copy)
        if Path(f"{path}-wal").exists():
            shutil.copyfile(f"{path}-wal", f"{copy}-wal")
        if repair_magic:
            # Only the format string can be rewritten safely: it is a constant.
            with open(copy, "r+b") as stream:
                stream.write(_MAGIC)
        with open(copy, "r+b") as stream:  # a page cut in the middle is lost anyway
            stream.truncate(copy.stat().st_size // 512 * 512)
        conn = sqlite3.connect(str(copy), isolation_level=None)
        # SQLite refuses to read a file shorter than its header says unless the
        # schema is "writable"; nothing is written to this copy.
        conn.execute("PRAGMA writable_schema = ON")
        try:
            yield conn
        finally:
            conn.close()


def diagnose(path: str | os.PathLike[str]) -> list[Damage]:
    """Every problem of a database file: header, length, log, pages, references.

    Returns
    -------
    list of Damage
        Empty for a sound database.

    Raises
    ------
    NotFoundError
        (via ConfigurationError) there is no such file.
    """
    path = _absolute(path)
    if not path.is_file():
        raise ConfigurationError(f"{path}: no such database file")
    problems = inspect_file(path)
    headless = any(p.kind == "header" for p in problems)
    if headless and not _magic_only(path):
        return problems  # SQLite cannot read anything more
    with _private_copy(path, repair_magic=headless) as conn:
        problems += check_pages(conn, path, full=True)
        problems += check_references(conn, path)
    return problems


def _magic_only(path: Path) -> bool:
    """True when the header's format string is damaged but the rest of it is sound."""
    with tempfile.TemporaryDirectory(prefix="lipsym-probe-") as tmp:
        probe = Path(tmp) / "header.sqlite3"
        with open(path, "rb") as stream:
            probe.write_bytes(_MAGIC + stream.read(4096)[len(_MAGIC):])
        return not any(p.kind == "header" for p in inspect_file(probe))


def _columns(conn: sqlite3.Connection, table: str) -> list[str]:
    return [row[1] for row in conn.execute(f'PRAGMA table_info("{table}")').fetchall()]


def _copy_table(src: sqlite3.Connection, dest: sqlite3.Connection, table: str) -> tuple[int, list[str]]:
    """Copy the readable rows of ``table``; return (rows copied, lost parts)."""
    names = ", ".join(f'"{c}"' for c in _columns(src, table))
    insert = f'INSERT INTO "{table}" ({names}) VALUES ({", ".join("?" * len(_columns(src, table)))})'
    try:
        src.execute(f'SELECT rowid FROM "{table}" LIMIT 1').fetchall()
    except sqlite3.OperationalError:  # WITHOUT ROWID (the small meta table): all or nothing
        try:
            rows = src.execute(f'SELECT {names} FROM "{table}"').fetchall()
        except sqlite3.DatabaseError as error:
            return 0, [f"table {table}: nothing could be read ({error})"]
        dest.executemany(insert, rows)
        return len(rows), []
    copied, gaps = 0, []  # gaps: [first, last] ids that could not be read (merged)
    last = 0  # the store's ids start at 1
    while True:
        try:
            for row in src.execute(f'SELECT rowid, {names} FROM "{table}" WHERE rowid > ? ORDER BY rowid', (last,)):
                dest.execute(insert, row[1:])
                last, copied = row[0], copied + 1
            break
        except sqlite3.DatabaseError:
            resume = _next_readable(src, table, last)
            end = None if resume is None else resume - 1
            if gaps and gaps[-1][1] is not None and gaps[-1][1] >= last:
                gaps[-1][1] = end  # the read failed again right after a gap: one gap
            else:
                gaps.append([last + 1, end])
            if resume is None:
                break
            last = resume - 1
    return copied, [f"table {table}: {_gap_text(first, end)}" for first, end in gaps]


def _gap_text(first: int, end: int | None) -> str:
    if end is not None:
        return f"rows with ids {first}-{end} could not be read (some ids may be unused)"
    return "no row could be read" if first == 1 else f"the rows after id {first - 1} could not be read"


def _next_readable(src: sqlite3.Connection, table: str, last: int) -> int | None:
    """The first id after ``last`` whose b-tree path can be read (reading from ``last`` failed), or None.

    Ids are probed at doubling distances, then the first readable one is
    found by bisection, so that no readable row is skipped.
    """
    def first_after(x: int) -> int | None:
        row = src.execute(f'SELECT rowid FROM "{table}" WHERE rowid > ? ORDER BY rowid LIMIT 1', (x,)).fetchone()
        return None if row is None else int(row[0])

    low, step = last, 1  # reading after ``low`` fails
    for _ in range(_MAX_PROBES):
        try:
            found = first_after(low + step)
            break
        except sqlite3.DatabaseError:
            low, step = low + step, step * 2
    else:
        return None
    high = low + step  # reading after ``high`` works
    while high - low > 1:
        middle = (low + high) // 2
        try:
            found, high = first_after(middle), middle
        except sqlite3.DatabaseError:
            low = middle
    return found


def salvage(path: str | os.PathLike[str], dest_path: str | os.PathLike[str], *, overwrite: bool = False
            ) -> SalvageReport:
    """Copy every row of a (damaged) database that can be read into a new database.

    The new file has the same schema (tables, indexes, triggers) and schema
    version, and passes SQLite's integrity check; rows that refer to lost
    rows are kept (``lipsym db check`` of the copy lists them).

    Parameters
    ----------
    path : path-like
        The damaged database (only read, through a temporary copy).
    dest_path : path-like
        File to create.
    overwrite : bool
        Replace an existing ``dest_path``.

    Returns
    -------
    SalvageReport

    Raises
    ------
    StoreError
        Nothing could be read (e.g. the header or the schema is destroyed).
    ConflictError
        ``dest_path`` exists and ``overwrite`` is False.
    """
    path = _absolute(path)
    problems = inspect_file(path)
    headless = any(p.kind == "header" for p in problems)
    if headless and not _magic_only(path):
        raise StoreError(f"nothing could be copied from {path}: {problems[0]}")
    repaired = ["the file header's format string (a constant) was rewritten"] if headless else []
    # SQLite silently drops a damaged log's tail: say so, as nothing else would.
    lost = [f"{p.detail}" for p in problems if p.kind == "wal"]
    with _private_copy(path, repair_magic=headless) as src:
        try:
            objects = src.execute("SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL"
                                  " AND name NOT LIKE 'sqlite_%' ORDER BY rowid").fetchall()
            version = int(src.execute("PRAGMA user_version").fetchone()[0])
        except sqlite3.DatabaseError as error:
            raise StoreError(f"nothing could be copied from {path}: its schema cannot be read ({error})") from error
        with tempfile.TemporaryDirectory(prefix="lipsym-salvaged-") as tmp:
            built = Path(tmp) / "salvaged.sqlite3"
            dest = sqlite3.connect(str(built), isolation_level=None)
            try:
                rows_copied = _rebuild(src, dest, objects, version, lost)
                return SalvageReport(dest=backup_connection(dest, path, dest_path, overwrite=overwrite),
                                     rows_copied=rows_copied, lost=tuple(lost), repaired=tuple(repaired))
            finally:
                dest.close()


def _rebuild(src: sqlite3.Connection, dest: sqlite3.Connection, objects: list, version: int,
             lost: list[str]) -> dict[str, int]:
    dest.execute("BEGIN")
    rows_copied = {}
    for kind, name, sql in objects:
        if kind == "table":
            dest.execute(sql)
            rows_copied[name], table_lost = _copy_table(src, dest, name)
            lost += table_lost
    # Indexes after the data: a unique index would refuse nothing here, but
    # building it once is faster than maintaining it row by row.
    for kind, _name, sql in objects:
        if kind != "table":
            dest.execute(sql)
    dest.execute(f"PRAGMA user_version = {version}")
    dest.execute("COMMIT")
    return rows_copied


def restore_database(backup_path: str | os.PathLike[str], db_path: str | os.PathLike[str]) -> Path | None:
    """Replace a database with a verified backup; keep the replaced file.

    The backup must pass :func:`diagnose` (rows referring to lost rows
    are allowed: a salvaged copy has them) and be a lipsym database no newer
    than this lipsym. It is copied next to the database, then renamed over
    it (one atomic step); the replaced file, with its ``-wal``, is kept as
    ``<name>.replaced-<UTC time>``. Stop other lipsym processes using the
    database first: they would go on with the replaced file.

    Returns
    -------
    Path or None
        Where the replaced database is kept (None if there was none).

    Raises
    ------
    StoreError
        The backup is damaged or not a lipsym database.
    """
    backup = _absolute(backup_path)
    db = _absolute(db_path)
    # Dangling references are allowed: a copy salvaged from damage has them,
    # and it may be the best there is ('lipsym db check' lists them).
    problems = [p for p in diagnose(backup) if p.kind != "reference"]
    if problems:
        raise StoreError(f"backup {backup} is damaged, not restored: {problems[0]}")
    with _private_copy(backup, repair_magic=False) as conn:
        version = int(conn.execute("PRAGMA user_version").fetchone()[0])
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if not 0 < version <= SCHEMA_VERSION or "patients" not in tables:
            raise StoreError(f"{backup} is not a lipsym database of schema 1-{SCHEMA_VERSION}; not restored")
        staged = db.with_name(f".{db.name}.{secrets.token_hex(4)}.restore")
        backup_connection(conn, backup, staged)
    kept = None
    try:
        if db.exists():
            stamp = _dt.datetime.now(_dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
            kept = db.with_name(f"{db.name}.replaced-{stamp}")
            try:
                os.link(db, kept)  # the database stays in place until the rename below
            except OSError:  # no hard links on this file system
                shutil.copy2(db, kept)
            for suffix in ("-wal", "-shm"):
                side = Path(f"{db}{suffix}")
                if side.exists():
                    # A log left beside the restored file would be replayed into it.
                    os.replace(side, f"{kept}{suffix}")
        os.replace(staged, db)
    except BaseException:
        remove_leftovers(staged)
        raise
    return kept

