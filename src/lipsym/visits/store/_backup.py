"""Consistent copies of a store with SQLite's online backup API.

The copy is taken from one snapshot while other processes may keep writing
(WAL readers do not block writers). It is written to a temporary file next
to the destination, converted to a self-contained single file (rollback
journal, no ``-wal``), checked, and only then renamed into place: an
interrupted backup never leaves a half-written file under the final name.
"""

from __future__ import annotations

import os
import secrets
import sqlite3
from pathlib import Path

from lipsym.errors import ConfigurationError, ConflictError, StoreError
from lipsym.visits.store._db import create_private_file


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def backup_connection(
    source: sqlite3.Connection, source_path: Path, dest_path: str | os.PathLike[str], *, overwrite: bool = False
) -> Path:
    """Copy the database open on ``source`` to ``dest_path``.

    Parameters
    ----------
    source : sqlite3.Connection
        Open connection to the database to copy (not inside a write
        transaction of its own: the copy would miss its uncommitted part).
    source_path : Path
        The database file, to refuse copying it onto itself.
    dest_path : path-like
        File to create.
    overwrite : bool
        Replace an existing ``dest_path``.

    Returns
    -------
    Path
        The absolute destination.

    Raises
    ------
    ConflictError
        ``dest_path`` exists and ``overwrite`` is False, or it is a live
        database (it has a ``-wal`` file).
    ConfigurationError
        ``dest_path`` is the source database or a directory.
    StoreError
        The copy failed its integrity check.
    """
    dest = Path(os.path.abspath(os.path.expanduser(os.fspath(dest_path))))
    if dest.is_dir():
        raise ConfigurationError(f"backup destination {dest} is a directory; give a file name")
    if dest == Path(os.path.abspath(source_path)) or _same_file(dest, Path(source_path)):
        raise ConfigurationError(f"backup destination {dest} is the database itself")
    if dest.exists() and not overwrite:
        raise ConflictError(f"{dest}: exists; not overwriting it (use --force to replace it)")
    if Path(f"{dest}-wal").exists():
        # Renaming a new file under a live WAL would let SQLite replay that
        # stale log into the copy.
        raise ConflictError(f"{dest} is a database in use ({dest.name}-wal exists); choose another file")
    tmp = dest.with_name(f".{dest.name}.{secrets.token_hex(4)}.tmp")
    create_private_file(tmp)
    try:
        target = sqlite3.connect(str(tmp), isolation_level=None)
        try:
            source.backup(target)
            target.execute("PRAGMA journal_mode = DELETE")
            verdict = target.execute("PRAGMA integrity_check").fetchone()[0]
        finally:
            target.close()
        if verdict != "ok":
            raise StoreError(f"backup copy failed its integrity check ({verdict}); {dest} was not written")
        os.replace(tmp, dest)
    except BaseException:
        remove_leftovers(tmp)
        raise
    return dest


def remove_leftovers(tmp: Path) -> None:
    """Delete a temporary database file and its journals, if there."""
    for leftover in (tmp, Path(f"{tmp}-journal"), Path(f"{tmp}-wal"), Path(f"{tmp}-shm")):
        try:
            leftover.unlink()
        except FileNotFoundError:
            pass


def backup_database(
    source_path: str | os.PathLike[str], dest_path: str | os.PathLike[str], *, overwrite: bool = False
) -> Path:
    """Copy the database file ``source_path`` without opening it as a store.

    Unlike :meth:`lipsym.visits.store.Store.backup`, this does not migrate the
    source first: use it to keep a copy of an old database before upgrading.
    """
    source_path = Path(os.path.abspath(os.path.expanduser(os.fspath(source_path))))
    if not source_path.is_file():
        raise ConfigurationError(f"{source_path}: no such database file")
    # Read-only URI: copying must not create or change anything at the source.
    source = sqlite3.connect(f"{source_path.as_uri()}?mode=ro", uri=True, isolation_level=None)
    try:
        return backup_connection(source, source_path, dest_path, overwrite=overwrite)
    except sqlite3.DatabaseError as error:
        raise StoreError(f"{source_path} cannot be copied: {error}") from error
    finally:
        source.close()


def backup_before_migration(path: str | os.PathLike[str]) -> Path | None:
    """Keep a copy of an outdated database before :meth:`Store.open` migrates it.

    The copy is ``<name>.schema<N>.bak`` next to the database (N = its
    current schema version) and is made once: an existing copy is kept, as
    it is the older, truer one.

    Parameters
    ----------
    path : path-like
        The database file (absent, current or newer files are left alone).

    Returns
    -------
    Path or None
        The copy, when one was made now.
    """
    from lipsym.visits.store._schema import SCHEMA_VERSION

    path = Path(os.path.abspath(os.path.expanduser(os.fspath(path))))
    if not path.is_file():
        return None
    try:
        probe = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True, isolation_level=None)
        try:
            version = int(probe.execute("PRAGMA user_version").fetchone()[0])
        finally:
            probe.close()
    except sqlite3.Error:
        return None  # not a database: Store.open says so
    if not 0 < version < SCHEMA_VERSION:
        return None
    dest = path.with_name(f"{path.name}.schema{version}.bak")
    if dest.exists():
        return None
    try:
        return backup_database(path, dest)
    except ConflictError:
        return None  # another process made the copy at the same moment
