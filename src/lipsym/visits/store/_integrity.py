"""Finding damage in a database file, before anything is written to it.

SQLite detects a damaged page only when a statement happens to read it, and
ignores a damaged write-ahead log (it replays the valid part and the rest
is lost for good at the next checkpoint). A store that goes on writing into
such a file spreads the damage and destroys the evidence, so
:meth:`lipsym.visits.store.Store.open` refuses one. Four kinds of damage
are told apart, and one kind of inconsistency, each with a one-line
description naming the file:

``header``
    The first 100 bytes (format string, page size) are not an SQLite
    header: SQLite says "file is not a database".
``truncated``
    The file is shorter than its header says, or ends inside a page.
``wal``
    The ``-wal`` file has a damaged header, or a frame that fails its
    checksum while later frames of the same log are intact: the committed
    transactions after it would be dropped.
``page``
    A b-tree page fails ``PRAGMA quick_check`` (or ``integrity_check``, in
    ``lipsym db check``), or cannot be read at all.
``reference``
    A row refers to a missing row (``PRAGMA foreign_key_check``; only in
    ``lipsym db check``, and typical of a copy salvaged from damage).

The file checks (:func:`inspect_file`) read the raw bytes without SQLite,
because opening a database with SQLite already replays (and later
discards) its log. The page check reads every page: about 0.1 s for a
40 MB store, see ``benchmarks/store_open.py``.
"""

from __future__ import annotations

import os
import re
import sqlite3
import struct
from pathlib import Path

from lipsym.errors import StoreError
from lipsym.visits.store._damage import Damage
from lipsym.visits.store._wal import wal_damage

_MAGIC = b"SQLite format 3\x00"
_HEADER_BYTES = 100

#: The kinds of damage, in the order they are looked for.
KINDS = ("header", "truncated", "wal", "page", "reference")


def _wal_path(path: Path) -> Path:
    return Path(f"{path}-wal")


def _read_header(path: Path, size_bytes: int) -> tuple[list[Damage], int | None]:
    """Damage of the 100-byte header, and the page size it gives (None if unusable)."""
    with open(path, "rb") as stream:
        header = stream.read(_HEADER_BYTES)
    if len(header) < _HEADER_BYTES:
        return [Damage("truncated", f"{path} is {size_bytes} bytes long, shorter than an SQLite header")], None
    page_size = struct.unpack(">H", header[16:18])[0]
    page_size = 65536 if page_size == 1 else page_size
    plausible = page_size >= 512 and not page_size & (page_size - 1) and header[21:24] == b"\x40\x20\x20"
    if header[:16] != _MAGIC:
        if plausible:  # the rest of an SQLite header is there: damage, not another kind of file
            return [Damage("header", f"{path}: the file header is damaged (its SQLite format string)")], None
        return [Damage("header", f"{path} is not a lipsym database, or its header is destroyed"
                                 " (no SQLite header)")], None
    if not plausible:
        return [Damage("header", f"{path}: the file header is damaged (page size {page_size},"
                                 f" payload fractions {tuple(header[21:24])})")], None
    problems = []
    change_counter, page_count = struct.unpack(">II", header[24:32])
    valid_for = struct.unpack(">I", header[92:96])[0]
    # The page count is only kept up to date when valid_for matches.
    if valid_for == change_counter and page_count * page_size > size_bytes:
        problems.append(Damage("truncated", f"{path} is truncated: {size_bytes // page_size} of its"
                                            f" {page_count} pages are there"))
    if size_bytes % page_size:
        problems.append(Damage("truncated", f"{path} is truncated: it ends inside a page ({size_bytes} bytes,"
                                            f" pages of {page_size})"))
    return problems, page_size


def inspect_file(path: str | os.PathLike[str]) -> list[Damage]:
    """Check a database file's header, length and write-ahead log (without SQLite).

    Parameters
    ----------
    path : path-like
        The database file; an absent or empty file has no damage.

    Returns
    -------
    list of Damage
        Empty when none was found (the pages are not read: see
        :func:`check_pages`).
    """
    path = Path(path)
    try:
        size_bytes = path.stat().st_size
    except FileNotFoundError:
        return []
    problems: list[Damage] = []
    if size_bytes:
        problems, _ = _read_header(path, size_bytes)
    wal = wal_damage(_wal_path(path))
    return problems + ([wal] if wal is not None else [])


_TREE = re.compile(r"Tree (\d+) page (\d+)")


def _tree_names(conn: sqlite3.Connection) -> dict[int, str]:
    try:
        rows = conn.execute("SELECT rootpage, type, name FROM sqlite_master WHERE rootpage > 0").fetchall()
    except sqlite3.DatabaseError:
        return {}
    return {int(root): f"{kind} {name}" for root, kind, name in rows}


def check_pages(conn: sqlite3.Connection, path: Path, *, full: bool = False) -> list[Damage]:
    """Read every page with ``PRAGMA quick_check`` (``integrity_check`` if ``full``).

    ``quick_check`` skips the check that indexes match their tables, and
    here also the CHECK constraints of every row, which together make it
    about ten times faster; ``lipsym db check`` runs the full one.

    Returns
    -------
    list of Damage
        Kind ``page``; each names the table or index the page belongs to
        when SQLite's message gives its b-tree.
    """
    pragma = "integrity_check" if full else "quick_check"
    try:
        lines = _run_check(conn, pragma, skip_check_constraints=not full)
    except sqlite3.DatabaseError as error:
        # The check also reads every row (NOT NULL and CHECK constraints), and
        # a page too damaged to read stops it: check table by table to say where.
        return _unreadable_tables(conn, path, pragma, error)
    if lines == ["ok"]:
        return []
    names = _tree_names(conn)
    problems = []
    for line in lines:
        text = " ".join(line.replace("*** in database main ***", "").split())
        match = _TREE.search(text)
        if match and int(match.group(1)) in names:
            text = f"{text} (in {names[int(match.group(1))]})"
        problems.append(Damage("page", f"{path}: {text}"))
    return problems


def check_references(conn: sqlite3.Connection, path: Path) -> list[Damage]:
    """``PRAGMA foreign_key_check``: rows that refer to a missing row (kind ``reference``)."""
    try:
        rows = conn.execute("PRAGMA foreign_key_check").fetchall()
    except sqlite3.DatabaseError as error:
        return [Damage("page", f"{path}: the foreign-key check cannot read the tables ({error})")]
    return [Damage("reference", f"{path}: {table} row {rowid} refers to a missing {parent} row")
            for table, rowid, parent, _ in rows]


def _run_check(conn: sqlite3.Connection, pragma: str, *, skip_check_constraints: bool) -> list[str]:
    if not skip_check_constraints:
        return [row[0] for row in conn.execute(f"PRAGMA {pragma}").fetchall()]
    # Evaluating every CHECK constraint of every row is 4/5 of quick_check's
    # time (measures: 180,000 rows); a row breaking one was written around
    # the store, not damaged by the disk, and 'db check' still looks for it.
    # The pages, b-trees and NOT NULL columns are still all checked.
    conn.execute("PRAGMA ignore_check_constraints = ON")
    try:
        return [row[0] for row in conn.execute(f"PRAGMA {pragma}").fetchall()]
    finally:
        # The store's writes must be checked again from here on.
        conn.execute("PRAGMA ignore_check_constraints = OFF")


def _unreadable_tables(conn: sqlite3.Connection, path: Path, pragma: str, error: sqlite3.DatabaseError
                       ) -> list[Damage]:
    tables = sorted({name.split(" ", 1)[1] for name in _tree_names(conn).values() if name.startswith("table ")})
    problems = []
    for table in tables:
        try:
            lines = _run_check(conn, f'{pragma}("{table}")', skip_check_constraints=pragma == "quick_check")
        except sqlite3.DatabaseError as table_error:
            problems.append(Damage("page", f"{path}: table {table} cannot be read in full ({table_error})"))
            continue
        problems += [Damage("page", f"{path}: table {table}: {line}") for line in lines if line != "ok"]
    return problems or [Damage("page", f"{path}: pages cannot be read ({error})")]


class DamagedDatabaseError(StoreError):
    """The database file is damaged; it was not opened (or not written).

    Attributes
    ----------
    path : Path
    problems : tuple of Damage
        What was found (the message names the first).
    """

    def __init__(self, path: Path, problems: list[Damage], outcome: str = "was not opened") -> None:
        self.path = path
        self.problems = tuple(problems)
        more = f" (and {len(problems) - 1} more problem(s))" if len(problems) > 1 else ""
        super().__init__(f"{problems[0]}{more}; the database is damaged and {outcome}: see"
                         " 'lipsym db check', 'lipsym db backup' and 'lipsym db restore'")


class DamagedPageError(DamagedDatabaseError, sqlite3.DatabaseError):
    """A damaged page met by a statement after the store was opened.

    Also an :class:`sqlite3.DatabaseError`, so that the store's own handling
    of SQLite errors (roll back, report) applies to it unchanged.
    """

    def __init__(self, path: Path, error: sqlite3.DatabaseError) -> None:
        super().__init__(path, [Damage("page", f"{path}: {' '.join(str(error).split())}")],
                         "the operation was stopped")


#: SQLite's primary result codes for a damaged file: SQLITE_CORRUPT, SQLITE_NOTADB.
_DAMAGE_CODES = (11, 26)


def is_damage(error: BaseException) -> bool:
    """True if ``error`` is SQLite reporting a damaged file."""
    code = getattr(error, "sqlite_errorcode", None)  # Python >= 3.11
    if code is not None:
        return code & 0xFF in _DAMAGE_CODES
    return isinstance(error, sqlite3.DatabaseError) and "malformed" in str(error)


def refuse_damaged(path: Path, problems: list[Damage]) -> None:
    """Raise :class:`DamagedDatabaseError` if there are ``problems``."""
    if problems:
        raise DamagedDatabaseError(path, problems)
