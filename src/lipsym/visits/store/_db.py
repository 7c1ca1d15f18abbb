"""SQLite connections and transactions for several concurrent writers.

Batch workers write to one database file at once, so the connection is set
up for that:

* WAL journal: readers never block the writer and vice versa; a crash
  leaves the database consistent.
* ``busy_timeout``: a writer that finds the database locked waits (up to
  :data:`BUSY_TIMEOUT_S`) instead of failing at once.
* ``BEGIN IMMEDIATE`` for every write transaction: the write lock is taken
  up front, so two writers never both read, then both try to upgrade to a
  write (the upgrade of the second fails with SQLITE_BUSY without waiting).
* A retry loop around ``BEGIN``/``COMMIT`` and the journal-mode switch, for
  the few cases where SQLite reports SQLITE_BUSY without calling the busy
  handler (e.g. WAL recovery by another process).

The connection is in autocommit mode (``isolation_level=None``): the
:mod:`sqlite3` module's implicit transactions are off and every transaction
is explicit.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import random
import sqlite3
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

from lipsym.errors import StoreError
from lipsym.visits.store._integrity import DamagedPageError, is_damage

#: How long one statement waits for another process' lock, in seconds.
BUSY_TIMEOUT_S = 30.0
#: Total time the retry loop keeps trying, in seconds.
RETRY_DEADLINE_S = 120.0

_SQLITE_BUSY = 5
_SQLITE_LOCKED = 6

T = TypeVar("T")
_savepoint_ids = itertools.count()


def is_busy(error: BaseException) -> bool:
    """Return True if ``error`` is SQLite's "database is locked/busy"."""
    if not isinstance(error, sqlite3.OperationalError):
        return False
    code = getattr(error, "sqlite_errorcode", None)  # Python >= 3.11
    if code is not None:
        # Extended codes (SQLITE_BUSY_SNAPSHOT, ...) carry the primary code in the low byte.
        return code & 0xFF in (_SQLITE_BUSY, _SQLITE_LOCKED)
    message = str(error).lower()
    return "locked" in message or "busy" in message


def retry_busy(operation: Callable[[], T], *, deadline_s: float = RETRY_DEADLINE_S) -> T:
    """Run ``operation``, retrying while SQLite reports the database busy.

    Parameters
    ----------
    operation : callable
        Must be safe to repeat (BEGIN, COMMIT, a PRAGMA): a statement that
        failed with SQLITE_BUSY had no effect.
    deadline_s : float
        Give up (re-raising as :class:`StoreError`) after this many seconds.

    Returns
    -------
    object
        What ``operation`` returned.
    """
    start = time.monotonic()
    delay_s = 0.005
    while True:
        try:
            return operation()
        except sqlite3.OperationalError as error:
            if not is_busy(error):
                raise
            if time.monotonic() - start > deadline_s:
                raise StoreError(f"database stayed locked for more than {deadline_s:.0f} s; is another lipsym stuck?") from error
            # Jitter so that workers that collided do not collide again in step.
            time.sleep(delay_s * (0.5 + random.random()))
            delay_s = min(delay_s * 2, 0.5)


def connect(path: Path, *, busy_timeout_s: float = BUSY_TIMEOUT_S) -> sqlite3.Connection:
    """Open ``path`` with the store's settings (WAL, foreign keys, busy timeout).

    Parameters
    ----------
    path : Path
        Database file; created (empty) if absent.
    busy_timeout_s : float
        Wait for other processes' locks this long per statement.

    Returns
    -------
    sqlite3.Connection
        In autocommit mode, rows as :class:`sqlite3.Row`.

    Raises
    ------
    StoreError
        The file is not an SQLite database, or WAL mode could not be enabled.
    """
    try:
        conn = sqlite3.connect(str(path), timeout=busy_timeout_s, isolation_level=None, factory=_Connection)
    except sqlite3.Error as error:
        raise StoreError(f"cannot open database {path}: {error}") from error
    try:
        conn.row_factory = sqlite3.Row
        conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_s * 1000)}")
        conn.execute("PRAGMA foreign_keys = ON")
        # Sorts and temporary indexes in memory: no temporary files next to
        # (or away from) the database, which holds health data.
        conn.execute("PRAGMA temp_store = MEMORY")
        # FULL: a committed visit record survives a power cut, not only a
        # crash of the process. The cost is irrelevant at clinic write rates.
        conn.execute("PRAGMA synchronous = FULL")
        mode = retry_busy(lambda: conn.execute("PRAGMA journal_mode = WAL").fetchone()[0])
        if str(mode).lower() != "wal":
            raise StoreError(f"cannot use WAL journal mode for {path} (got {mode!r}); use a file on a local disk")
    except sqlite3.OperationalError as error:
        conn.close()
        raise StoreError(f"cannot use database {path}: {error}") from error
    except sqlite3.DatabaseError as error:
        # "file is not a database": something else lives at this path.
        conn.close()
        raise StoreError(f"{path} is not a lipsym database ({error})") from error
    except BaseException:
        conn.close()
        raise
    return conn


def _database_file(conn: sqlite3.Connection) -> str:
    try:
        return str(conn.execute("PRAGMA database_list").fetchone()[2]) or "the database"
    except sqlite3.Error:
        return "the database"


def _as_store_error(error: sqlite3.Error, conn: sqlite3.Connection) -> StoreError:
    # Constraint violations the validation missed, a read-only file, a full
    # disk: the caller gets a typed, one-line error naming the file, not a
    # raw sqlite3 one. (A damaged page already is a StoreError: _Cursor.)
    if isinstance(error, StoreError):
        return error
    message = " ".join(str(error).split())
    return StoreError(f"database error in {_database_file(conn)}: {message}")


class _Cursor(sqlite3.Cursor):
    """A cursor whose "database disk image is malformed" is a one-line :class:`DamagedPageError`.

    Damage met after the open-time check (a page that went bad since, or
    an open with ``check=False``) then reaches the user as one line naming
    the file, from reads as well as writes.
    """

    def _typed(self, operation, *args):
        try:
            return operation(*args)
        except sqlite3.DatabaseError as error:
            if is_damage(error) and not isinstance(error, DamagedPageError):
                raise DamagedPageError(Path(_database_file(self.connection)), error) from error
            raise

    def execute(self, *args):
        return self._typed(super().execute, *args)

    def executemany(self, *args):
        return self._typed(super().executemany, *args)

    def fetchone(self):
        return self._typed(super().fetchone)

    def fetchall(self):
        return self._typed(super().fetchall)

    def __next__(self):
        return self._typed(super().__next__)


class _Connection(sqlite3.Connection):
    def cursor(self, factory=_Cursor):
        return super().cursor(factory)

    # sqlite3.Connection.execute does not go through cursor(): route it there.
    def execute(self, *args):
        return self.cursor().execute(*args)

    def executemany(self, *args):
        return self.cursor().executemany(*args)


@contextlib.contextmanager
def write_transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """Run the block in a write transaction; roll it back if the block raises.

    Outside a transaction this is ``BEGIN IMMEDIATE ... COMMIT``. Inside one
    (the caller grouped several operations) it is a SAVEPOINT, so a failing
    operation still undoes exactly its own changes and the outer transaction
    can go on or roll back as the caller decides. :class:`sqlite3.Error` is
    re-raised as :class:`StoreError`.
    """
    if conn.in_transaction:
        name = f"lipsym_sp_{next(_savepoint_ids)}"
        conn.execute(f"SAVEPOINT {name}")
        try:
            yield conn
        except BaseException as error:
            conn.execute(f"ROLLBACK TO {name}")
            conn.execute(f"RELEASE {name}")
            if isinstance(error, sqlite3.Error):
                raise _as_store_error(error, conn) from error
            raise
        conn.execute(f"RELEASE {name}")
        return
    try:
        retry_busy(lambda: conn.execute("BEGIN IMMEDIATE"))
    except sqlite3.Error as error:
        raise _as_store_error(error, conn) from error
    try:
        yield conn
        retry_busy(lambda: conn.execute("COMMIT"))
    except BaseException as error:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        if isinstance(error, sqlite3.Error):
            raise _as_store_error(error, conn) from error
        raise


@contextlib.contextmanager
def read_transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """Run the block's reads on one consistent snapshot (WAL readers do not block)."""
    if conn.in_transaction:
        yield conn
        return
    conn.execute("BEGIN DEFERRED")
    try:
        yield conn
    finally:
        if conn.in_transaction:
            conn.execute("COMMIT")


def create_private_file(path: Path) -> None:
    """Create ``path`` empty, readable by the owner only, unless it exists.

    SQLite would create the file with the process umask (often world
    readable); the database holds health data. The WAL and shm files take
    the main file's permissions.
    """
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    os.close(fd)
