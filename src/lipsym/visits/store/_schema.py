"""Database schema and its versioned migrations.

The schema version is SQLite's ``PRAGMA user_version`` (0 for a new, empty
file). :data:`MIGRATIONS` lists the steps in order; step *n* takes a
database from version *n - 1* to *n*. Opening a store applies the missing
steps in ONE ``BEGIN IMMEDIATE`` transaction, together with the version
bump, so a failed or interrupted migration leaves the file exactly as it
was, and two processes opening a new file at once do not both migrate.

To add migration 3: write ``_v3(conn)`` (statements executed one by one --
``executescript`` would commit the open transaction) and append
``Migration(3, "...", _v3)``. Never edit a released step. A step that must
rebuild a table (SQLite cannot drop a CHECK or change a column) follows the
"12 steps" of https://www.sqlite.org/lang_altertable.html; note that
``PRAGMA foreign_keys`` cannot be switched inside the transaction, so such a
step must keep the foreign keys valid at every statement or use
``PRAGMA defer_foreign_keys = ON``. :func:`migrate` runs
``PRAGMA foreign_key_check`` before committing.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import secrets
import sqlite3
from collections.abc import Callable, Sequence

from lipsym import __version__
from lipsym.errors import StoreError
from lipsym.visits.store._db import write_transaction


@dataclasses.dataclass(frozen=True)
class Migration:
    """One schema step.

    Attributes
    ----------
    version : int
        Schema version after this step.
    description : str
    apply : callable
        ``apply(conn)`` runs the step's statements inside the caller's
        transaction.
    """

    version: int
    description: str
    apply: Callable[[sqlite3.Connection], None]


def _run(conn: sqlite3.Connection, statements: Sequence[str]) -> None:
    for statement in statements:
        conn.execute(statement)


_V1 = (
    # Key/value facts about this database file, e.g. the pseudonymisation key.
    """
    CREATE TABLE meta (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
    ) WITHOUT ROWID
    """,
    # NOCASE: "p001" and "P001" would be two patients otherwise -- a mix-up
    # waiting to happen when codes are typed by hand.
    """
    CREATE TABLE patients (
        id          INTEGER PRIMARY KEY,
        identifier  TEXT    NOT NULL COLLATE NOCASE UNIQUE
                            CHECK (length(identifier) BETWEEN 1 AND 64),
        birth_year  INTEGER CHECK (birth_year IS NULL OR birth_year BETWEEN 1900 AND 2200),
        sex         TEXT    CHECK (sex IS NULL OR sex IN ('female', 'male', 'other')),
        created_at  TEXT    NOT NULL
    )
    """,
    # One visit per patient, date and kind; a same-day baseline and
    # treatment are two visits (photos before and after injection).
    """
    CREATE TABLE visits (
        id          INTEGER PRIMARY KEY,
        patient_id  INTEGER NOT NULL REFERENCES patients(id),
        visit_date  TEXT    NOT NULL CHECK (date(visit_date) IS visit_date),
        kind        TEXT    NOT NULL,
        notes       TEXT,
        created_at  TEXT    NOT NULL,
        UNIQUE (patient_id, visit_date, kind)
    )
    """,
    # Pixels are never stored: only where the photo was and what it was
    # (its hash), so a moved or edited file is recognised.
    """
    CREATE TABLE photos (
        id            INTEGER PRIMARY KEY,
        visit_id      INTEGER NOT NULL REFERENCES visits(id),
        path          TEXT    NOT NULL,
        sha256        TEXT    NOT NULL CHECK (length(sha256) = 64 AND sha256 NOT GLOB '*[^0-9a-f]*'),
        size_bytes    INTEGER NOT NULL CHECK (size_bytes >= 0),
        expression    TEXT    NOT NULL CHECK (expression IN ('rest', 'smile', 'other')),
        capture_date  TEXT    CHECK (capture_date IS NULL OR date(capture_date) IS capture_date),
        width_px      INTEGER CHECK (width_px IS NULL OR width_px > 0),
        height_px     INTEGER CHECK (height_px IS NULL OR height_px > 0),
        created_at    TEXT    NOT NULL,
        UNIQUE (visit_id, sha256)
    )
    """,
    "CREATE INDEX photos_by_sha256 ON photos (sha256)",
    """
    CREATE TABLE analyses (
        id              INTEGER PRIMARY KEY,
        visit_id        INTEGER NOT NULL REFERENCES visits(id),
        rest_photo_id   INTEGER REFERENCES photos(id),
        smile_photo_id  INTEGER REFERENCES photos(id),
        lipsym_version  TEXT    NOT NULL,
        model_sha256    TEXT    CHECK (model_sha256 IS NULL OR length(model_sha256) = 64),
        settings_json   TEXT    NOT NULL,
        settings_hash   TEXT    NOT NULL CHECK (length(settings_hash) = 64),
        result_json     TEXT    NOT NULL,
        created_at      TEXT    NOT NULL,
        CHECK (rest_photo_id IS NOT NULL OR smile_photo_id IS NOT NULL),
        CHECK (rest_photo_id IS NOT smile_photo_id)
    )
    """,
    # UNIQUE treats NULLs as distinct, so the identity of an analysis is an
    # expression index with 0 (never a row id) standing for "no photo".
    """
    CREATE UNIQUE INDEX analyses_identity ON analyses (
        visit_id, ifnull(rest_photo_id, 0), ifnull(smile_photo_id, 0), settings_hash
    )
    """,
    "CREATE INDEX analyses_by_rest_photo ON analyses (rest_photo_id)",
    "CREATE INDEX analyses_by_smile_photo ON analyses (smile_photo_id)",
    """
    CREATE TABLE measures (
        id              INTEGER PRIMARY KEY,
        analysis_id     INTEGER NOT NULL REFERENCES analyses(id) ON DELETE CASCADE,
        name            TEXT    NOT NULL CHECK (length(name) > 0),
        value           REAL    NOT NULL,
        unit            TEXT    NOT NULL CHECK (length(unit) > 0),
        standard_error  REAL    CHECK (standard_error IS NULL OR standard_error >= 0),
        condition       TEXT    NOT NULL CHECK (condition IN ('rest', 'smile', 'dynamic', 'pair')),
        UNIQUE (analysis_id, name, condition)
    )
    """,
    """
    CREATE TABLE treatments (
        id            INTEGER PRIMARY KEY,
        visit_id      INTEGER NOT NULL REFERENCES visits(id),
        product_name  TEXT    NOT NULL CHECK (length(product_name) > 0),
        product_type  TEXT    NOT NULL,
        lot           TEXT,
        dose_value    REAL    NOT NULL CHECK (dose_value > 0),
        dose_unit     TEXT    NOT NULL CHECK (dose_unit IN ('mL', 'U')),
        technique     TEXT,
        injector      TEXT,
        notes         TEXT,
        created_at    TEXT    NOT NULL
    )
    """,
    "CREATE INDEX treatments_by_visit ON treatments (visit_id)",
    """
    CREATE TABLE treatment_sites (
        id            INTEGER PRIMARY KEY,
        treatment_id  INTEGER NOT NULL REFERENCES treatments(id) ON DELETE CASCADE,
        position      INTEGER NOT NULL CHECK (position >= 0),
        region        TEXT    NOT NULL,
        side          TEXT    NOT NULL CHECK (side IN ('right', 'left', 'midline')),
        dose_value    REAL    CHECK (dose_value IS NULL OR dose_value > 0),
        UNIQUE (treatment_id, position)
    )
    """,
)


def _v1(conn: sqlite3.Connection) -> None:
    _run(conn, _V1)
    now = utc_now()
    conn.executemany(
        "INSERT INTO meta (key, value) VALUES (?, ?)",
        [
            # Key of the research-export pseudonyms: random per database, so
            # the same patient code gets unrelated pseudonyms in two clinics'
            # exports, and nobody without this file can recompute them.
            ("pseudonym_key", secrets.token_hex(32)),
            ("created_at", now),
            ("created_by", f"lipsym {__version__}"),
        ],
    )


_V2 = (
    "ALTER TABLE patients ADD COLUMN notes TEXT",
    # Per-measure history ("all commissure asymmetries of P001") scans by name.
    "CREATE INDEX measures_by_name ON measures (name, condition)",
)


def _v2(conn: sqlite3.Connection) -> None:
    _run(conn, _V2)


_V3 = (
    # Soft delete: a deleted row keeps its data until purged; deleting a
    # patient or visit marks what hangs below it with the same time, so a
    # restore brings back exactly what that delete hid.
    *(f"ALTER TABLE {t} ADD COLUMN deleted_at TEXT" for t in ("patients", "visits", "photos", "analyses", "treatments")),
    # Every change of a user-editable row: what, before, after, when.
    """
    CREATE TABLE history (
        id          INTEGER PRIMARY KEY,
        changed_at  TEXT    NOT NULL,
        table_name  TEXT    NOT NULL,
        row_id      INTEGER NOT NULL,
        action      TEXT    NOT NULL CHECK (action IN ('insert', 'edit', 'delete', 'restore', 'purge')),
        before_json TEXT,
        after_json  TEXT
    )
    """,
    "CREATE INDEX history_by_row ON history (table_name, row_id)",
)


def _v3(conn: sqlite3.Connection) -> None:
    _run(conn, _V3)


#: Every schema step, in order. Append; never edit a released step.
MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "initial schema: patients, visits, photos, analyses, measures, treatments", _v1),
    Migration(2, "patients.notes; index of measures by name", _v2),
    Migration(3, "soft delete (deleted_at) and the history of changes", _v3),
)

#: The version this code writes and expects.
SCHEMA_VERSION = MIGRATIONS[-1].version


def utc_now() -> str:
    """Current UTC time as ISO 8601 with milliseconds (``...Z``)."""
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def schema_version(conn: sqlite3.Connection) -> int:
    """Return the database's schema version (``PRAGMA user_version``)."""
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def _check_steps(migrations: Sequence[Migration]) -> None:
    versions = [m.version for m in migrations]
    if versions != list(range(1, len(versions) + 1)):
        raise StoreError(f"migration versions must be 1, 2, ... in order (got {versions})")


def migrate(
    conn: sqlite3.Connection,
    target: int | None = None,
    *,
    migrations: Sequence[Migration] = MIGRATIONS,
) -> int:
    """Bring the database to schema version ``target`` (default: the latest).

    Parameters
    ----------
    conn : sqlite3.Connection
        From :func:`lipsym.visits.store.connect`, not in a transaction.
    target : int, optional
        Version to reach; tests use it to build an old database.
    migrations : sequence of Migration
        The steps (tests substitute their own).

    Returns
    -------
    int
        The schema version after migrating.

    Raises
    ------
    StoreError
        The database is newer than ``target`` (written by a newer lipsym), or
        a step broke a foreign key. Nothing is changed in either case.
    """
    _check_steps(migrations)
    latest = migrations[-1].version if migrations else 0
    target = latest if target is None else target
    if not 0 <= target <= latest:
        raise StoreError(f"no schema version {target}; this lipsym knows versions up to {latest}")
    # Cheap check without the write lock: usually there is nothing to do.
    if schema_version(conn) == target:
        return target
    with write_transaction(conn):
        # Re-read under the lock: another process may have migrated meanwhile.
        current = schema_version(conn)
        if current > target:
            raise StoreError(
                f"database schema version {current} is newer than this lipsym's ({target}); upgrade lipsym"
            )
        if current == 0 and conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]:
            # Version 0 with tables: some other program's database. Adding
            # ours to it would mix health records into a foreign file.
            raise StoreError("the file is an SQLite database but not a lipsym store; choose another path")
        for step in migrations:
            if current < step.version <= target:
                step.apply(conn)
                # user_version is part of the database header, written in
                # this transaction: the bump commits with the step or not at all.
                conn.execute(f"PRAGMA user_version = {int(step.version)}")
        problems = conn.execute("PRAGMA foreign_key_check").fetchall()
        if problems:
            raise StoreError(f"migration to schema version {target} broke {len(problems)} foreign key(s); nothing was changed")
    return target
